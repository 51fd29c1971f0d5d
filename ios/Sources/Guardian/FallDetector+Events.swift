// Hand-written wrapper over the generated bindings (GuardianFFI.swift): fall events as an
// AsyncStream. Mirrors the Kotlin `fun FallDetector.events(): Flow<GuardianEvent>`
// (android/guardian/src/main/kotlin/dev/guardian/); scripts/api_mirror.py checks the two agree.

import Foundation

extension FallDetector {
    /// Starts the detector and returns its events as an `AsyncStream`, in delivery order.
    ///
    /// Events arrive on the detector's own delivery thread (a Rust thread, never the main
    /// thread); hop to the main actor before touching UI. The stream is buffered
    /// `.unbounded` on purpose: a fall alert is never dropped, however slowly the consumer
    /// reads. Overload is handled on the Rust side, which counts anything it sheds
    /// (`stats().droppedEvents`, never a `.fall`).
    ///
    /// - Cancelling the consuming task, or dropping the stream, stops the detector.
    /// - `stop()` or releasing the detector finishes the stream once the delivery thread has
    ///   flushed its events (the listener is released and finishes the continuation).
    /// - The stream does not keep the detector alive: keep a reference to it, as you must
    ///   anyway to push samples.
    ///
    /// - Throws: `GuardianError` from `start(listener:)`, e.g. `.AlreadyRunning`.
    public func events() throws -> AsyncStream<GuardianEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: GuardianEvent.self, bufferingPolicy: .unbounded)
        try start(listener: EventStreamListener(continuation: continuation))
        continuation.onTermination = { [weak self] termination in
            // Only a consumer going away stops the detector. A `.finished` stream was ended
            // by the listener being released inside `stop()` or deinit: stopping again from
            // there would re-enter the detector.
            if case .cancelled = termination {
                self?.stop()
            }
        }
        return stream
    }
}

/// The listener `events()` installs: yields each event into the stream's continuation.
///
/// `@unchecked Sendable`: its only state is an immutable continuation, and
/// `AsyncStream.Continuation` may be used from any thread. The Rust delivery thread calls
/// `onEvent` serially, in event order.
final class EventStreamListener: GuardianListener, @unchecked Sendable {
    private let continuation: AsyncStream<GuardianEvent>.Continuation

    init(continuation: AsyncStream<GuardianEvent>.Continuation) {
        self.continuation = continuation
    }

    func onEvent(event: GuardianEvent) {
        // `.unbounded`: yield never drops and never blocks the delivery thread.
        continuation.yield(event)
    }

    deinit {
        // The detector released its listener (stopped or deallocated): end the stream.
        continuation.finish()
    }
}

/// A `GuardianListener` from a closure: `try detector.start(listener: guardianListener { event in ... })`.
///
/// `block` runs on the detector's delivery thread (not the main thread), one event at a time,
/// in order. If it throws, the detector logs and counts it (`stats().listenerErrors`) and keeps
/// delivering later events.
public func guardianListener(_ block: @escaping @Sendable (GuardianEvent) throws -> Void) -> GuardianListener {
    ClosureListener(block: block)
}

/// `@unchecked Sendable`: its only state is an immutable `@Sendable` closure.
private final class ClosureListener: GuardianListener, @unchecked Sendable {
    private let block: @Sendable (GuardianEvent) throws -> Void

    init(block: @escaping @Sendable (GuardianEvent) throws -> Void) {
        self.block = block
    }

    func onEvent(event: GuardianEvent) throws {
        try block(event)
    }
}
