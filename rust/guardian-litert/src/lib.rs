//! Guardian's runtime binding: runs the int8 TFLite models through the **LiteRT 2.1.4 C API**
//! (`libLiteRt.so`) on the CPU accelerator (XNNPACK).
//!
//! - [`LiteRtLibrary`] loads `libLiteRt.so` at run time (`dlopen`, through `libloading`), so a
//!   phone app can supply its own copy; [`LiteRtLibrary::locate`] finds the host copy fetched
//!   by `scripts/fetch_litert.sh` (`.cache/litert/libLiteRt.so`) or the one named by
//!   `GUARDIAN_LITERT_LIB`.
//! - [`LiteRtScorer`] implements [`guardian_core::Scorer`] for one model of the model card,
//!   validated against the card before the first window.
//!
//! The C API is bound by hand (a few dozen functions) and pinned to 2.1.4: from 2.1.6 on,
//! `LiteRtCreateModelFromFile` / `LiteRtCreateModelFromBuffer` take an extra
//! `LiteRtEnvironment` first argument, so a library of another version is refused at load
//! ([`RuntimeError::VersionMismatch`]) rather than called with the wrong signature.
//!
//! ```no_run
//! use guardian_core::{ModelCard, Scorer};
//! use guardian_litert::{LiteRtLibrary, LiteRtScorer};
//!
//! let card = ModelCard::from_json(&std::fs::read_to_string("models/model_card.json")?)?;
//! let lib = LiteRtLibrary::locate()?;
//! let spec = &card.models.full;
//! let mut scorer = LiteRtScorer::from_file(
//!     &lib, format!("models/{}", spec.file), spec, card.window_frames)?;
//! let q = scorer.score(&vec![0i8; scorer.input_len()])?;
//! let p = (f32::from(q) - scorer.output_quant().zero_point as f32) * scorer.output_quant().scale;
//! # let _ = p;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(clippy::undocumented_unsafe_blocks)]

mod card_check;
mod compile;
mod error;
mod ffi;
mod library;
mod model;
mod model_bytes;
mod scorer;
mod tflite_check;

pub use error::{format_paths, RuntimeError, HOW_TO_GET_LIBRARY};
pub use library::{
    cache_candidates, open_library, LiteRtLibrary, OpenError, CACHE_RELATIVE_PATH, LIBRARY_ENV_VAR,
    PINNED_LITERT_VERSION,
};
pub use model_bytes::{check_tflite_model, MIN_MODEL_BYTES, TFLITE_IDENTIFIER};
pub use scorer::{LiteRtScorer, ScorerOptions};

// Shared with the classic TensorFlow Lite backend (`guardian-tflite`), so that both backends
// check a model against its card in one way: the card-spec, checksum, flatbuffer and tensor
// checks, the aligned model bytes a runtime reads in place, the C++ exception guard, and the
// element-type numbering both C APIs share.
pub use card_check::{
    check_model_bytes, check_tensor, sha256_hex, ExpectedModel, FoundQuant, OUTPUT_SHAPE,
    SCALE_RELATIVE_TOLERANCE,
};
pub use ffi::{element_type_name, guard, ELEMENT_TYPE_INT8};
pub use model_bytes::AlignedBytes;
