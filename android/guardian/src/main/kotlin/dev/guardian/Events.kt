package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianListener
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flowOn

/**
 * The detector's events as a cold [Flow].
 *
 * Collecting calls [FallDetector.start] with a listener that feeds the flow; cancelling the
 * collection calls [FallDetector.stop] (which flushes and joins the delivery thread). A
 * detector has one listener at a time, so collect this flow once per start: a second
 * concurrent collection fails with `GuardianException.AlreadyRunning`, and so does
 * collecting while [FallDetector.start] was called directly. If the detector is already
 * closed, collection fails with the generated code's `IllegalStateException`.
 *
 * Events are produced on the detector's delivery thread (see [guardianListener]) and
 * collected on the collector's context.
 *
 * Buffer policy: the buffer between the Rust delivery thread and the collector is
 * **unlimited**, so no event is ever dropped here, in particular no `Fall`,
 * `AlertCancelled` or `AlertEscalated`. The detector emits few events (a fall at most once
 * per cooldown, one stalled/resumed per sensor transition, a problem per failure), so the
 * buffer only holds what a slow collector has not taken yet. The delivery thread never
 * waits on the collector. Do not add `conflate()` or a `buffer(..., DROP_*)` downstream:
 * that would fuse into this buffer and could drop alerts. Events that arrive after the
 * collector was cancelled (between cancellation and `stop()` returning) are not emitted;
 * a fall among them is still in the journal (see [FallDetector.pendingAlerts]) and is
 * delivered again, as a replay, on the next start.
 *
 * `start()` and `stop()` run on [Dispatchers.IO] (they block briefly), never on the delivery
 * thread, so cancelling from a collector that runs on `Dispatchers.Unconfined` cannot make
 * `stop()` join its own thread.
 */
fun FallDetector.events(): Flow<GuardianEvent> =
    callbackFlow {
        val listener =
            object : GuardianListener {
                override fun onEvent(event: GuardianEvent) {
                    // Unlimited channel: trySend fails only once the collector is gone.
                    trySend(event)
                }
            }
        start(listener)
        awaitClose {
            try {
                stop()
            } catch (_: IllegalStateException) {
                // The detector was closed while collecting: close() already stopped it.
            }
        }
    }.buffer(Channel.UNLIMITED).flowOn(Dispatchers.IO)

/**
 * A [GuardianListener] from a lambda: `detector.start(guardianListener { event -> ... })`.
 *
 * [block] runs on the detector's delivery thread (not the main thread), one event at a
 * time, in order. If it throws, the detector logs and counts it (`stats().listenerErrors`)
 * and keeps delivering later events.
 *
 * The delivery thread is a Rust thread that attaches itself to the JVM once, when `start`
 * begins it, and detaches when `stop` ends it: every callback of one start arrives on the
 * same Java thread (a plain `Thread-N`), with no attach per callback, for any listener, not
 * only this one. Where the process's JVM cannot be found from native code (Android before
 * API 31), JNA attaches the thread around each callback instead: the same native thread and
 * order, but each callback sees a new Java `Thread-N` and costs more.
 */
inline fun guardianListener(crossinline block: (GuardianEvent) -> Unit): GuardianListener =
    object : GuardianListener {
        override fun onEvent(event: GuardianEvent) = block(event)
    }
