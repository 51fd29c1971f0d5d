package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * Alerts survive a restart: a detector closed with an unacknowledged alert, then a new one on the
 * same journal directory, re-delivers the alert on start with replay = true until acknowledged.
 */
class JournalReplayTest {
    @Test
    fun `an unacknowledged alert is replayed after a restart until acknowledged`() {
        val rec = Recording.of(Fixtures.day)
        val demo = Fixtures.day.demo
        val impact = rec.t[0] + (demo.detections[0].impactS * 1e9).toLong()
        val journal = Fixtures.tempDir("journal")

        // 1. "The app before the crash": stream up to a few seconds after the first fall, then close
        //    without stop() and without acknowledging (close() is what a dying process at best does).
        val first = Recorder()
        val d1 = FallDetector(Fixtures.options(journal))
        d1.start(first)
        rec.streamTo(d1, rec.indexAt(impact - 600_000_000_000L), rec.indexAt(impact + 5_000_000_000L))
        d1.close()
        val alert = first.falls.single().alert
        assertFalse(alert.replay)

        // 2. "The app after the restart": the alert comes again, marked as a replay, before any sample.
        val second = Recorder()
        FallDetector(Fixtures.options(journal)).use { d2 ->
            assertEquals(listOf(alert.alertId), d2.pendingAlerts().map { it.alertId })
            d2.start(second)
            d2.stop() // flushes the delivery thread: the replay has been delivered
            val replay = second.falls.single().alert
            assertTrue(replay.replay)
            assertEquals(alert.copy(replay = true), replay, "the same alert, field for field")

            // The app handled it: acknowledge removes it from the pending alerts.
            assertTrue(d2.acknowledge(alert.alertId))
            assertTrue(d2.pendingAlerts().isEmpty())
            assertFalse(d2.acknowledge(alert.alertId), "acknowledging twice: false")
            assertTrue(d2.alertHistory().any { it.alert.alertId == alert.alertId && it.acknowledged })
        }

        // 3. Another restart: nothing is replayed any more.
        val third = Recorder()
        FallDetector(Fixtures.options(journal)).use { d3 ->
            d3.start(third)
            d3.stop()
            assertTrue(d3.pendingAlerts().isEmpty())
        }
        assertTrue(third.events.none { it is GuardianEvent.Fall }, "${third.events}")
        journal.toFile().deleteRecursively()
    }

    @Test
    fun `a cancelled alert (I am OK) is journaled with its outcome`() {
        val rec = Recording.of(Fixtures.day)
        val demo = Fixtures.day.demo
        val impact = rec.t[0] + (demo.detections[1].impactS * 1e9).toLong()
        val journal = Fixtures.tempDir("cancel")
        val r = Recorder()
        FallDetector(Fixtures.options(journal)).use { d ->
            d.start(r)
            rec.streamTo(d, rec.indexAt(impact - 300_000_000_000L), rec.indexAt(impact + 5_000_000_000L))
            assertTrue(d.cancelAlert(), "an alert was open")
            assertFalse(d.cancelAlert(), "no alert open any more")
            rec.streamTo(d, rec.indexAt(impact + 5_000_000_000L), rec.indexAt(impact + 60_000_000_000L))
            d.stop()
            val fall = r.falls.single()
            val cancelled = r.events.filterIsInstance<GuardianEvent.AlertCancelled>().single()
            assertEquals(fall.alert.alertId, cancelled.alertId)
            assertTrue(r.escalations.isEmpty(), "a cancelled alert does not escalate")
            val h = d.alertHistory().single { it.alert.alertId == fall.alert.alertId }
            assertEquals(dev.guardian.ffi.AlertOutcome.CANCELLED, h.outcome)
        }
        journal.toFile().deleteRecursively()
    }
}
