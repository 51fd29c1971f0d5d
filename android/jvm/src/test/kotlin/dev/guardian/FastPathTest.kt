package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * The JNI push fast path ([NativePush], used by [SampleBatch.pushTo]) against the UniFFI
 * `pushPacked` it stands in for: the same events on a synthetic day, the same typed errors.
 */
class FastPathTest {
    @Test
    fun `the fast path loads from the bindings' library on the host JVM`() {
        assertTrue(NativePush.isAvailable, "unavailable: ${NativePush.unavailableReason}")
    }

    @Test
    fun `the fast path and the UniFFI pushPacked give exactly the same events on a synthetic day`() {
        val rec = Recording.of(Fixtures.day)
        fun run(fast: Boolean): Pair<List<GuardianEvent>, String> {
            val recorder = Recorder()
            FallDetector(Fixtures.options()).use { d ->
                d.start(recorder)
                val batch = SampleBatch(256)
                var end = rec.t[0] + 1_000_000_000L
                fun push() {
                    if (fast) {
                        batch.pushTo(d)
                    } else {
                        d.pushPacked(batch.pack())
                        batch.clear()
                    }
                }
                for (i in 0 until rec.size) {
                    if (rec.t[i] >= end) {
                        push()
                        while (rec.t[i] >= end) end += 1_000_000_000L
                    }
                    if (rec.gyro[i]) batch.addGyroscope(rec.t[i], rec.x[i], rec.y[i], rec.z[i])
                    else batch.addAccelerometer(rec.t[i], rec.x[i], rec.y[i], rec.z[i])
                }
                push()
                d.stop()
                val s = d.stats()
                // Counters that do not depend on timing (not callback or CPU times).
                return normalise(recorder.events) to
                    "acc=${s.accSamples} gyro=${s.gyroSamples} falls=${s.falls} modelRuns=${s.modelRuns}"
            }
        }
        val (viaUniffi, statsUniffi) = run(fast = false)
        val (viaJni, statsJni) = run(fast = true)
        assertEquals(4, viaUniffi.count { it is GuardianEvent.Fall }, "falls of the day: $viaUniffi")
        assertEquals(viaUniffi, viaJni)
        assertEquals(statsUniffi, statsJni)
        assertTrue(statsJni.startsWith("acc=${rec.gyro.count { !it }} gyro=${rec.gyro.count { it }} "), statsJni)
    }

    @Test
    fun `a bad header or length is an InvalidBatch with the Rust message, nothing consumed`() =
        running { d ->
            val id = d.fastPathId()
            // Header says 2 accelerometer records, the buffer holds 1: the same error either way.
            val b = ByteBuffer.allocateDirect(8 + 20).order(ByteOrder.LITTLE_ENDIAN)
            b.putInt(2).putInt(0).putLong(1_000L).putFloat(0f).putFloat(9.8f).putFloat(0f).flip()
            val viaUniffi = assertThrows<GuardianException.InvalidBatch> { d.pushPacked(b) }
            val viaJni = assertThrows<GuardianException.InvalidBatch> { NativePush.pushPacked(id, b, b.limit()) }
            assertEquals(viaUniffi.message, viaJni.message)
            // Shorter than a header.
            val short = ByteBuffer.allocateDirect(3)
            assertEquals(
                assertThrows<GuardianException.InvalidBatch> { d.pushPacked(short) }.message,
                assertThrows<GuardianException.InvalidBatch> { NativePush.pushPacked(id, short, 3) }.message,
            )
            // Lengths the JNI call checks itself.
            val beyond = assertThrows<GuardianException.InvalidBatch> { NativePush.pushPacked(id, b, b.capacity() + 1) }
            assertTrue(beyond.message!!.contains("capacity"), beyond.message)
            val negative = assertThrows<GuardianException.InvalidBatch> { NativePush.pushPacked(id, b, -1) }
            assertTrue(negative.message!!.contains("negative"), negative.message)
            assertEquals(0uL, d.stats().accSamples, "nothing consumed")
            // And a good batch after all that.
            SampleBatch().addAccelerometer(1_000L, 0f, 9.8f, 0f).addGyroscope(1_000L, 0f, 0f, 0f).pushTo(d)
            assertEquals(1uL, d.stats().accSamples)
            assertEquals(1uL, d.stats().gyroSamples)
        }

    @Test
    fun `a heap buffer is an InvalidBatch`() =
        running { d ->
            val heap = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(0).flip() as ByteBuffer
            val e = assertThrows<GuardianException.InvalidBatch> { NativePush.pushPacked(d.fastPathId(), heap, 8) }
            assertTrue(e.message!!.contains("direct"), e.message)
        }

    @Test
    fun `after stop it is NotRunning with the Rust message, after close pushTo is IllegalStateException`() {
        val d = FallDetector(Fixtures.options())
        val id = d.fastPathId()
        assertEquals(id, d.fastPathId(), "one id per detector")
        d.start(Recorder())
        val batch = SampleBatch()
        batch.addAccelerometer(1_000L, 0f, 9.8f, 0f).pushTo(d) // caches the id
        d.stop()
        val viaUniffi = assertThrows<GuardianException.NotRunning> { d.pushPacked(batch.addAccelerometer(2_000L, 0f, 9.8f, 0f).pack()) }
        val viaPushTo = assertThrows<GuardianException.NotRunning> { batch.pushTo(d) }
        assertTrue(batch.isEmpty(), "cleared on throw")
        assertEquals(viaUniffi.message, viaPushTo.message)
        val b = SampleBatch().addAccelerometer(3_000L, 0f, 9.8f, 0f).pack()
        assertEquals(viaUniffi.message, assertThrows<GuardianException.NotRunning> { NativePush.pushPacked(id, b, b.limit()) }.message)
        d.close()
        // The batch still holds the id: the closed detector is reported as the UniFFI path does.
        assertThrows<IllegalStateException> { batch.addAccelerometer(4_000L, 0f, 9.8f, 0f).pushTo(d) }
        assertTrue(batch.isEmpty(), "cleared on throw")
        // A stale id is NotRunning, never a dangling pointer.
        assertThrows<GuardianException.NotRunning> { NativePush.pushPacked(id, b, b.limit()) }
        // A batch that never saw the detector: the generated code's IllegalStateException.
        assertThrows<IllegalStateException> { SampleBatch().addAccelerometer(5_000L, 0f, 9.8f, 0f).pushTo(d) }
    }

    private fun running(block: (FallDetector) -> Unit) =
        FallDetector(Fixtures.options()).use { d ->
            d.start(Recorder())
            block(d)
            d.stop()
        }

    /** Alert ids are random: replace each by its order of appearance. */
    private fun normalise(events: List<GuardianEvent>): List<GuardianEvent> {
        val ids = HashMap<String, String>()
        fun id(s: String) = ids.getOrPut(s) { "alert-${ids.size}" }
        return events.map {
            when (it) {
                is GuardianEvent.Fall -> GuardianEvent.Fall(it.alert.copy(alertId = id(it.alert.alertId)))
                is GuardianEvent.AlertCancelled -> it.copy(alertId = id(it.alertId))
                is GuardianEvent.AlertEscalated -> it.copy(alertId = id(it.alertId))
                else -> it
            }
        }
    }
}
