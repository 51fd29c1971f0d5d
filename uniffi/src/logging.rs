//! Logging through the `log` facade: logcat on Android, the unified log on iOS, stderr
//! elsewhere. Installed once, when the first detector is built; an app that installed its own
//! `log` logger keeps it.

use std::sync::Once;

static INIT: Once = Once::new();

/// Installs the platform's logger (once).
pub(crate) fn init() {
    INIT.call_once(|| {
        #[cfg(target_os = "android")]
        android_logger::init_once(
            android_logger::Config::default()
                .with_max_level(log::LevelFilter::Info)
                .with_tag("Guardian"),
        );
        #[cfg(target_os = "ios")]
        let _ = oslog::OsLogger::new("dev.guardian")
            .level_filter(log::LevelFilter::Info)
            .init();
        #[cfg(not(any(target_os = "android", target_os = "ios")))]
        if log::set_logger(&STDERR).is_ok() {
            log::set_max_level(log::LevelFilter::Warn);
        }
    });
}

#[cfg(not(any(target_os = "android", target_os = "ios")))]
static STDERR: StderrLogger = StderrLogger;

/// Warnings and errors on stderr (hosts: the JVM tests, the CLI-like tools).
#[cfg(not(any(target_os = "android", target_os = "ios")))]
struct StderrLogger;

#[cfg(not(any(target_os = "android", target_os = "ios")))]
impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!("[{}] {}", r.level(), r.args());
        }
    }
    fn flush(&self) {}
}

/// Attaches the calling thread to the process's JVM, if there is one, for the thread's whole
/// life (Android, and a host JVM running the Kotlin tests).
///
/// JNA attaches and detaches a native thread around every callback unless the thread is
/// already attached; one permanent attach makes each callback a plain call.
/// The JavaVM is the one `JNI_OnLoad` saw (the library loaded by `System.loadLibrary`, which
/// the Kotlin fast path does), else `JNI_GetCreatedJavaVMs`, looked up at run time: apps may
/// call it from API 31 on, and linking it would make the library fail to load on older
/// Android. Where neither exists, or anything fails, this only logs and JNA attaches per
/// callback as before.
#[cfg(all(unix, not(target_os = "ios")))]
pub(crate) fn attach_to_jvm() {
    type GetVms = unsafe extern "system" fn(
        *mut *mut jni::sys::JavaVM,
        jni::sys::jsize,
        *mut jni::sys::jsize,
    ) -> jni::sys::jint;
    if let Some(vm) = crate::jni_push::loaded_vm() {
        attach_as_daemon(vm);
        return;
    }
    // SAFETY: dlsym with a NUL-terminated name; the result is null or the function.
    let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"JNI_GetCreatedJavaVMs".as_ptr()) };
    if sym.is_null() {
        log::info!(
            "guardian: JNI_GetCreatedJavaVMs unavailable (Android < 12); JNA attaches per callback"
        );
        return;
    }
    // SAFETY: the symbol is JNI's `JNI_GetCreatedJavaVMs`, of this signature.
    let get_vms: GetVms = unsafe { std::mem::transmute::<*mut libc::c_void, GetVms>(sym) };
    let mut vm: *mut jni::sys::JavaVM = std::ptr::null_mut();
    let mut count: jni::sys::jsize = 0;
    // SAFETY: writes at most one pointer into `vm` and the count.
    let status = unsafe { get_vms(&mut vm, 1, &mut count) };
    if status != jni::sys::JNI_OK || count < 1 || vm.is_null() {
        log::debug!("guardian: no JVM to attach the delivery thread to (status {status})");
        return;
    }
    attach_as_daemon(vm);
}

/// Attaches this thread to `vm` until the thread ends, as a daemon thread: a JVM whose
/// `main` returns with a detector never stopped must not wait for it.
#[cfg(all(unix, not(target_os = "ios")))]
fn attach_as_daemon(vm: *mut jni::sys::JavaVM) {
    // SAFETY: `vm` is the process's live JavaVM, valid for the life of the process.
    match unsafe { jni::JavaVM::from_raw(vm) } {
        Ok(vm) => {
            if let Err(e) = vm.attach_current_thread_as_daemon() {
                log::warn!("guardian: cannot attach the delivery thread to the JVM: {e}");
            }
        }
        Err(e) => log::warn!("guardian: invalid JavaVM: {e}"),
    }
}
