//! Guardian's alert journal: every fall alert, its outcome and its acknowledgement, appended to
//! one file and fsync'd before the host is told, so an alert survives process death.
//!
//! Format: a sequence of records `[len: u32 LE][crc32: u32 LE][len bytes of JSON]`. On open, a
//! record cut short at the end of the file (a torn tail: the process died mid-write) is
//! dropped and the file truncated to the last whole record; a bad record followed by more data
//! is corruption: the file is set aside (renamed) and a new journal started, so a damaged
//! journal never stops monitoring. The file is rewritten (compacted) to the pending alerts and
//! the last [`HISTORY_LEN`] others once it holds [`COMPACT_AFTER_RECORDS`] records.
//!
//! One journal directory belongs to one detector at a time.

mod crash;

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crash::crash_point;

/// The journal's file name inside its directory.
pub const FILE_NAME: &str = "guardian-alerts.journal";
/// Alerts that are acknowledged but kept for the history.
pub const HISTORY_LEN: usize = 100;
/// Records after which the file is compacted.
pub const COMPACT_AFTER_RECORDS: usize = 512;
/// Largest record accepted, bytes of JSON.
pub const MAX_RECORD_BYTES: u32 = 16 << 10;
const HEADER_BYTES: usize = 8;

/// A fall alert as journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id, unique within the journal.
    pub id: String,
    /// Impact instant, ns (sensor clock).
    pub impact_t_ns: i64,
    /// Instant the alert was raised, ns (sensor clock).
    pub confirmed_t_ns: i64,
    /// Model score in [0, 1].
    pub score: f32,
    /// Peak |a| at the impact, g.
    pub peak_g: f32,
    /// Which model raised it (`"full"` or `"acc_only"`).
    pub model: String,
}

/// How an alert ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The user answered "I'm OK".
    Cancelled,
    /// Nobody answered within the cancel window.
    EscalatedByTimeout,
    /// The user asked for help.
    EscalatedByUser,
}

/// An alert with what has happened to it so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The alert.
    pub alert: Alert,
    /// Its outcome and when (ns, sensor clock), once known.
    pub outcome: Option<(Outcome, i64)>,
    /// The host confirmed it handled the alert; it is not delivered again.
    pub acknowledged: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum Record {
    Raised {
        alert: Alert,
    },
    Outcome {
        id: String,
        outcome: Outcome,
        t_ns: i64,
    },
    Acknowledged {
        id: String,
    },
}

/// Why the journal failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file operation failed.
    #[error("alert journal {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
}

/// What opening found besides the alerts.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct OpenReport {
    /// Bytes of a torn last record that were dropped.
    pub torn_tail_bytes: u64,
    /// Where a corrupt journal was moved, and why it was judged corrupt.
    pub set_aside: Option<(PathBuf, String)>,
}

/// The open journal.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    /// `None`: an in-memory journal ([`Journal::in_memory`]).
    file: Option<File>,
    entries: Vec<Entry>,
    records: usize,
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, creating `dir` if needed.
    pub fn open(dir: &Path) -> Result<(Self, OpenReport), JournalError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| JournalError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(FILE_NAME);
        let mut report = OpenReport::default();
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes).map_err(io(&path))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
        let parsed = parse(&bytes);
        let (records, good_len) = match parsed {
            Parsed::Whole { records, good_len } => (records, good_len),
            Parsed::Corrupt { reason } => {
                let aside = dir.join(format!("{FILE_NAME}.corrupt-{}", unix_ms()));
                std::fs::rename(&path, &aside).map_err(io(&path))?;
                log::error!(
                    "alert journal {} is corrupt ({reason}); set aside as {}",
                    path.display(),
                    aside.display()
                );
                report.set_aside = Some((aside, reason));
                (Vec::new(), 0)
            }
        };
        report.torn_tail_bytes = (bytes.len() - good_len.min(bytes.len())) as u64;
        if report.set_aside.is_some() {
            report.torn_tail_bytes = 0;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        if report.torn_tail_bytes > 0 {
            log::warn!(
                "alert journal {}: dropped a torn last record ({} bytes)",
                path.display(),
                report.torn_tail_bytes
            );
            file.set_len(good_len as u64).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
        }
        file.seek(SeekFrom::End(0)).map_err(io(&path))?;
        sync_dir(dir).map_err(io(dir))?;
        let mut journal = Self {
            dir: dir.to_path_buf(),
            file: Some(file),
            entries: Vec::new(),
            records: records.len(),
        };
        for r in records {
            journal.apply(r);
        }
        Ok((journal, report))
    }

    /// A journal that keeps alerts in memory only, for hosts that configured no directory:
    /// the same rules, nothing survives the process.
    pub fn in_memory() -> Self {
        Self {
            dir: PathBuf::new(),
            file: None,
            entries: Vec::new(),
            records: 0,
        }
    }

    /// Appends a new alert and makes it durable (fsync) before returning.
    pub fn raise(&mut self, alert: Alert) -> Result<(), JournalError> {
        self.append(Record::Raised { alert })
    }

    /// Records how alert `id` ended (durable before returning).
    pub fn record_outcome(
        &mut self,
        id: &str,
        outcome: Outcome,
        t_ns: i64,
    ) -> Result<(), JournalError> {
        self.append(Record::Outcome {
            id: id.to_owned(),
            outcome,
            t_ns,
        })
    }

    /// Marks alert `id` handled by the host: it is no longer delivered again. Returns whether
    /// an unacknowledged alert had that id.
    pub fn acknowledge(&mut self, id: &str) -> Result<bool, JournalError> {
        if !self
            .entries
            .iter()
            .any(|e| e.alert.id == id && !e.acknowledged)
        {
            return Ok(false);
        }
        self.append(Record::Acknowledged { id: id.to_owned() })?;
        Ok(true)
    }

    /// Alerts not acknowledged yet, oldest first.
    pub fn pending(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.acknowledged)
    }

    /// Every alert the journal holds (pending ones and the last acknowledged), oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether an alert has this id.
    pub fn contains(&self, id: &str) -> bool {
        self.entries.iter().any(|e| e.alert.id == id)
    }

    fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    fn append(&mut self, record: Record) -> Result<(), JournalError> {
        let path = self.path();
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        if let Some(file) = &mut self.file {
            file.write_all(&encode(&record)).map_err(io)?;
            crash_point("journal.after_write");
            file.sync_data().map_err(io)?;
            crash_point("journal.after_fsync");
        }
        self.records += 1;
        self.apply(record);
        if self.records >= COMPACT_AFTER_RECORDS && self.file.is_some() {
            self.compact()?;
        }
        Ok(())
    }

    fn apply(&mut self, record: Record) {
        match record {
            Record::Raised { alert } => {
                if !self.contains(&alert.id) {
                    self.entries.push(Entry {
                        alert,
                        outcome: None,
                        acknowledged: false,
                    });
                }
            }
            Record::Outcome { id, outcome, t_ns } => {
                if let Some(e) = self.entries.iter_mut().find(|e| e.alert.id == id) {
                    e.outcome = Some((outcome, t_ns));
                }
            }
            Record::Acknowledged { id } => {
                if let Some(e) = self.entries.iter_mut().find(|e| e.alert.id == id) {
                    e.acknowledged = true;
                }
            }
        }
        self.trim_history();
    }

    /// Keeps every pending alert and the newest [`HISTORY_LEN`] acknowledged ones.
    fn trim_history(&mut self) {
        let acknowledged = self.entries.iter().filter(|e| e.acknowledged).count();
        let mut excess = acknowledged.saturating_sub(HISTORY_LEN);
        self.entries.retain(|e| {
            let drop = excess > 0 && e.acknowledged;
            excess -= usize::from(drop);
            !drop
        });
    }

    /// Rewrites the file with only what [`Self::entries`] holds: a new file is written and
    /// fsync'd, then renamed over the old one, so a crash leaves one or the other whole.
    fn compact(&mut self) -> Result<(), JournalError> {
        let path = self.path();
        let tmp = self.dir.join(format!("{FILE_NAME}.tmp"));
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| JournalError::Io { path: p, source }
        };
        let mut out = Vec::new();
        let mut records = 0;
        for e in &self.entries {
            out.extend(encode(&Record::Raised {
                alert: e.alert.clone(),
            }));
            records += 1;
            if let Some((outcome, t_ns)) = e.outcome {
                out.extend(encode(&Record::Outcome {
                    id: e.alert.id.clone(),
                    outcome,
                    t_ns,
                }));
                records += 1;
            }
            if e.acknowledged {
                out.extend(encode(&Record::Acknowledged {
                    id: e.alert.id.clone(),
                }));
                records += 1;
            }
        }
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&out).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        sync_dir(&self.dir).map_err(io(&self.dir))?;
        f.seek(SeekFrom::End(0)).map_err(io(&path))?;
        self.file = Some(f);
        self.records = records;
        Ok(())
    }
}

enum Parsed {
    Whole {
        records: Vec<Record>,
        good_len: usize,
    },
    Corrupt {
        reason: String,
    },
}

/// Reads records until the end, a torn tail, or corruption.
///
/// A torn tail is what a process killed mid-append leaves: a prefix of the last record, or a
/// last record whose bytes did not all reach the disk (checksum mismatch, or zeros where the
/// file was extended first). Anything else that fails is corruption.
fn parse(bytes: &[u8]) -> Parsed {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let torn = rest.len() < HEADER_BYTES || rest.iter().all(|&b| b == 0);
        if torn {
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        let end = HEADER_BYTES + len as usize;
        let failure = if len > MAX_RECORD_BYTES {
            "a record length beyond the limit"
        } else if rest.len() < end {
            break;
        } else if crc32fast::hash(&rest[HEADER_BYTES..end]) != crc {
            if rest.len() == end {
                break;
            }
            "a record checksum mismatch"
        } else {
            match serde_json::from_slice::<Record>(&rest[HEADER_BYTES..end]) {
                Ok(r) => {
                    records.push(r);
                    at += end;
                    continue;
                }
                Err(_) => "a record that does not parse",
            }
        };
        return Parsed::Corrupt {
            reason: format!("{failure} at byte {at} of {}", bytes.len()),
        };
    }
    Parsed::Whole {
        records,
        good_len: at,
    }
}

fn encode(record: &Record) -> Vec<u8> {
    // Serializing these plain structs cannot fail.
    let payload = serde_json::to_vec(record).unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER_BYTES + payload.len());
    out.extend((payload.len() as u32).to_le_bytes());
    out.extend(crc32fast::hash(&payload).to_le_bytes());
    out.extend(payload);
    out
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
