//! The journal on real files: durability rules, torn tails, corruption, compaction.

use std::fs::OpenOptions;
use std::io::Write;

use guardian_journal::{Alert, Journal, Outcome, COMPACT_AFTER_RECORDS, FILE_NAME, HISTORY_LEN};

fn alert(i: usize) -> Alert {
    Alert {
        id: format!("a{i}"),
        impact_t_ns: i as i64 * 1_000_000_000,
        confirmed_t_ns: i as i64 * 1_000_000_000 + 2_500_000_000,
        score: 0.9,
        peak_g: 3.5,
        model: "full".into(),
    }
}

#[test]
fn alerts_outcomes_and_acks_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let (mut j, report) = Journal::open(dir.path()).expect("open");
        assert_eq!(report, Default::default());
        j.raise(alert(1)).expect("raise");
        j.raise(alert(2)).expect("raise");
        j.record_outcome("a1", Outcome::Cancelled, 7)
            .expect("outcome");
        assert!(j.acknowledge("a1").expect("ack"));
        assert!(
            !j.acknowledge("a1").expect("second ack"),
            "already acknowledged"
        );
        assert!(!j.acknowledge("nope").expect("unknown"));
    }
    let (j, _) = Journal::open(dir.path()).expect("reopen");
    let pending: Vec<_> = j.pending().map(|e| e.alert.id.clone()).collect();
    assert_eq!(pending, ["a2"]);
    assert_eq!(j.entries()[0].outcome, Some((Outcome::Cancelled, 7)));
    assert!(j.entries()[0].acknowledged);
}

#[test]
fn a_torn_last_record_is_dropped_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let (mut j, _) = Journal::open(dir.path()).expect("open");
        j.raise(alert(1)).expect("raise");
        j.raise(alert(2)).expect("raise");
    }
    let path = dir.path().join(FILE_NAME);
    let len = std::fs::metadata(&path).expect("meta").len();
    for cut in [1, 5, 9, 20] {
        let copy = tempfile::tempdir().expect("tempdir");
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(copy.path().join(FILE_NAME), &bytes[..(len - cut) as usize]).expect("w");
        let (j, report) = Journal::open(copy.path()).expect("open torn");
        assert_eq!(report.set_aside, None, "cut {cut}");
        assert!(report.torn_tail_bytes > 0, "cut {cut}");
        let ids: Vec<_> = j.pending().map(|e| e.alert.id.clone()).collect();
        assert_eq!(ids, ["a1"], "cut {cut}");
    }
    // Zeros where the file was extended before the data reached the disk.
    let mut f = OpenOptions::new().append(true).open(&path).expect("open");
    f.write_all(&[0; 300]).expect("zeros");
    drop(f);
    let (mut j, report) = Journal::open(dir.path()).expect("open zeros");
    assert_eq!(report.torn_tail_bytes, 300);
    j.raise(alert(3)).expect("append after the repair");
    drop(j);
    let (j, _) = Journal::open(dir.path()).expect("reopen");
    assert_eq!(j.pending().count(), 3);
}

#[test]
fn a_corrupt_journal_is_set_aside_and_a_new_one_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let (mut j, _) = Journal::open(dir.path()).expect("open");
        for i in 0..3 {
            j.raise(alert(i)).expect("raise");
        }
    }
    let path = dir.path().join(FILE_NAME);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[20] ^= 0x40; // inside the first record's JSON
    std::fs::write(&path, &bytes).expect("write");
    let (mut j, report) = Journal::open(dir.path()).expect("open corrupt");
    let (aside, reason) = report.set_aside.expect("set aside");
    assert!(aside.exists(), "{}", aside.display());
    assert!(reason.contains("checksum"), "{reason}");
    assert_eq!(j.pending().count(), 0);
    j.raise(alert(9)).expect("the new journal works");
}

#[test]
fn compaction_keeps_pending_alerts_and_bounded_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut j, _) = Journal::open(dir.path()).expect("open");
    j.raise(alert(0)).expect("raise");
    let n = COMPACT_AFTER_RECORDS * 2;
    for i in 1..n {
        j.raise(alert(i)).expect("raise");
        j.record_outcome(&format!("a{i}"), Outcome::EscalatedByTimeout, 1)
            .expect("outcome");
        j.acknowledge(&format!("a{i}")).expect("ack");
    }
    drop(j);
    let size = std::fs::metadata(dir.path().join(FILE_NAME))
        .expect("meta")
        .len();
    assert!(size < 200 * 1024, "journal not compacted: {size} bytes");
    let (j, _) = Journal::open(dir.path()).expect("reopen");
    let pending: Vec<_> = j.pending().map(|e| e.alert.id.clone()).collect();
    assert_eq!(pending, ["a0"], "the pending alert survives compaction");
    assert_eq!(j.entries().len(), HISTORY_LEN + 1);
    assert_eq!(
        j.entries().last().map(|e| e.alert.id.clone()),
        Some(format!("a{}", n - 1))
    );
}
