package dev.guardian

import dev.guardian.ffi.DetectorSettings
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianException
import dev.guardian.ffi.SensorKind
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.nio.ByteBuffer
import java.nio.ByteOrder

/** Every typed error, as a Kotlin caller sees it; each message says what to do. */
class ErrorsTest {
    private fun assertActionable(e: Throwable, vararg words: String) {
        val m = e.message
        println("${e::class.qualifiedName}: $m")
        assertTrue(!m.isNullOrBlank() && m.length >= 20, "message too short: '$m'")
        words.forEach { assertTrue(m!!.contains(it, ignoreCase = true), "message '$m' should mention '$it'") }
    }

    private fun running(block: (FallDetector) -> Unit) =
        FallDetector(Fixtures.options()).use { d ->
            d.start(Recorder())
            block(d)
            d.stop()
        }

    @Test
    fun `NaN and infinite samples are an InvalidBatch, and nothing of the batch is consumed`() =
        running { d ->
            val e1 = assertThrows<GuardianException.InvalidBatch> { d.pushAccelerometer(listOf(1_000L, 2_000L), listOf(0f, Float.NaN), listOf(0f, 0f), listOf(9.8f, 9.8f)) }
            assertActionable(e1)
            val e2 = assertThrows<GuardianException.InvalidBatch> { d.pushSample(SensorKind.GYROSCOPE, 1_000L, Float.POSITIVE_INFINITY, 0f, 0f) }
            assertActionable(e2)
            val batch = SampleBatch().addAccelerometer(1_000L, 0f, 9.8f, 0f).addGyroscope(1_000L, 0f, Float.NaN, 0f)
            val e3 = assertThrows<GuardianException.InvalidBatch> { batch.pushTo(d) }
            assertActionable(e3)
            assertTrue(batch.isEmpty(), "the rejected batch was cleared")
            val s = d.stats()
            assertEquals(0uL, s.accSamples, "nothing consumed: $s")
            assertEquals(0uL, s.gyroSamples, "nothing consumed: $s")
            // The detector goes on after a rejected batch.
            SampleBatch().addAccelerometer(1_000L, 0f, 9.8f, 0f).pushTo(d)
            assertEquals(1uL, d.stats().accSamples)
        }

    @Test
    fun `mismatched array lengths and a packed buffer of the wrong size are an InvalidBatch`() =
        running { d ->
            val e1 = assertThrows<GuardianException.InvalidBatch> { d.pushGyroscope(listOf(1L, 2L), listOf(0f), listOf(0f, 0f), listOf(0f, 0f)) }
            assertActionable(e1)
            // Header says 2 accelerometer records, the buffer holds 1.
            val b = ByteBuffer.allocateDirect(8 + 20).order(ByteOrder.LITTLE_ENDIAN)
            b.putInt(2).putInt(0).putLong(1_000L).putFloat(0f).putFloat(9.8f).putFloat(0f).flip()
            val e2 = assertThrows<GuardianException.InvalidBatch> { d.pushPacked(b) }
            assertActionable(e2)
            // Shorter than a header.
            val e3 = assertThrows<GuardianException.InvalidBatch> { d.pushPacked(ByteBuffer.allocateDirect(3)) }
            assertActionable(e3)
            assertEquals(0uL, d.stats().accSamples)
        }

    @Test
    fun `push after stop is NotRunning, push after close is IllegalStateException`() {
        val d = FallDetector(Fixtures.options())
        d.start(Recorder())
        d.stop()
        val e1 = assertThrows<GuardianException.NotRunning> { d.pushSample(SensorKind.ACCELEROMETER, 1_000L, 0f, 9.8f, 0f) }
        assertActionable(e1, "start")
        assertThrows<GuardianException.NotRunning> { SampleBatch().addAccelerometer(1_000L, 0f, 9.8f, 0f).pushTo(d) }
        assertThrows<GuardianException.NotRunning> { d.pushAccelerometer(listOf(1L), listOf(0f), listOf(0f), listOf(0f)) }
        d.close()
        val e2 = assertThrows<IllegalStateException> { d.pushSample(SensorKind.ACCELEROMETER, 1_000L, 0f, 9.8f, 0f) }
        assertActionable(e2)
        assertThrows<IllegalStateException> { d.start(Recorder()) }
        d.close() // closing twice is harmless
    }

    @Test
    fun `start twice is AlreadyRunning`() =
        running { d ->
            assertActionable(assertThrows<GuardianException.AlreadyRunning> { d.start(Recorder()) }, "stop")
        }

    @Test
    fun `a bad configuration is ConfigInvalid and names the field`() {
        val e1 = assertThrows<GuardianException.ConfigInvalid> { FallDetector(Fixtures.options().copy(settings = DetectorSettings(threshold = 5f))) }
        assertActionable(e1, "threshold")
        val e2 = assertThrows<GuardianException.ConfigInvalid> { FallDetector(Fixtures.options().copy(settings = DetectorSettings(cancelWindowMs = 1u))) }
        assertActionable(e2, "cancel_window")
    }

    @Test
    fun `a missing runtime library is RuntimeLibraryMissing and names the path`() {
        val e = assertThrows<GuardianException.RuntimeLibraryMissing> { FallDetector(Fixtures.options().copy(runtimeLibraryPath = "/nonexistent/libLiteRt.so")) }
        assertActionable(e, "/nonexistent/libLiteRt.so")
    }

    @Test
    fun `a missing model card is a typed error naming the path`() {
        val e = assertThrows<GuardianException> { FallDetector(Fixtures.options().copy(modelCardPath = "/nonexistent/model_card.json")) }
        assertTrue(e is GuardianException.CardInvalid || e is GuardianException.ModelInvalid, "got ${e::class}")
        assertActionable(e, "/nonexistent/model_card.json")
    }

    @Test
    fun `a heap ByteBuffer is refused by the generated code (the zero-copy path needs a direct buffer)`() =
        running { d ->
            val heap = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(0).flip() as ByteBuffer
            val e = assertThrows<Throwable> { d.pushPacked(heap) }
            println("heap buffer: ${e::class.qualifiedName}: ${e.message}")
        }
}
