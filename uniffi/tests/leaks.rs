//! Create, start, stop and drop 1,000 detectors: no thread or file is left behind. Its own test
//! binary, so no other test's threads are counted.

mod common;

use common::{options, Collector};
use guardian_ffi::{DetectorOptions, FallDetector, SensorMode};

/// Threads of this process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

#[test]
fn a_thousand_detectors_leave_no_thread_or_file_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = DetectorOptions {
        journal_dir: Some(dir.path().display().to_string()),
        ..options(SensorMode::AccOnly)
    };
    let warm = FallDetector::new(opts.clone()).expect("detector");
    drop(warm);
    let (t0, f0) = (threads(), open_files());
    for i in 0..1000 {
        let d = FallDetector::new(opts.clone()).expect("detector");
        d.start(Collector::new()).expect("start");
        d.push_sample(guardian_ffi::SensorKind::Accelerometer, i, 0.0, 0.0, 9.8)
            .expect("push");
        if i % 2 == 0 {
            d.stop();
        } // else: dropping a running detector stops it
    }
    assert_eq!(threads(), t0, "threads left behind");
    assert_eq!(open_files(), f0, "files left open");
}
