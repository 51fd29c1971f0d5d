//! Guardian's app-facing facade. One Rust definition, exported with UniFFI proc-macros, from
//! which the Kotlin (`dev.guardian.ffi`) and Swift (`Guardian`) APIs are generated.
//!
//! The facade owns what the pure crates must not: the lock around the engine, the delivery
//! thread that calls the app's listener, the alert journal on disk, unit conversion at the
//! boundary, and the mapping of every failure to one typed error ([`GuardianError`]). Nothing
//! here panics across the FFI boundary: UniFFI turns a panic into an exception, and the code
//! avoids them (no `unwrap`, poisoned locks are recovered).

mod delivery;
mod detector;
mod error;
#[cfg(all(unix, not(target_os = "ios")))]
mod jni_push;
mod logging;
mod packed;
mod types;

pub use delivery::GuardianListener;
pub use detector::FallDetector;
pub use error::{GuardianError, ListenerError};
pub use packed::{PACKED_HEADER_BYTES, PACKED_RECORD_BYTES};
pub use types::*;

uniffi::setup_scaffolding!("guardian");

/// Bytes of a packed batch holding `acc_count` accelerometer and `gyro_count` gyroscope
/// samples (see [`FallDetector::push_packed`]).
#[uniffi::export]
pub fn packed_batch_size(acc_count: u32, gyro_count: u32) -> u64 {
    packed::size(acc_count, gyro_count)
}

/// Converts a CoreMotion timestamp (`CMLogItem.timestamp`, seconds since boot) to the
/// nanoseconds the detector takes, rounded to the nearest ns. Both sensors must use it, so
/// they share one clock. Errors: not finite, negative, or beyond 2^62 ns (about 146 years).
#[uniffi::export]
pub fn seconds_to_ns(seconds: f64) -> Result<i64, GuardianError> {
    packed::seconds_to_ns(seconds)
}
