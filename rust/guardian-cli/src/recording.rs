//! Guardian's recording format: CSV rows `t_ns,sensor,x,y,z`.
//!
//! `sensor` is `acc` (m/s^2, gravity included) or `gyro` (rad/s), Android device frame; rows of
//! both sensors interleave in arrival order; `#` starts a comment line; an optional header line
//! `t_ns,sensor,x,y,z` may come before the first data row (after comments). Values are parsed as f64 and stored as f32.

use std::io::{BufRead, Write};

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
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
}

/// Most samples in one batch [`RecordingReader::next_batch`] returns.
pub const MAX_BATCH: usize = 512;

/// Reads a recording as batches of consecutive same-sensor rows (like a phone's batches).
#[derive(Debug)]
pub struct RecordingReader<R> {
    input: R,
    line: Vec<u8>,
    line_no: u64,
    pending: Option<(Sensor, Sample)>,
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

    /// The next data row, skipping comments, blank lines and the header.
    pub fn next_row(&mut self) -> Result<Option<(Sensor, Sample)>, RecordingError> {
        loop {
            self.line.clear();
            let n = self.input.read_until(b'\n', &mut self.line)?;
            if n == 0 {
                return Ok(None);
            }
            self.bytes_read += n as u64;
            self.line_no += 1;
            let mut text: &[u8] = &self.line;
            while let [rest @ .., b'\n' | b'\r'] = text {
                text = rest;
            }
            if text.is_empty() || text[0] == b'#' {
                continue;
            }
            if !self.seen_row && text.starts_with(b"t_ns,") {
                self.seen_row = true;
                continue;
            }
            self.seen_row = true;
            if let Some(row) = parse_row_fast(text) {
                return Ok(Some(row));
            }
            return parse_row(text)
                .map(Some)
                .map_err(|reason| RecordingError::Malformed {
                    line: self.line_no,
                    reason,
                });
        }
    }
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
    let t_ns = parse_i64(t.trim_ascii())
        .ok_or_else(|| format!("t_ns `{}` is not an integer", String::from_utf8_lossy(t)))?;
    let sensor = match sensor {
        b"acc" => Sensor::Acc,
        b"gyro" => Sensor::Gyro,
        other => {
            return Err(format!(
                "sensor `{}` is neither `acc` nor `gyro`",
                String::from_utf8_lossy(other)
            ))
        }
    };
    let value = |f: &[u8], name: &str| -> Result<f32, String> {
        fast_float2::parse::<f64, _>(f.trim_ascii())
            .map(|v| v as f32)
            .map_err(|_| format!("{name} `{}` is not a number", String::from_utf8_lossy(f)))
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
            ("99999999999999999999,acc,0,0,0\n", 1, "not an integer"),
            ("-,acc,0,0,0\n", 1, "not an integer"),
        ] {
            let err = read_all(text).expect_err(text);
            let msg = err.to_string();
            assert!(msg.starts_with(&format!("line {line}:")), "{msg}");
            assert!(msg.contains(what), "{msg}");
        }
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
