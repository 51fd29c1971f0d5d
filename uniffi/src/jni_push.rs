//! A JNI fast path for pushes, beside the UniFFI API (Android and the host JVM).
//!
//! A UniFFI method called through JNA costs 10-20 us of fixed work per call plus garbage for the
//! collector (measured by the Kotlin benchmark), which puts a day of 1 s sensor batches at
//! 3-4 s of CPU. This path is one plain JNI call: `dev.guardian.NativePush.pushPacked(id,
//! buffer, length)` with a direct `ByteBuffer` in the packed layout. The detector is found by
//! an id from [`FallDetector::fast_path_id`], in a registry of weak references, so a stale id
//! is an error, never a dangling pointer.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use jni::objects::{JByteBuffer, JClass};
use jni::sys::{jint, jlong};
use jni::JNIEnv;

use crate::{FallDetector, GuardianError};

type Registry = Mutex<HashMap<i64, Weak<FallDetector>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Registers `detector` and returns its id (ids are never reused).
pub(crate) fn register(detector: &Arc<FallDetector>) -> i64 {
    static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut r = registry().lock().unwrap_or_else(|p| p.into_inner());
    r.retain(|_, w| w.strong_count() > 0);
    r.insert(id, Arc::downgrade(detector));
    id
}

/// Forgets `id` (the detector is being dropped).
pub(crate) fn unregister(id: i64) {
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
}

fn lookup(id: i64) -> Option<Arc<FallDetector>> {
    let r = registry().lock().unwrap_or_else(|p| p.into_inner());
    r.get(&id).and_then(Weak::upgrade)
}

/// The JavaVM that loaded this library with `System.load`/`loadLibrary`, if one did.
static LOADED_VM: OnceLock<usize> = OnceLock::new();

/// The JavaVM from [`JNI_OnLoad`].
pub(crate) fn loaded_vm() -> Option<*mut jni::sys::JavaVM> {
    LOADED_VM.get().map(|&p| p as *mut jni::sys::JavaVM)
}

/// Called by the JVM when `System.loadLibrary("guardian_ffi")` loads this library: keeps the
/// JavaVM so the delivery thread can attach to it on every Android version.
#[no_mangle]
pub extern "system" fn JNI_OnLoad(
    vm: *mut jni::sys::JavaVM,
    _reserved: *mut std::ffi::c_void,
) -> jni::sys::jint {
    if !vm.is_null() {
        let _ = LOADED_VM.set(vm as usize);
    }
    jni::sys::JNI_VERSION_1_6
}

/// `dev.guardian.NativePush.pushPacked(long id, ByteBuffer buffer, int length)`: pushes the
/// first `length` bytes of a direct buffer. Throws the matching
/// `dev.guardian.ffi.GuardianException` subclass on error.
#[no_mangle]
pub extern "system" fn Java_dev_guardian_NativePush_pushPacked<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    id: jlong,
    buffer: JByteBuffer<'local>,
    length: jint,
) {
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| push(&env, id, &buffer, length)))
        .unwrap_or_else(|_| Err(GuardianError::Internal("a panic in the push".into())));
    if let Err(e) = result {
        let class = format!("dev/guardian/ffi/GuardianException${}", variant_name(&e));
        if env.throw_new(&class, e.to_string()).is_err() {
            let _ = env.exception_clear();
            let _ = env.throw_new("java/lang/IllegalStateException", e.to_string());
        }
    }
}

fn push(
    env: &JNIEnv<'_>,
    id: jlong,
    buffer: &JByteBuffer<'_>,
    length: jint,
) -> Result<(), GuardianError> {
    let detector = lookup(id).ok_or(GuardianError::NotRunning)?;
    let invalid = |m: &str| GuardianError::InvalidBatch(m.to_owned());
    let address = env
        .get_direct_buffer_address(buffer)
        .map_err(|_| invalid("the buffer is not a direct ByteBuffer"))?;
    let capacity = env
        .get_direct_buffer_capacity(buffer)
        .map_err(|_| invalid("the buffer is not a direct ByteBuffer"))?;
    let length = usize::try_from(length).map_err(|_| invalid("negative length"))?;
    if address.is_null() || length > capacity {
        return Err(invalid("length beyond the buffer's capacity"));
    }
    // SAFETY: a direct buffer's memory is valid for `capacity` bytes while the buffer object is
    // reachable, which it is (a local reference) for the duration of this call; Java code may
    // not write it concurrently (the caller owns the batch).
    let bytes = unsafe { std::slice::from_raw_parts(address.cast_const(), length) };
    detector.push_packed(bytes)
}

fn variant_name(e: &GuardianError) -> &'static str {
    match e {
        GuardianError::RuntimeLibraryMissing(_) => "RuntimeLibraryMissing",
        GuardianError::ModelInvalid(_) => "ModelInvalid",
        GuardianError::CardInvalid(_) => "CardInvalid",
        GuardianError::ConfigInvalid(_) => "ConfigInvalid",
        GuardianError::InvalidBatch(_) => "InvalidBatch",
        GuardianError::NotRunning => "NotRunning",
        GuardianError::AlreadyRunning => "AlreadyRunning",
        GuardianError::Journal(_) => "Journal",
        GuardianError::Model(_) => "Model",
        GuardianError::Internal(_) => "Internal",
    }
}
