//! Runs one `guardian` command in a child process and reports how it ended: exit code or
//! signal, whether it had to be killed after a timeout, and its peak memory (`wait4`).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a child process ended.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Exit code, if it exited.
    pub code: Option<i32>,
    /// Signal that ended it, if any (a kill after the timeout is reported as `hung`).
    pub signal: Option<i32>,
    /// Still running after the timeout (then killed).
    pub hung: bool,
    /// Peak resident memory, KiB.
    pub max_rss_kib: i64,
}

/// Runs `guardian args...` with stdout discarded and stderr written to `stderr_file`.
pub fn guardian(args: &[&str], stderr_file: &Path, timeout: Duration) -> Outcome {
    let stderr = std::fs::File::create(stderr_file).expect("create stderr file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardian"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .env_remove("GUARDIAN_LITERT_LOG");
    run(&mut cmd, timeout)
}

/// Runs `cmd` (stdio as configured) until it ends or `timeout` passes.
// The child is reaped by `wait4` (which also gives its peak memory), not `Child::wait`.
#[allow(clippy::zombie_processes)]
pub fn run(cmd: &mut Command, timeout: Duration) -> Outcome {
    let mut child = cmd.spawn().expect("spawn guardian");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut hung = false;
    loop {
        let mut status = 0;
        // SAFETY: an all-zero `rusage` is a valid value; `wait4` only writes to the locals.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if hung { 0 } else { libc::WNOHANG };
        // SAFETY: `pid` is our own child, not yet reaped.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if r == pid {
            let signaled = libc::WIFSIGNALED(status) && !hung;
            return Outcome {
                code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
                signal: signaled.then(|| libc::WTERMSIG(status)),
                hung,
                max_rss_kib: usage.ru_maxrss,
            };
        }
        assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if start.elapsed() > timeout {
            let _ = child.kill();
            hung = true;
        } else {
            std::thread::sleep(Duration::from_micros(250));
        }
    }
}

/// A deterministic xorshift64 generator.
pub struct Rng(pub u64);

impl Rng {
    /// Next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A value in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A fresh, empty scratch folder under the target directory.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

/// Repository root.
pub fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
