//! The delivery thread: events reach the app's listener in order, on one thread, and a push
//! never waits for the listener.
//!
//! Events go first to an outbox, then, as far as it has room, into a bounded channel that one
//! thread drains into the listener. When the listener falls behind, the outbox holds the rest;
//! beyond [`OUTBOX_LIMIT`] events it drops the oldest event that is not an alert (and counts
//! it). Alerts (fall, cancelled, escalated) are never dropped: the detector raises at most one
//! per cancel window plus cooldown, so they cannot pile up without bound.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::{GuardianEvent, ProblemKind};

/// Events the channel holds between the detector and the delivery thread.
pub const CHANNEL_CAPACITY: usize = 64;
/// Events the outbox holds before it drops the oldest non-alert event.
pub const OUTBOX_LIMIT: usize = 1024;

/// The listener the app gives to `start`.
#[uniffi::export(with_foreign)]
pub trait GuardianListener: Send + Sync {
    /// Receives one event, on Guardian's delivery thread (never the thread that pushed
    /// samples). Must return promptly and must not touch UI directly. Throwing is logged and
    /// counted; later events still arrive.
    fn on_event(&self, event: GuardianEvent) -> Result<(), crate::ListenerError>;
}

/// What the channel carries.
pub(crate) enum Message {
    /// An event for the listener.
    Event(GuardianEvent),
    /// Deliver nothing more; end the thread.
    Stop,
}

/// What the detector and its delivery thread share.
#[derive(Default)]
pub(crate) struct Shared {
    outbox: Mutex<VecDeque<GuardianEvent>>,
    pub(crate) dropped: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) listener_errors: AtomicU64,
    /// Set when the listener itself stopped the detector: the thread delivers what is queued
    /// and ends.
    stop_from_listener: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn outbox(&self) -> MutexGuard<'_, VecDeque<GuardianEvent>> {
        self.outbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `event` and moves what fits into the channel.
    pub(crate) fn send(&self, event: GuardianEvent, tx: &Sender<Message>) {
        self.queue(event);
        self.flush_to(tx);
    }

    /// Queues `event` for the next delivery (before `start`, or from the delivery thread).
    pub(crate) fn queue(&self, event: GuardianEvent) {
        let mut outbox = self.outbox();
        outbox.push_back(event);
        if outbox.len() > OUTBOX_LIMIT {
            if let Some(i) = outbox.iter().position(|e| !e.is_alert()) {
                outbox.remove(i);
                self.dropped.fetch_add(1, Ordering::Relaxed);
                log::warn!("guardian: the listener falls behind; an event was dropped");
            }
        }
    }

    /// Queues a [`GuardianEvent::Problem`].
    pub(crate) fn queue_problem(&self, kind: ProblemKind, message: String) {
        log::warn!("guardian: {message}");
        self.queue(GuardianEvent::Problem { kind, message });
    }

    /// Moves what fits from the outbox into the channel.
    pub(crate) fn flush_to(&self, tx: &Sender<Message>) {
        Self::flush(&mut self.outbox(), tx);
    }

    fn flush(outbox: &mut VecDeque<GuardianEvent>, tx: &Sender<Message>) {
        while let Some(e) = outbox.pop_front() {
            match tx.try_send(Message::Event(e)) {
                Ok(()) => {}
                Err(TrySendError::Full(Message::Event(e)))
                | Err(TrySendError::Disconnected(Message::Event(e))) => {
                    outbox.push_front(e);
                    return;
                }
                Err(_) => return,
            }
        }
    }
}

/// A running delivery thread.
pub(crate) struct Delivery {
    tx: Sender<Message>,
    thread: JoinHandle<()>,
}

impl Delivery {
    /// Starts the thread delivering to `listener`.
    pub(crate) fn start(
        shared: Arc<Shared>,
        listener: Arc<dyn GuardianListener>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = crossbeam_channel::bounded(CHANNEL_CAPACITY);
        let refill = tx.clone();
        let thread = std::thread::Builder::new()
            .name("guardian-delivery".into())
            .spawn(move || run(&shared, &*listener, &rx, &refill))?;
        Ok(Self { tx, thread })
    }

    /// The sender the detector queues events with.
    pub(crate) fn sender(&self) -> &Sender<Message> {
        &self.tx
    }

    /// Delivers everything queued, then ends the thread and joins it (unless called from the
    /// delivery thread itself, i.e. from the listener, which then ends after this event).
    pub(crate) fn stop(self, shared: &Shared) {
        if std::thread::current().id() == self.thread.thread().id() {
            shared.stop_from_listener.store(true, Ordering::SeqCst);
            return;
        }
        let rest: Vec<_> = shared.outbox().drain(..).collect();
        for e in rest {
            let _ = self.tx.send(Message::Event(e));
        }
        let _ = self.tx.send(Message::Stop);
        if self.thread.join().is_err() {
            log::error!("guardian: the delivery thread panicked");
        }
    }
}

fn run(
    shared: &Shared,
    listener: &dyn GuardianListener,
    rx: &Receiver<Message>,
    refill: &Sender<Message>,
) {
    attach_thread();
    while let Ok(Message::Event(event)) = rx.recv() {
        deliver(shared, listener, event);
        if shared.stop_from_listener.load(Ordering::SeqCst) {
            let queued: Vec<_> = rx.try_iter().collect();
            for m in queued {
                if let Message::Event(e) = m {
                    deliver(shared, listener, e);
                }
            }
            break;
        }
        if rx.is_empty() {
            Shared::flush(&mut shared.outbox(), refill);
        }
    }
    // What the thread itself queued last (a listener failure) is delivered before it ends.
    loop {
        let rest: Vec<_> = shared.outbox().drain(..).collect();
        if rest.is_empty() {
            return;
        }
        for e in rest {
            deliver(shared, listener, e);
        }
    }
}

/// Calls the listener once, counting and reporting a failure.
fn deliver(shared: &Shared, listener: &dyn GuardianListener, event: GuardianEvent) {
    {
        let was_problem = matches!(event, GuardianEvent::Problem { .. });
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| listener.on_event(event)));
        shared.delivered.fetch_add(1, Ordering::Relaxed);
        let failure = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("the listener panicked".to_owned()),
        };
        if let Some(reason) = failure {
            shared.listener_errors.fetch_add(1, Ordering::Relaxed);
            // The first line: a foreign exception's reason carries its whole stack trace.
            log::warn!("guardian: {}", reason.lines().next().unwrap_or_default());
            if !was_problem {
                let message = format!("{reason}; the event is not delivered again");
                shared.queue_problem(ProblemKind::ListenerFailed, message);
            }
        }
    }
}

/// In a JVM (Android, the host tests), attaches this thread to it once for its whole life, so
/// JNA does not attach and detach it around every callback.
fn attach_thread() {
    #[cfg(all(unix, not(target_os = "ios")))]
    crate::logging::attach_to_jvm();
}
