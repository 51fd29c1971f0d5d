package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianException
import dev.guardian.ffi.InputUnits
import dev.guardian.ffi.ModelKind
import dev.guardian.ffi.Phase
import dev.guardian.ffi.SensorKind
import dev.guardian.ffi.SensorMode
import dev.guardian.ffi.packedBatchSize
import dev.guardian.ffi.secondsToNs
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Input units, sensor modes, the alert answers and the free functions, on the first fall of the synthetic day. */
class ModesTest {
    private val rec = Recording.of(Fixtures.day)
    private val impact = rec.t[0] + (Fixtures.day.demo.detections[0].impactS * 1e9).toLong()
    private val from = rec.indexAt(impact - 300_000_000_000L)
    private val to = rec.indexAt(impact + 40_000_000_000L)

    /** Streams [from, to) in 1 s batches; [keep] drops rows, [acc] maps accelerometer values. */
    private fun stream(
        d: FallDetector,
        keep: (Int) -> Boolean = { true },
        acc: (Float) -> Float = { it },
        until: Int = to,
    ) {
        val batch = SampleBatch()
        var end = rec.t[from] + 1_000_000_000L
        for (i in from until until) {
            if (rec.t[i] >= end) {
                batch.pushTo(d)
                while (rec.t[i] >= end) end += 1_000_000_000L
            }
            if (!keep(i)) continue
            if (rec.gyro[i]) batch.addGyroscope(rec.t[i], rec.x[i], rec.y[i], rec.z[i])
            else batch.addAccelerometer(rec.t[i], acc(rec.x[i]), acc(rec.y[i]), acc(rec.z[i]))
        }
        batch.pushTo(d)
    }

    private fun run(options: dev.guardian.ffi.DetectorOptions, feed: (FallDetector) -> Unit): Recorder {
        val r = Recorder()
        FallDetector(options).use { d ->
            d.start(r)
            feed(d)
            d.stop()
        }
        return r
    }

    @Test
    fun `CoreMotion units (g, opposite sign) give the same alert as Android units`() {
        val android = run(Fixtures.options()) { stream(it) }.falls.single().alert
        val coreMotion = run(Fixtures.options().copy(units = InputUnits.CORE_MOTION)) { stream(it, acc = { v -> v / -9.80665f }) }.falls.single().alert
        assertEquals(android.impactTNs, coreMotion.impactTNs)
        assertEquals(android.confirmedTNs, coreMotion.confirmedTNs)
        assertEquals(android.score, coreMotion.score, 0.01f)
        assertEquals(android.peakG, coreMotion.peakG, 0.01f)
    }

    @Test
    fun `acc-only mode raises the alert with the acc-only model`() {
        val r = run(Fixtures.options().copy(sensors = SensorMode.ACC_ONLY)) { stream(it, keep = { i -> !rec.gyro[i] }) }
        val a = r.falls.single().alert
        assertEquals(ModelKind.ACC_ONLY, a.model)
        assertEquals((impact - rec.t[0]) / 1e9, (a.impactTNs - rec.t[0]) / 1e9, 0.1)
    }

    @Test
    fun `auto mode switches to acc-only while the gyroscope is silent, and back`() {
        // The gyroscope is silent from 240 s to 120 s before the fall, then resumes.
        val r =
            run(Fixtures.options()) {
                stream(it, keep = { i -> !(rec.gyro[i] && rec.t[i] in (impact - 240_000_000_000L)..(impact - 120_000_000_000L)) })
            }
        val e = r.events
        val stalled = e.indexOfFirst { it is GuardianEvent.SensorStalled && it.sensor == SensorKind.GYROSCOPE }
        val resumed = e.indexOfFirst { it is GuardianEvent.SensorResumed && it.sensor == SensorKind.GYROSCOPE }
        val toAccOnly = e.indexOfFirst { it is GuardianEvent.ModelChanged && it.model == ModelKind.ACC_ONLY }
        val toFull = e.indexOfFirst { it is GuardianEvent.ModelChanged && it.model == ModelKind.FULL }
        val fall = e.indexOfFirst { it is GuardianEvent.Fall }
        assertTrue(stalled >= 0 && resumed > stalled, "$e")
        assertTrue(toAccOnly >= 0 && toFull > toAccOnly && fall > toFull, "$e")
        val s = e[stalled] as GuardianEvent.SensorStalled
        assertTrue(s.tNs in (impact - 240_000_000_000L)..(impact - 120_000_000_000L), "stall time $s")
        assertEquals(ModelKind.FULL, (e[fall] as GuardianEvent.Fall).alert.model)
    }

    @Test
    fun `state follows the alert, and confirmAlert escalates by the user`() {
        val confirmedAt = rec.indexAt(impact + 5_000_000_000L)
        val r = Recorder()
        FallDetector(Fixtures.options()).use { d ->
            assertFalse(d.state().running)
            d.start(r)
            assertEquals(Phase.IDLE, d.state().phase)
            assertNull(d.state().activeAlertId)
            stream(d, until = confirmedAt)
            val st = d.state()
            // Events arrive on the delivery thread, after the push that raised them returned.
            val deadline = System.nanoTime() + 10_000_000_000L
            while (r.falls.isEmpty() && System.nanoTime() < deadline) Thread.sleep(5)
            val fall = r.falls.single()
            assertEquals(Phase.ALERTING, st.phase, "$st")
            assertEquals(fall.alert.alertId, st.activeAlertId)
            assertEquals(rec.t[confirmedAt - 1], st.lastSampleTNs)
            assertTrue(d.confirmAlert(), "I need help")
            assertFalse(d.confirmAlert(), "nothing open any more")
            assertFalse(d.cancelAlert())
            d.stop()
            val esc = r.escalations.single()
            assertEquals(fall.alert.alertId, esc.alertId)
            assertTrue(esc.byUser)
            assertNull(d.state().activeAlertId)
            assertEquals(dev.guardian.ffi.AlertOutcome.ESCALATED_BY_USER, d.alertHistory().last().outcome)
        }
    }

    @Test
    fun `free functions - packedBatchSize matches SampleBatch, secondsToNs rounds and refuses NaN`() {
        assertEquals(SampleBatch.packedSize(100, 100).toULong(), packedBatchSize(100u, 100u))
        assertEquals(8uL, packedBatchSize(0u, 0u))
        assertEquals(1_500_000_000L, secondsToNs(1.5))
        assertEquals(123_456_789_012L, secondsToNs(123.4567890124))
        val e = assertThrows<GuardianException.InvalidBatch> { secondsToNs(Double.NaN) }
        assertTrue(e.message!!.isNotBlank())
        assertThrows<GuardianException.InvalidBatch> { secondsToNs(-1.0) }
    }
}
