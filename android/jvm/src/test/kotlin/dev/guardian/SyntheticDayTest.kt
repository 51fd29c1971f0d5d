package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.ModelKind
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.ValueSource
import java.io.File
import kotlin.math.abs

/**
 * Two synthetic days (seeds 42 and 7, 4 falls each, written by `guardian demo`) streamed through
 * the Kotlin API in 1 s packed batches: the Fall events must be the detections the Rust engine
 * makes of the same day (`guardian demo --json`), in order, each followed by its escalation.
 */
class SyntheticDayTest {
    @ParameterizedTest(name = "day {0}")
    @ValueSource(strings = ["guardian.day", "guardian.day2"])
    fun `falls of a synthetic day arrive as Fall events, in order, with their escalations`(property: String) {
        val csv = File(System.getProperty(property))
        val demo = DemoResult.forDay(csv)
        val rec = Recording.load(csv)
        val journal = Fixtures.tempDir("day")
        val recorder = Recorder()
        val testThread = Thread.currentThread().name

        val (calls, stats) =
            FallDetector(Fixtures.options(journal)).use { detector ->
                detector.start(recorder)
                val calls = rec.streamTo(detector)
                detector.stop() // flushes: every event is delivered when stop() returns
                assertFalse(detector.state().running)
                calls to detector.stats()
            }

        // The day has `demo.falls` true falls and the engine detected each once, nothing else.
        assertEquals(demo.falls, demo.detections.count { it.trueFall }, "demo truth")
        val falls = recorder.falls
        assertEquals(demo.detections.size, falls.size, "Fall events: ${recorder.events}")
        assertEquals(4, falls.size)
        val t0 = rec.t[0]
        falls.zip(demo.detections).forEach { (ev, d) ->
            val a = ev.alert
            assertTrue(a.alertId.isNotBlank(), "alert id")
            assertTrue(a.impactTNs < a.confirmedTNs, "impact < confirmed: $a")
            assertTrue(a.confirmedTNs - a.impactTNs in 1_000_000_000L..4_000_000_000L, "confirmation 1-4 s after impact: $a")
            assertTrue(a.impactTNs in t0..rec.t.last(), "impact inside the recording: $a")
            assertEquals(d.impactS, (a.impactTNs - t0) / 1e9, 0.05, "impact time as the Rust engine found it: $a vs $d")
            assertEquals(d.score, a.score.toDouble(), 1e-6, "score as the Rust engine computed it")
            assertTrue(a.peakG > 1.5f, "peak g: $a")
            assertEquals(ModelKind.FULL, a.model)
            assertFalse(a.replay)
        }
        assertEquals(falls.size, falls.map { it.alert.alertId }.toSet().size, "alert ids are unique")
        assertTrue(falls.zipWithNext().all { (a, b) -> a.alert.impactTNs < b.alert.impactTNs }, "falls in time order")

        // Nobody answered: each alert escalates by timeout (30 s cancel window), before the next fall.
        val alertEvents = recorder.events.filter { it is GuardianEvent.Fall || it is GuardianEvent.AlertEscalated || it is GuardianEvent.AlertCancelled }
        assertEquals(falls.size * 2, alertEvents.size, "one Fall + one AlertEscalated per fall: $alertEvents")
        alertEvents.chunked(2).forEach { (f, e) ->
            f as GuardianEvent.Fall
            e as GuardianEvent.AlertEscalated
            assertEquals(f.alert.alertId, e.alertId)
            assertFalse(e.byUser)
            assertEquals(30.0, (e.tNs - f.alert.confirmedTNs) / 1e9, 1.0, "escalation about 30 s after confirmation")
        }
        // Nothing else went wrong along the day.
        assertTrue(recorder.events.none { it is GuardianEvent.Problem || it is GuardianEvent.SensorStalled }, "${recorder.events}")

        // Callbacks never ran on the pushing thread; the counters add up.
        assertTrue(recorder.threads.none { it == testThread })
        val acc = rec.gyro.count { !it }
        assertEquals(acc.toULong(), stats.accSamples)
        assertEquals((rec.size - acc).toULong(), stats.gyroSamples)
        assertEquals(0uL, stats.rejectedSamples)
        assertEquals(4uL, stats.falls)
        assertEquals(recorder.events.size.toULong(), stats.callbackCount)
        assertEquals(0uL, stats.listenerErrors)
        assertEquals(0uL, stats.droppedEvents)
        assertTrue(stats.modelRuns in 1uL..stats.windows, "$stats")
        println("day ${csv.name}: ${rec.size} samples in $calls pushes, ${recorder.events.size} events, $stats")

        // The escalated alerts stay pending in the journal until the app acknowledges them.
        FallDetector(Fixtures.options(journal)).use { d ->
            val pending = d.pendingAlerts().map { it.alertId }
            assertEquals(falls.map { it.alert.alertId }.toSet(), pending.toSet())
        }
        journal.toFile().deleteRecursively()
    }

    @ParameterizedTest(name = "day {0}")
    @ValueSource(strings = ["guardian.day"])
    fun `the engine is the same whichever push path feeds it`(property: String) {
        // One hour around the first fall, through the List-based columnar calls instead of
        // pushPacked: the same Fall (id aside) must come out.
        val rec = Recording.load(File(System.getProperty(property)))
        val demo = DemoResult.forDay(File(System.getProperty(property)))
        val impact = rec.t[0] + (demo.detections[0].impactS * 1e9).toLong()
        val from = rec.indexAt(impact - 1_800_000_000_000L)
        val to = rec.indexAt(impact + 60_000_000_000L)

        fun run(columnar: Boolean): List<GuardianEvent.Fall> {
            val r = Recorder()
            FallDetector(Fixtures.options()).use { d ->
                d.start(r)
                if (columnar) {
                    var i = from
                    while (i < to) {
                        val end = rec.t[i] + 1_000_000_000L
                        var j = i
                        while (j < to && rec.t[j] < end) j++
                        val acc = (i until j).filter { !rec.gyro[it] }
                        val gyr = (i until j).filter { rec.gyro[it] }
                        d.pushAccelerometer(acc.map { rec.t[it] }, acc.map { rec.x[it] }, acc.map { rec.y[it] }, acc.map { rec.z[it] })
                        d.pushGyroscope(gyr.map { rec.t[it] }, gyr.map { rec.x[it] }, gyr.map { rec.y[it] }, gyr.map { rec.z[it] })
                        i = j
                    }
                } else {
                    rec.streamTo(d, from, to)
                }
                d.stop()
            }
            return r.falls
        }
        val packed = run(columnar = false)
        val lists = run(columnar = true)
        assertEquals(1, packed.size)
        assertEquals(packed.map { it.alert.copy(alertId = "") }, lists.map { it.alert.copy(alertId = "") })
        assertTrue(abs((packed[0].alert.impactTNs - impact) / 1e9) < 0.05)
    }
}
