package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.util.concurrent.CopyOnWriteArrayList

/** The Flow adapter ([events]) on the real detector: same events as a listener, start on collect, stop on cancel. */
class FlowTest {
    private suspend fun FallDetector.awaitRunning(running: Boolean, why: () -> String = { "" }) {
        try {
            withTimeout(10_000) { while (state().running != running) delay(5) }
        } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
            throw AssertionError("detector never became running=$running: ${why()}", e)
        }
    }

    @Test
    fun `the Flow delivers the falls of a synthetic day, and cancelling it stops the detector`() {
        val rec = Recording.of(Fixtures.day)
        FallDetector(Fixtures.options()).use { detector ->
            val got = CopyOnWriteArrayList<GuardianEvent>()
            runBlocking {
                val job = launch(Dispatchers.Default) { detector.events().collect { got.add(it) } }
                detector.awaitRunning(true) // collecting started the detector
                val pusher = async(Dispatchers.Default) { rec.streamTo(detector) }
                pusher.await()
                withTimeout(30_000) {
                    while (got.count { it is GuardianEvent.AlertEscalated } < 4) delay(10)
                }
                job.cancel()
                job.join()
                detector.awaitRunning(false) // cancelling stopped it
            }
            assertThrows<GuardianException.NotRunning> { SampleBatch().addAccelerometer(rec.t.last() + 1, 0f, 9.8f, 0f).pushTo(detector) }

            val falls = got.filterIsInstance<GuardianEvent.Fall>()
            val demo = Fixtures.day.demo
            assertEquals(demo.detections.size, falls.size)
            falls.zip(demo.detections).forEach { (f, d) ->
                assertEquals(d.impactS, (f.alert.impactTNs - rec.t[0]) / 1e9, 0.05)
                assertTrue(f.alert.impactTNs < f.alert.confirmedTNs)
                assertFalse(f.alert.replay)
            }
            // Order: each escalation follows its own fall.
            val alerts = got.filter { it is GuardianEvent.Fall || it is GuardianEvent.AlertEscalated }
            alerts.chunked(2).forEach { (f, e) ->
                assertEquals((f as GuardianEvent.Fall).alert.alertId, (e as GuardianEvent.AlertEscalated).alertId)
            }
            assertEquals(got.size.toULong(), detector.stats().callbackCount)
        }
    }

    @Test
    fun `take(n) ends the collection and stops the detector, which replays unacknowledged alerts when collected again`() {
        val rec = Recording.of(Fixtures.day)
        val demo = Fixtures.day.demo
        val impact = rec.t[0] + (demo.detections[0].impactS * 1e9).toLong()
        FallDetector(Fixtures.options()).use { detector ->
            fun CoroutineScope.firstFall() =
                async(start = CoroutineStart.UNDISPATCHED) {
                    detector.events().filter { it is GuardianEvent.Fall }.take(1).toList().single() as GuardianEvent.Fall
                }
            // Round 1: the fall arrives; take(1) ends the collection, which stops the detector
            // (possibly while we are still pushing: NotRunning ends the stream then).
            val fall =
                runBlocking(Dispatchers.Default) {
                    val first = firstFall()
                    detector.awaitRunning(true) { "round 1, collector done=${first.isCompleted}" }
                    try {
                        rec.streamTo(detector, rec.indexAt(impact - 600_000_000_000L), rec.indexAt(impact + 10_000_000_000L))
                    } catch (_: GuardianException.NotRunning) {
                    }
                    withTimeout(10_000) { first.await() }.also { detector.awaitRunning(false) }
                }
            assertEquals(demo.detections[0].impactS, (fall.alert.impactTNs - rec.t[0]) / 1e9, 0.05)
            assertFalse(fall.alert.replay)

            // Round 2: collecting again starts the detector, which first replays the alert nobody acknowledged.
            val replay = runBlocking(Dispatchers.Default) { withTimeout(10_000) { firstFall().await() } }
            assertEquals(fall.alert.copy(replay = true), replay.alert)
            assertTrue(detector.acknowledge(fall.alert.alertId))

            // Round 3: acknowledged, nothing is replayed; 15 more minutes of the day hold no fall.
            runBlocking(Dispatchers.Default) {
                val first = firstFall()
                detector.awaitRunning(true) { "round 3, collector done=${first.isCompleted}" }
                rec.streamTo(detector, rec.indexAt(impact + 10_000_000_000L), rec.indexAt(impact + 900_000_000_000L))
                assertFalse(first.isCompleted)
                first.cancel()
                detector.awaitRunning(false)
            }
        }
    }

    @Test
    fun `collecting a detector that already has a listener fails with AlreadyRunning`() {
        FallDetector(Fixtures.options()).use { detector ->
            detector.start(Recorder())
            val e = assertThrows<GuardianException.AlreadyRunning> { runBlocking { detector.events().first() } }
            assertTrue(e.message!!.isNotBlank())
            assertTrue(detector.state().running, "the failed collection left the running detector alone")
            detector.stop()
        }
    }

    @Test
    fun `a collector on Dispatchers Unconfined can cancel without deadlocking stop()`() {
        val rec = Recording.of(Fixtures.day)
        val demo = Fixtures.day.demo
        val impact = rec.t[0] + (demo.detections[0].impactS * 1e9).toLong()
        FallDetector(Fixtures.options()).use { detector ->
            runBlocking {
                val job =
                    launch(Dispatchers.Unconfined) {
                        // Cancels from inside the collector, i.e. possibly on the delivery thread.
                        detector.events().first { it is GuardianEvent.Fall }
                    }
                detector.awaitRunning(true)
                launch(Dispatchers.Default) {
                    try {
                        rec.streamTo(detector, rec.indexAt(impact - 300_000_000_000L), rec.indexAt(impact + 10_000_000_000L))
                    } catch (_: GuardianException.NotRunning) {
                        // The collector got its Fall and cancelled, which stopped the detector
                        // while this was still pushing the seconds after the fall.
                    }
                }.join()
                withTimeout(10_000) { job.join() }
                detector.awaitRunning(false)
            }
        }
    }
}
