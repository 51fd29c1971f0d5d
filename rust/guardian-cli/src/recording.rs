//! Guardian's recording format: CSV rows `t_ns,sensor,x,y,z`.
//!
//! `sensor` is `acc` (m/s^2, gravity included) or `gyro` (rad/s), Android device frame; rows of
//! both sensors interleave in arrival order; `#` starts a comment line; an optional header line
//! exactly `t_ns,sensor,x,y,z` may come before the first data row (after comments). Lines end
//! in LF or CRLF and hold at most [`MAX_LINE_BYTES`]; a leading UTF-8 BOM is skipped. Values
//! are parsed as f64 and stored as f32.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context;

use guardian_core::{Sample, Sensor};

/// Why a recording could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// A row is not `t_ns,sensor,x,y,z`.
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Most samples in one batch [`RecordingReader::next_batch`] returns.
pub const MAX_BATCH: usize = 512;
/// Longest line accepted, bytes with its line end (a data row needs under 100).
pub const MAX_LINE_BYTES: usize = 4096;
/// The header line, when there is one.
pub const HEADER: &[u8] = b"t_ns,sensor,x,y,z";
/// Most bytes of a field quoted in an error message.
const QUOTED_BYTES: usize = 40;

/// Reads a recording as batches of consecutive same-sensor rows (like a phone's batches).
#[derive(Debug)]
pub struct RecordingReader<R> {
    input: R,
    line: Vec<u8>,
    line_no: u64,
    pending: Option<(Sensor, Sample)>,
    /// Rows read ahead ([`RecordingReader::read_ahead`]), returned before new ones.
    ahead: VecDeque<(Sensor, Sample)>,
    bytes_read: u64,
    /// Whether a header or data row was read (the header may only come first).
    seen_row: bool,
}

impl<R: BufRead> RecordingReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        Self {
            input,
            line: Vec::with_capacity(128),
            line_no: 0,
            pending: None,
            ahead: VecDeque::new(),
            seen_row: false,
            bytes_read: 0,
        }
    }

    /// Bytes consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Fills `batch` (cleared first) with the next run of rows of one sensor and returns that
    /// sensor, or `None` at the end of input.
    pub fn next_batch(
        &mut self,
        batch: &mut Vec<Sample>,
    ) -> Result<Option<Sensor>, RecordingError> {
        batch.clear();
        let mut sensor = None;
        if let Some((s, sample)) = self.pending.take() {
            sensor = Some(s);
            batch.push(sample);
        }
        while batch.len() < MAX_BATCH {
            let Some((s, sample)) = self.next_row()? else {
                break;
            };
            match sensor {
                None => sensor = Some(s),
                Some(cur) if cur != s => {
                    self.pending = Some((s, sample));
                    break;
                }
                Some(_) => {}
            }
            batch.push(sample);
        }
        Ok(sensor)
    }

    /// Reads up to `max_rows` rows ahead, stopping after the first row for which `stop` is
    /// true; later calls return them first. Returns every row held so far, oldest first.
    pub fn read_ahead(
        &mut self,
        max_rows: usize,
        mut stop: impl FnMut(Sensor, &Sample) -> bool,
    ) -> Result<&VecDeque<(Sensor, Sample)>, RecordingError> {
        while self.ahead.len() < max_rows {
            let Some(row) = self.read_row()? else {
                break;
            };
            self.ahead.push_back(row);
            if stop(row.0, &row.1) {
                break;
            }
        }
        Ok(&self.ahead)
    }

    /// The next data row, skipping comments, blank lines and the header.
    pub fn next_row(&mut self) -> Result<Option<(Sensor, Sample)>, RecordingError> {
        match self.ahead.pop_front() {
            Some(row) => Ok(Some(row)),
            None => self.read_row(),
        }
    }

    fn read_row(&mut self) -> Result<Option<(Sensor, Sample)>, RecordingError> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            let malformed = |line, reason: String| RecordingError::Malformed { line, reason };
            let mut text: &[u8] = &self.line;
            if self.line_no == 1 {
                text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            }
            while let [rest @ .., b'\n' | b'\r'] = text {
                text = rest;
            }
            if text.contains(&b'\r') {
                return Err(malformed(self.line_no, CR_ONLY.into()));
            }
            if text.is_empty() || text[0] == b'#' {
                continue;
            }
            if !self.seen_row && text.starts_with(b"t_ns") {
                self.seen_row = true;
                if text == HEADER {
                    continue;
                }
                return Err(malformed(
                    self.line_no,
                    format!(
                        "header `{}` is not exactly `t_ns,sensor,x,y,z`",
                        quoted(text)
                    ),
                ));
            }
            self.seen_row = true;
            if let Some(row) = parse_row_fast(text) {
                return Ok(Some(row));
            }
            return parse_row(text)
                .map(Some)
                .map_err(|reason| malformed(self.line_no, reason));
        }
    }

    /// Reads the next line into `self.line`, refusing one longer than [`MAX_LINE_BYTES`].
    /// Returns false at the end of input.
    fn read_line(&mut self) -> Result<bool, RecordingError> {
        self.line.clear();
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let (n, end) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if self.line.len() + n > MAX_LINE_BYTES {
                let cr = buf[..n].contains(&b'\r') || self.line.contains(&b'\r');
                let reason = if cr {
                    CR_ONLY.into()
                } else {
                    format!("longer than {MAX_LINE_BYTES} bytes (a row is `t_ns,sensor,x,y,z`)")
                };
                return Err(RecordingError::Malformed {
                    line: self.line_no + 1,
                    reason,
                });
            }
            self.line.extend_from_slice(&buf[..n]);
            self.input.consume(n);
            if end {
                break;
            }
        }
        if self.line.is_empty() {
            return Ok(false);
        }
        self.bytes_read += self.line.len() as u64;
        self.line_no += 1;
        Ok(true)
    }
}

const CR_ONLY: &str =
    "carriage return inside a line: CR-only line endings are not supported, use LF or CRLF";

/// `bytes` for an error message: control characters and non-ASCII escaped, at most
/// [`QUOTED_BYTES`] of them.
fn quoted(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTED_BYTES)];
    let more = if cut.len() < bytes.len() { "..." } else { "" };
    format!("{}{more}", cut.escape_ascii())
}

/// Opens a recording file, refusing a directory by name (reading one fails without the path).
pub fn open(path: &Path) -> anyhow::Result<File> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        anyhow::bail!("cannot read {}: it is a directory", path.display());
    }
    Ok(file)
}

/// One pass over a well-formed row (no spaces); `None` sends the row to [`parse_row`], which
/// accepts spaces around numbers and explains what is wrong.
fn parse_row_fast(text: &[u8]) -> Option<(Sensor, Sample)> {
    let comma = text.iter().position(|&b| b == b',')?;
    let t_ns = parse_i64(&text[..comma])?;
    let rest = &text[comma + 1..];
    let (sensor, mut rest) = if let Some(r) = rest.strip_prefix(b"acc,") {
        (Sensor::Acc, r)
    } else {
        (Sensor::Gyro, rest.strip_prefix(b"gyro,")?)
    };
    let mut v = [0f32; 3];
    for (i, slot) in v.iter_mut().enumerate() {
        let (x, n) = fast_float2::parse_partial::<f64, _>(rest).ok()?;
        *slot = x as f32;
        rest = &rest[n..];
        if i < 2 {
            rest = rest.strip_prefix(b",")?;
        }
    }
    rest.is_empty()
        .then_some((sensor, Sample::new(t_ns, v[0], v[1], v[2])))
}

const FIELDS: [&str; 5] = ["t_ns", "sensor", "x", "y", "z"];

fn parse_row(text: &[u8]) -> Result<(Sensor, Sample), String> {
    let mut fields: [&[u8]; 5] = [&[]; 5];
    let mut n = 0;
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b',' {
            if n == 4 {
                return Err("more than 5 fields (expected t_ns,sensor,x,y,z)".into());
            }
            fields[n] = &text[start..i];
            n += 1;
            start = i + 1;
        }
    }
    if n < 4 {
        return Err(format!("missing field `{}`", FIELDS[n + 1]));
    }
    fields[4] = &text[start..];
    let [t, sensor, x, y, z] = fields;
    let t_ns = parse_i64(t.trim_ascii()).ok_or_else(|| {
        let digits = match t.trim_ascii() {
            [b'-' | b'+', rest @ ..] => rest,
            other => other,
        };
        if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
            format!(
                "t_ns `{}` is out of range (a signed 64-bit ns count)",
                quoted(t)
            )
        } else {
            format!("t_ns `{}` is not an integer", quoted(t))
        }
    })?;
    let sensor = match sensor {
        b"acc" => Sensor::Acc,
        b"gyro" => Sensor::Gyro,
        other => {
            return Err(format!(
                "sensor `{}` is neither `acc` nor `gyro`",
                quoted(other)
            ))
        }
    };
    let value = |f: &[u8], name: &str| -> Result<f32, String> {
        fast_float2::parse::<f64, _>(f.trim_ascii())
            .map(|v| v as f32)
            .map_err(|_| format!("{name} `{}` is not a number", quoted(f)))
    };
    Ok((
        sensor,
        Sample::new(t_ns, value(x, "x")?, value(y, "y")?, value(z, "z")?),
    ))
}

/// A decimal integer with an optional sign; `None` on anything else or on overflow.
fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Writes both streams as one recording, rows merged in timestamp order.
pub fn write_recording(
    out: &mut impl Write,
    acc: &[Sample],
    gyro: &[Sample],
) -> std::io::Result<()> {
    writeln!(out, "t_ns,sensor,x,y,z")?;
    let (mut i, mut j) = (0, 0);
    while i < acc.len() || j < gyro.len() {
        let take_acc = j >= gyro.len() || (i < acc.len() && acc[i].t_ns <= gyro[j].t_ns);
        let (name, s) = if take_acc {
            i += 1;
            ("acc", acc[i - 1])
        } else {
            j += 1;
            ("gyro", gyro[j - 1])
        };
        writeln!(out, "{},{},{},{},{}", s.t_ns, name, s.x, s.y, s.z)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Result<Vec<(Sensor, Vec<Sample>)>, RecordingError> {
        let mut r = RecordingReader::new(text.as_bytes());
        let mut out = Vec::new();
        let mut batch = Vec::new();
        while let Some(s) = r.next_batch(&mut batch)? {
            out.push((s, batch.clone()));
        }
        Ok(out)
    }

    #[test]
    fn reads_batches_comments_header_and_nan() {
        let text = "# phone A\nt_ns,sensor,x,y,z\n# more\n1,acc,0,0,9.8\n2,acc,0.5,-1e-3,nan\n3,gyro,0,0,1\r\n\n4,acc,1,2,3\n";
        let b = read_all(text).expect("valid");
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].0, Sensor::Acc);
        assert_eq!(b[0].1.len(), 2);
        assert!(b[0].1[1].z.is_nan());
        assert_eq!(b[1].0, Sensor::Gyro);
        assert_eq!(b[2].1[0].t_ns, 4);
    }

    #[test]
    fn malformed_rows_name_their_line() {
        for (text, line, what) in [
            ("1,acc,0,0,9.8\n2,acc,0,0\n", 2, "missing field `z`"),
            ("# c\n1,mag,0,0,0\n", 2, "neither"),
            ("x,acc,0,0,0\n", 1, "not an integer"),
            ("1,acc,0,zero,0\n", 1, "y `zero`"),
            ("1,acc,0,0,0,7\n", 1, "more than 5"),
            ("99999999999999999999,acc,0,0,0\n", 1, "out of range"),
            ("-9223372036854775809,acc,0,0,0\n", 1, "out of range"),
            (
                "9223372036854775807,acc,0,0,0\n1e3,acc,0,0,0\n",
                2,
                "not an integer",
            ),
            ("t_ns,sensor,x,y,z,GARBAGE\n1,acc,0,0,0\n", 1, "not exactly"),
            ("t_ns;sensor;x;y;z\n", 1, "not exactly"),
            (
                "t_ns,sensor,x,y,z\r1,acc,0,0,9.8\r2,acc,0,0,9.8\r",
                1,
                "CR-only",
            ),
            ("1,acc,0,0,9.8\n2,acc\x1b[2J,0,0,9.8\n", 2, "acc\\x1b[2J"),
            ("-,acc,0,0,0\n", 1, "not an integer"),
        ] {
            let err = read_all(text).expect_err(text);
            let msg = err.to_string();
            assert!(msg.starts_with(&format!("line {line}:")), "{msg}");
            assert!(msg.contains(what), "{msg}");
        }
    }

    #[test]
    fn a_bom_is_skipped_and_crlf_is_read() {
        let b = read_all("\u{feff}t_ns,sensor,x,y,z\r\n1,acc,0,0,9.8\r\n").expect("valid");
        assert_eq!(b[0].1, vec![Sample::new(1, 0.0, 0.0, 9.8)]);
        let b = read_all("\u{feff}1,gyro,0,0,1\n").expect("valid");
        assert_eq!(b[0].0, Sensor::Gyro);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_with_its_number() {
        let long = format!("1,acc,0,0,9.8\n2,acc,0,0,{}\n", "9".repeat(MAX_LINE_BYTES));
        let msg = read_all(&long).expect_err("long").to_string();
        assert!(
            msg.starts_with("line 2:") && msg.contains("longer than 4096"),
            "{msg}"
        );
        // CR-only line endings make one long line: said so, not "too long".
        let cr = "1,acc,0,0,9.8\r".repeat(1000);
        let msg = read_all(&cr).expect_err("cr").to_string();
        assert!(
            msg.starts_with("line 1:") && msg.contains("CR-only"),
            "{msg}"
        );
        // Exactly at the limit is fine.
        let row = "1,acc,0,0,9.8";
        let fits = format!("{row}{}\n", " ".repeat(MAX_LINE_BYTES - row.len() - 1));
        assert_eq!(read_all(&fits).expect("fits").len(), 1);
    }

    #[test]
    fn rows_read_ahead_come_back_first_in_order() {
        let text = "1,acc,0,0,1\n2,acc,0,0,2\n3,gyro,0,0,3\n4,acc,0,0,4\n";
        let mut r = RecordingReader::new(text.as_bytes());
        let held = r.read_ahead(10, |s, _| s == Sensor::Gyro).expect("read");
        assert_eq!(held.len(), 3);
        let mut batch = Vec::new();
        let mut seen = Vec::new();
        while let Some(s) = r.next_batch(&mut batch).expect("read") {
            seen.extend(batch.iter().map(|x| (s, x.t_ns)));
        }
        use Sensor::{Acc, Gyro};
        assert_eq!(seen, vec![(Acc, 1), (Acc, 2), (Gyro, 3), (Acc, 4)]);
    }

    #[test]
    fn write_then_read_round_trips() {
        let acc = [
            Sample::new(10, 1.0, 2.0, 3.0),
            Sample::new(30, 0.1, 0.2, 0.3),
        ];
        let gyro = [Sample::new(20, -1.0, 0.0, 1.5)];
        let mut buf = Vec::new();
        write_recording(&mut buf, &acc, &gyro).expect("write");
        let text = String::from_utf8(buf).expect("utf8");
        let b = read_all(&text).expect("read");
        assert_eq!(b.len(), 3);
        assert_eq!(b[1].1[0], gyro[0]);
        assert_eq!(b[2].1[0], acc[1]);
    }
}
