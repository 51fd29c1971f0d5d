//! Guardian's phone runtime backend: runs the int8 TFLite models through the **classic
//! TensorFlow Lite C API** (`TfLiteModel`, `TfLiteInterpreter`, the XNNPACK delegate), the API
//! phones actually have:
//!
//! - Android: `libtensorflowlite_jni.so` from the TensorFlow Lite AAR
//!   (`org.tensorflow:tensorflow-lite`) or the LiteRT AAR (`com.google.ai.edge.litert:litert`),
//!   opened at run time (`dlopen`, through `libloading`) by [`ClassicLibrary::locate`] or
//!   [`ClassicLibrary::load`];
//! - iOS: `TensorFlowLiteC`, linked at the app's link time (cargo feature `static`,
//!   [`ClassicLibrary::linked`]);
//! - a Linux host (tests): the `libtensorflowlite_c.so` (TF 2.6.0) fetched by
//!   `scripts/fetch_tflite_classic.sh` into `.cache/tflite-classic/`.
//!
//! [`ClassicScorer`] implements [`guardian_core::Scorer`] and validates the model against the
//! model card with the same checks as the LiteRT backend (`guardian_litert`'s card, checksum,
//! flatbuffer and tensor checks), so both refuse the same models with the same errors.
//!
//! ```no_run
//! use guardian_core::{ModelCard, Scorer};
//! use guardian_tflite::{ClassicLibrary, ClassicScorer};
//!
//! let card = ModelCard::from_json(&std::fs::read_to_string("models/model_card.json")?)?;
//! let lib = ClassicLibrary::locate()?;
//! let spec = &card.models.full;
//! let mut scorer = ClassicScorer::from_file(
//!     &lib, format!("models/{}", spec.file), spec, card.window_frames)?;
//! let q = scorer.score(&vec![0i8; scorer.input_len()])?;
//! # let _ = q;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(clippy::undocumented_unsafe_blocks)]

mod error;
mod ffi;
mod library;
mod scorer;

pub use error::{ClassicError, HOW_TO_GET_LIBRARY};
pub use library::{default_library_name, ClassicLibrary, CACHE_RELATIVE_PATH, LIBRARY_ENV_VAR};
pub use scorer::{ClassicScorer, NUM_THREADS};
