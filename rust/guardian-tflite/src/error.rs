//! The crate's error type.

use std::path::PathBuf;

use guardian_core::ScoreError;
use guardian_litert::RuntimeError;

/// How to obtain the classic library; part of every "library not found" message.
pub const HOW_TO_GET_LIBRARY: &str = "on Android, add the TensorFlow Lite / LiteRT AAR \
     (it ships libtensorflowlite_jni.so); on iOS, link TensorFlowLiteC and build with the \
     `static` feature; on a Linux host, get libtensorflowlite_c.so with \
     `scripts/fetch_tflite_classic.sh` (it lands in .cache/tflite-classic/) or set \
     GUARDIAN_TFLITE_LIB=/path/to/libtensorflowlite_c.so";

/// Everything that can go wrong while loading the classic TensorFlow Lite library, loading
/// and validating a model, or running it. Nothing in this crate panics or aborts on bad input.
///
/// The checks of the model against its card are shared with the LiteRT backend and keep its
/// error type: [`ClassicError::Model`] holds the same [`RuntimeError`] (`ChecksumMismatch`,
/// `CorruptModel`, `InvalidSpec`, `SignatureMismatch`, `ShapeMismatch`, `TypeMismatch`,
/// `QuantMismatch`) that `LiteRtScorer` returns for the same model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassicError {
    /// No classic library at any of the places searched (see `ClassicLibrary::locate`).
    #[error("TensorFlow Lite C library not found (tried: {}); {HOW_TO_GET_LIBRARY}", guardian_litert::format_paths(.tried))]
    LibraryNotFound {
        /// Every candidate that was tried, in order.
        tried: Vec<PathBuf>,
    },

    /// A library file exists but the dynamic loader refused it.
    #[error("cannot load TensorFlow Lite C library {path}: {reason}; {HOW_TO_GET_LIBRARY}")]
    LibraryLoad {
        /// The file.
        path: PathBuf,
        /// The dynamic loader's message.
        reason: String,
    },

    /// The library does not export a function of the classic C API this crate calls.
    #[error("{path} does not export {symbol}: not a TensorFlow Lite C API library with the XNNPACK delegate; {HOW_TO_GET_LIBRARY}")]
    MissingSymbol {
        /// The library file.
        path: PathBuf,
        /// The missing function.
        symbol: &'static str,
    },

    /// `TfLiteVersion()` is not a 2.x version (the C API this crate binds).
    #[error("{path} reports TensorFlow Lite version {version:?}; Guardian's classic backend needs 2.x; {HOW_TO_GET_LIBRARY}")]
    UnsupportedVersion {
        /// The library file (or how it was linked).
        path: PathBuf,
        /// What `TfLiteVersion()` returned.
        version: String,
    },

    /// The model failed a check against its card (shared with the LiteRT backend), or
    /// TensorFlow Lite's own flatbuffer verifier refused it (`CorruptModel`).
    #[error(transparent)]
    Model(#[from] RuntimeError),

    /// TensorFlow Lite could not build or prepare an interpreter for the model (an operator it
    /// does not support, the XNNPACK delegate failing, out of memory, ...).
    #[error("TensorFlow Lite could not prepare the model: {call} failed{}", fmt_status(*.status))]
    Interpreter {
        /// The C function that failed.
        call: &'static str,
        /// Its status code (`None`: it returned a null pointer, or threw; see `call`).
        status: Option<i32>,
    },

    /// Running the model failed.
    #[error("TensorFlow Lite invoke failed: {reason}{}", fmt_status(*.status))]
    Invoke {
        /// Status code of the failing call (`None`: a caught C++ exception, see `reason`).
        status: Option<i32>,
        /// Context.
        reason: String,
    },

    /// A TensorFlow Lite call threw a C++ exception (caught).
    #[error("TensorFlow Lite threw a C++ exception while {during}: {what}")]
    Exception {
        /// What was being done.
        during: &'static str,
        /// The exception's `what()`.
        what: String,
    },
}

impl ClassicError {
    /// Whether the error is about the runtime library (missing, unloadable, wrong) rather than
    /// the model or a run: what a host should answer by shipping the library, not a model.
    pub fn is_library_error(&self) -> bool {
        matches!(
            self,
            ClassicError::LibraryNotFound { .. }
                | ClassicError::LibraryLoad { .. }
                | ClassicError::MissingSymbol { .. }
                | ClassicError::UnsupportedVersion { .. }
        )
    }
}

fn fmt_status(status: Option<i32>) -> String {
    match status {
        Some(s) => format!(" (TfLiteStatus {s}: {})", crate::ffi::status_name(s)),
        None => String::new(),
    }
}

/// The exception text of `guardian_litert::guard`, without its LiteRT-specific prefix.
pub(crate) fn exception(during: &'static str, what: String) -> ClassicError {
    let what = what
        .strip_prefix("LiteRT threw a C++ exception: ")
        .map(str::to_owned)
        .unwrap_or(what);
    ClassicError::Exception { during, what }
}

impl From<ClassicError> for ScoreError {
    /// Keeps the kind: a wrong window length stays one; everything else is the runtime's failure
    /// with TensorFlow Lite's status code where it gave one.
    fn from(e: ClassicError) -> Self {
        match e {
            ClassicError::Model(RuntimeError::InputLength { expected, found }) => {
                ScoreError::InputLength { expected, found }
            }
            ClassicError::Invoke { status, .. } => ScoreError::Runtime {
                status,
                reason: e.to_string(),
            },
            other => ScoreError::Runtime {
                status: None,
                reason: other.to_string(),
            },
        }
    }
}
