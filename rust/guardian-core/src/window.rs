//! Windows of consecutive frames (`docs/PREPROCESSING.md` section 7).

use ringbuf::traits::{Consumer, Observer, RingBuffer};
use ringbuf::{storage::Array, LocalRb};

use crate::frame::Frame;

/// Frames kept: one window plus the detector's pre-impact reference (a power of two keeps the
/// ring buffer's index arithmetic cheap).
pub const HISTORY_FRAMES: usize = 256;

/// A frame as the windower keeps it: the frame plus its |a| for the trigger, computed once.
/// Features are computed only for the windows the model runs on
/// ([`crate::input::ModelInput`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredFrame {
    /// The frame.
    pub frame: Frame,
    /// |a| in m/s^2, unclipped ([`Frame::acc_norm`]).
    pub acc_norm: f32,
}

/// What storing a frame did to the windows ([`Windower::push`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowStep {
    /// The frame did not follow the previous one: the history was emptied first and a new
    /// segment began.
    pub restarted: bool,
    /// The newest `window` frames form a window at the hop.
    pub complete: bool,
}

/// Keeps the recent frames of the current segment and says when a window is complete.
///
/// Invariant: the stored frames have consecutive `k`; a missing `k` empties the history.
pub struct Windower {
    frames: Box<LocalRb<Array<StoredFrame, HISTORY_FRAMES>>>,
    window: usize,
    hop: usize,
    /// Segments started so far (the current one's number once a frame arrived).
    segment: u64,
    /// Frames until the next window completes (a countdown instead of a division per frame).
    until_window: usize,
}

impl std::fmt::Debug for Windower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Windower")
            .field("window", &self.window)
            .field("hop", &self.hop)
            .field("segment", &self.segment)
            .finish()
    }
}

impl Windower {
    /// A windower for windows of `window` frames every `hop` frames (both at least 1,
    /// `window <= HISTORY_FRAMES`).
    pub fn new(window: usize, hop: usize) -> Self {
        let window = window.max(1);
        Self {
            frames: Box::default(),
            window,
            hop: hop.max(1),
            segment: 0,
            until_window: window,
        }
    }

    /// Window length, frames.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Number of the current segment: changes whenever the history is emptied by a missing
    /// `k` (gap, clock reset).
    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// The `k` of the newest frame, if any.
    pub fn last_k(&self) -> Option<i64> {
        self.newest().map(|f| f.frame.k)
    }

    /// Adds a frame; says whether it restarted the segment and whether it completed a window.
    pub fn push(&mut self, frame: &Frame) -> WindowStep {
        let restarted = self.last_k().is_some_and(|k| frame.k != k + 1);
        if restarted {
            self.frames.clear();
            self.segment += 1;
            self.until_window = self.window;
        }
        self.frames.push_overwrite(StoredFrame {
            frame: *frame,
            acc_norm: frame.acc_norm(),
        });
        self.until_window -= 1;
        let complete = self.until_window == 0;
        if complete {
            self.until_window = self.hop;
        }
        WindowStep {
            restarted,
            complete,
        }
    }

    /// The newest stored frame.
    pub fn newest(&self) -> Option<&StoredFrame> {
        self.frames.last()
    }

    /// The newest `n` stored frames, oldest first (fewer if fewer are stored).
    pub fn recent(&self, n: usize) -> impl Iterator<Item = &StoredFrame> {
        let len = self.frames.occupied_len();
        self.frames.iter().skip(len.saturating_sub(n))
    }

    /// Stored frames with `k` in `[from, to)`, oldest first.
    pub fn range(&self, from: i64, to: i64) -> impl Iterator<Item = &StoredFrame> {
        self.frames
            .iter()
            .filter(move |f| f.frame.k >= from && f.frame.k < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(k: i64) -> Frame {
        Frame {
            k,
            acc: [0.0, 0.0, 9.8],
            gyro: [0.0; 3],
        }
    }

    #[test]
    fn windows_start_at_the_segment_start_and_every_hop() {
        let mut w = Windower::new(100, 25);
        let complete: Vec<i64> = (1000..1200)
            .filter(|&k| w.push(&frame(k)).complete)
            .map(|k| k - 99)
            .collect();
        assert_eq!(complete, vec![1000, 1025, 1050, 1075, 1100]);
    }

    #[test]
    fn a_missing_frame_restarts_the_segment() {
        let mut w = Windower::new(4, 2);
        let mut starts = Vec::new();
        for k in (0..6).chain(10..16) {
            if w.push(&frame(k)).complete {
                starts.push(w.recent(4).next().map(|f| f.frame.k));
            }
        }
        assert_eq!(starts, vec![Some(0), Some(2), Some(10), Some(12)]);
    }
}
