//! Owning, aligned storage for model bytes, and the cheap pre-check done before LiteRT sees them.

use crate::error::RuntimeError;

/// Smallest byte count accepted as a model. A flatbuffer needs 8 bytes for its root offset and
/// file identifier; any real TFLite model (schema version, subgraph, tensors, buffers) is far
/// larger, so anything this short is rejected without asking LiteRT.
pub const MIN_MODEL_BYTES: usize = 64;

/// The TFLite flatbuffer file identifier, at byte offset 4.
pub const TFLITE_IDENTIFIER: &[u8; 4] = b"TFL3";

/// The pre-check run on model bytes before LiteRT sees them: [`check_header`] (size, `TFL3`
/// identifier, root offset), then a structural check of the flatbuffer's cross-references
/// (see `tflite_check`), which LiteRT 2.1.4 would otherwise follow unchecked and answer with
/// an uncatchable C++ exception. Errors are [`RuntimeError::CorruptModel`] with
/// `status: None`.
pub fn check_tflite_model(bytes: &[u8]) -> Result<(), RuntimeError> {
    check_header(bytes)?;
    crate::tflite_check::check(bytes)
}

/// Rejects obvious garbage: too short, no `TFL3` identifier at offset 4, or a root table
/// offset (little-endian `u32` at offset 0) pointing outside the bytes.
fn check_header(bytes: &[u8]) -> Result<(), RuntimeError> {
    let corrupt = |reason: String| RuntimeError::CorruptModel {
        status: None,
        reason,
    };
    if bytes.len() < MIN_MODEL_BYTES {
        return Err(corrupt(format!(
            "{} bytes is too short for a TFLite model (at least {MIN_MODEL_BYTES})",
            bytes.len()
        )));
    }
    if &bytes[4..8] != TFLITE_IDENTIFIER {
        return Err(corrupt(format!(
            "no TFLite identifier \"TFL3\" at offset 4 (found {:02x?})",
            &bytes[4..8]
        )));
    }
    let root = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    if root < 8 || root >= bytes.len() {
        return Err(corrupt(format!(
            "flatbuffer root offset {root} is outside the {} model bytes",
            bytes.len()
        )));
    }
    Ok(())
}

/// One 64-byte, 64-byte-aligned block (a cache line; more than any alignment XNNPACK or the
/// flatbuffer reader asks of in-place weights).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([u8; 64]);

/// A copy of the model bytes in 64-byte-aligned memory that never moves while it lives (a
/// runtime reading the model in place, without copying it, keeps pointers into it).
pub struct AlignedBytes {
    blocks: Box<[Block]>,
    len: usize,
}

impl AlignedBytes {
    /// Copies `bytes`.
    pub fn copy_from(bytes: &[u8]) -> Self {
        let mut blocks = vec![Block([0; 64]); bytes.len().div_ceil(64)].into_boxed_slice();
        for (block, chunk) in blocks.iter_mut().zip(bytes.chunks(64)) {
            block.0[..chunk.len()].copy_from_slice(chunk);
        }
        AlignedBytes {
            blocks,
            len: bytes.len(),
        }
    }

    /// The first byte; 64-byte aligned, valid for [`Self::len`] bytes while `self` lives.
    pub fn as_ptr(&self) -> *const u8 {
        self.blocks.as_ptr().cast()
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_copy_keeps_bytes() {
        let bytes: Vec<u8> = (0..200u8).collect();
        let a = AlignedBytes::copy_from(&bytes);
        assert_eq!(a.len(), 200);
        assert_eq!(a.as_ptr() as usize % 64, 0);
        // SAFETY: `a` holds at least `len` initialised bytes.
        let back = unsafe { std::slice::from_raw_parts(a.as_ptr(), a.len()) };
        assert_eq!(back, &bytes[..]);
    }

    #[test]
    fn header_check() {
        let mut ok = vec![0u8; 100];
        ok[0] = 16;
        ok[4..8].copy_from_slice(b"TFL3");
        assert!(check_header(&ok).is_ok());
        assert!(check_header(&ok[..10]).is_err());
        assert!(check_header(&[]).is_err());
        let mut bad_id = ok.clone();
        bad_id[4] = b'X';
        assert!(check_header(&bad_id).is_err());
        let mut bad_root = ok.clone();
        bad_root[0..4].copy_from_slice(&1000u32.to_le_bytes());
        assert!(check_header(&bad_root).is_err());
    }
}
