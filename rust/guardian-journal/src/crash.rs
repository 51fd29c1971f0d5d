//! Test-only fault injection for the crash tests.

/// With the `crash-points` feature, kills the process with SIGKILL when the environment
/// variable `GUARDIAN_CRASH_AT` is `NAME:N` and this is the N-th time (1-based) point `NAME` is
/// reached. Without the feature it does nothing and compiles to nothing.
#[inline(always)]
pub fn crash_point(name: &str) {
    #[cfg(feature = "crash-points")]
    imp::hit(name);
    #[cfg(not(feature = "crash-points"))]
    let _ = name;
}

#[cfg(feature = "crash-points")]
mod imp {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    static TARGET: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);

    pub(super) fn hit(name: &str) {
        let target = TARGET.get_or_init(|| {
            let v = std::env::var("GUARDIAN_CRASH_AT").ok()?;
            let (n, k) = v.rsplit_once(':')?;
            Some((n.to_owned(), k.parse().ok()?))
        });
        if let Some((n, k)) = target {
            if n == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *k {
                // SAFETY: plain signal to this process; it does not return.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
            }
        }
    }
}
