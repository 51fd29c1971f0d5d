//! The crate's error type.

use std::path::PathBuf;

use guardian_core::{QuantParams, ScoreError};

use crate::ffi::{Handle, Status, STATUS_OK};
use crate::library::{pinned_litert_version, PINNED_LITERT_VERSION};

/// How to obtain the runtime library; part of every "library not found" message.
pub const HOW_TO_GET_LIBRARY: &str = concat!(
    "get libLiteRt.so (LiteRT ",
    pinned_litert_version!(),
    ") with `make litert` or `scripts/fetch_litert.sh` (it lands in \
     .cache/litert/libLiteRt.so), or set GUARDIAN_LITERT_LIB=/path/to/libLiteRt.so"
);

/// Everything that can go wrong while loading LiteRT, loading and validating a model, or
/// running it. Nothing in this crate panics or aborts on bad input: it returns one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No `libLiteRt.so` at any of the places searched (see `LiteRtLibrary::locate`).
    #[error("LiteRT runtime library not found (tried: {}); {HOW_TO_GET_LIBRARY}", format_paths(.tried))]
    LibraryNotFound {
        /// Every candidate that was tried, in order.
        tried: Vec<PathBuf>,
    },

    /// A library file exists but the dynamic loader refused it (wrong architecture, missing
    /// dependency, not a shared object, ...).
    #[error("cannot load LiteRT runtime library {path}: {reason}; {HOW_TO_GET_LIBRARY}")]
    LibraryLoad {
        /// The file.
        path: PathBuf,
        /// The dynamic loader's message.
        reason: String,
    },

    /// The library does not export a C function this binding calls.
    #[error(
        "{path} does not export {symbol}: not a LiteRT {PINNED_LITERT_VERSION} C API library; {HOW_TO_GET_LIBRARY}"
    )]
    MissingSymbol {
        /// The library file.
        path: PathBuf,
        /// The missing function.
        symbol: &'static str,
    },

    /// The library is a LiteRT of another version, whose C API differs from the pinned 2.1.4
    /// (calling it through the 2.1.4 prototypes would be undefined behaviour).
    #[error("{path} is not LiteRT {PINNED_LITERT_VERSION}: {reason}; {HOW_TO_GET_LIBRARY}")]
    VersionMismatch {
        /// The library file.
        path: PathBuf,
        /// What the symbol fingerprint showed.
        reason: String,
    },

    /// The model file could not be read.
    #[error("cannot read model {path}: {source}")]
    ModelIo {
        /// The model file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The model's SHA-256 is not the one its card states: a damaged or different file.
    /// Checked before LiteRT sees the bytes.
    #[error("model checksum mismatch: the card says sha256 {expected}, the file has {found}")]
    ChecksumMismatch {
        /// SHA-256 the card states (hex).
        expected: String,
        /// SHA-256 of the bytes given (hex).
        found: String,
    },

    /// The bytes are not a usable TFLite model: rejected by the pre-check (size, `TFL3`
    /// identifier, flatbuffer cross-references) or by LiteRT's loader. `status` is LiteRT's
    /// `LiteRtStatus` code, or `None` when the pre-check rejected the bytes before LiteRT saw
    /// them or LiteRT threw a C++ exception (caught, see `reason`).
    #[error("corrupt or invalid model: {reason}{}", fmt_status(*.status))]
    CorruptModel {
        /// LiteRT's status code, if LiteRT reported the failure.
        status: Option<i32>,
        /// What is wrong.
        reason: String,
    },

    /// The model card's spec is inconsistent with itself or with `window_frames` (checked
    /// before the model is looked at).
    #[error("invalid model spec: {0}")]
    InvalidSpec(String),

    /// The model does not have exactly one signature with exactly one input and one output.
    #[error("model signature mismatch: expected {expected}, found {found}")]
    SignatureMismatch {
        /// What the card implies.
        expected: String,
        /// What the model has.
        found: String,
    },

    /// A model tensor's shape differs from the card's.
    #[error("{tensor} tensor shape mismatch: expected {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// `"input"` or `"output"`.
        tensor: &'static str,
        /// Shape from the card, e.g. `[1, 100, 1, 8]`.
        expected: Vec<usize>,
        /// Shape in the model (negative entries are dynamic dimensions).
        found: Vec<i64>,
    },

    /// A model tensor's element type differs from the card's (Guardian needs `int8`).
    #[error("{tensor} tensor type mismatch: expected {expected}, found {found}")]
    TypeMismatch {
        /// `"input"` or `"output"`.
        tensor: &'static str,
        /// Type from the card.
        expected: String,
        /// Type in the model.
        found: String,
    },

    /// A model tensor is not per-tensor quantized, or its scale / zero point differ from the
    /// card's (scale compared with a relative tolerance of 1e-6, zero point exactly).
    #[error("{tensor} tensor quantization mismatch: card says {expected:?}, model has {found}")]
    QuantMismatch {
        /// `"input"` or `"output"`.
        tensor: &'static str,
        /// Parameters from the card.
        expected: QuantParams,
        /// What the model has (parameters, or the kind of quantization).
        found: String,
    },

    /// The window handed to `invoke_raw` / `score` has the wrong number of values.
    #[error("input length mismatch: expected {expected} int8 values, got {found}")]
    InputLength {
        /// `window_frames * channels`.
        expected: usize,
        /// What was passed.
        found: usize,
    },

    /// LiteRT could not compile the model for the CPU accelerator.
    #[error("LiteRT could not compile the model: {reason}{}", fmt_status(*.status))]
    Compile {
        /// LiteRT's status code (`None`: LiteRT threw a C++ exception, see `reason`).
        status: Option<i32>,
        /// Context.
        reason: String,
    },

    /// Running the model failed.
    #[error("LiteRT invoke failed: {reason}{}", fmt_status(*.status))]
    Invoke {
        /// LiteRT's status code (`None`: LiteRT threw a C++ exception, see `reason`).
        status: Option<i32>,
        /// Context.
        reason: String,
    },

    /// Any other LiteRT call failed (environment, options, tensor buffers).
    #[error("{call} failed{}", fmt_status(Some(*.status)))]
    LiteRt {
        /// The C function that failed.
        call: &'static str,
        /// LiteRT's status code.
        status: i32,
    },

    /// A LiteRT call reported success but returned a null pointer where it promised an object
    /// (a model, signature, tensor, compiled model, buffer or locked buffer address).
    #[error("{call} reported success but returned a null pointer")]
    NullPointer {
        /// The C function.
        call: &'static str,
    },
}

/// Paths tried, for "not found" messages: comma-separated, or `nothing`.
pub fn format_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nothing".to_owned();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Ok` for `kLiteRtStatusOk`, else [`RuntimeError::LiteRt`] naming `call`.
pub(crate) fn check(status: Status, call: &'static str) -> Result<(), RuntimeError> {
    if status == STATUS_OK {
        Ok(())
    } else {
        Err(RuntimeError::LiteRt { call, status })
    }
}

/// `handle`, or [`RuntimeError::NullPointer`] if `call` reported success and returned null.
pub(crate) fn non_null(handle: Handle, call: &'static str) -> Result<Handle, RuntimeError> {
    if handle.is_null() {
        Err(RuntimeError::NullPointer { call })
    } else {
        Ok(handle)
    }
}

fn fmt_status(status: Option<i32>) -> String {
    match status {
        Some(s) => format!(" (LiteRT status {s}: {})", crate::ffi::status_name(s)),
        None => String::new(),
    }
}

impl From<RuntimeError> for ScoreError {
    /// Keeps the kind: a wrong window length stays one; everything else is the runtime's failure
    /// with LiteRT's status code where it gave one.
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::InputLength { expected, found } => {
                ScoreError::InputLength { expected, found }
            }
            RuntimeError::Invoke { status, .. } | RuntimeError::Compile { status, .. } => {
                ScoreError::Runtime {
                    status,
                    reason: e.to_string(),
                }
            }
            RuntimeError::LiteRt { status, .. } => ScoreError::Runtime {
                status: Some(status),
                reason: e.to_string(),
            },
            other => ScoreError::Runtime {
                status: None,
                reason: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_messages_name_the_pinned_version() {
        let want = format!("LiteRT {PINNED_LITERT_VERSION}");
        assert!(HOW_TO_GET_LIBRARY.contains(&want), "{HOW_TO_GET_LIBRARY}");
        let wrong = RuntimeError::VersionMismatch {
            path: "x.so".into(),
            reason: "r".into(),
        };
        assert!(wrong
            .to_string()
            .starts_with(&format!("x.so is not {want}: r; ")));
    }

    #[test]
    fn a_null_pointer_is_its_own_error_not_status_ok() {
        let e = RuntimeError::NullPointer {
            call: "LiteRtLockTensorBuffer",
        };
        assert_eq!(
            e.to_string(),
            "LiteRtLockTensorBuffer reported success but returned a null pointer"
        );
        let score = ScoreError::from(e);
        assert!(
            matches!(score, ScoreError::Runtime { status: None, .. }),
            "{score:?}"
        );
        assert!(!score.to_string().contains("kLiteRtStatusOk"), "{score}");
    }
}
