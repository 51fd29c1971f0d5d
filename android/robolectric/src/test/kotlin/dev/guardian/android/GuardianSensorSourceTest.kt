package dev.guardian.android

import android.content.Context
import android.hardware.SensorManager
import android.os.Looper
import org.robolectric.RuntimeEnvironment
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.InputUnits
import dev.guardian.ffi.ModelKind
import dev.guardian.ffi.SensorKind
import dev.guardian.ffi.SensorMode
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import kotlin.math.abs

/**
 * Simulated SensorEvents, sampled from a recording with falls at jittery rates and delivered in
 * hardware-batch-like bursts, go through GuardianSensorSource, the generated bindings and the real
 * core (host library, real models); the falls arrive as listener callbacks.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], manifest = Config.NONE)
class GuardianSensorSourceTest {
    private val context: Context = RuntimeEnvironment.getApplication()
    private val sensorManager = context.getSystemService(SensorManager::class.java)!!

    private class Run(val recorder: Recorder, val source: GuardianSensorSource, val device: SimulatedDevice)

    /** Replays [LEAD_S] s before to [TAIL_S] s after [impactNs] through a source on the main looper. */
    private fun run(
        impactNs: Long,
        rateHz: Double,
        seed: Int,
        withGyroscope: Boolean = true,
        gyroSilent: (Long) -> Boolean = { false },
    ): Run {
        val from = impactNs - LEAD_S * 1_000_000_000L
        val to = impactNs + TAIL_S * 1_000_000_000L
        val w = Window.read(Fixtures.day, from - 1_000_000_000L, to + 1_000_000_000L)
        val device = SimulatedDevice(sensorManager, withGyroscope)
        val options = GuardianSensorSource.detectorOptions(Fixtures.options(), sensorManager)
        val recorder = Recorder()
        FallDetector(options).use { d ->
            d.start(recorder)
            val source = GuardianSensorSource(sensorManager, d, rateHz = rateHz.toInt(), looper = Looper.getMainLooper())
            source.start()
            assertTrue(shadowOf(sensorManager).hasListener(shadowOf(sensorManager).listeners.single(), device.accelerometer))
            device.replay(w, from, to, rateHz, seed, gyroSilent = gyroSilent)
            source.stop()
            assertFalse("stop() unregisters", shadowOf(sensorManager).listeners.isNotEmpty())
            d.stop()
            return Run(recorder, source, device)
        }
    }

    private fun assertOneFallAt(
        r: Run,
        impactNs: Long,
        model: ModelKind,
    ) {
        val falls = r.recorder.falls
        assertEquals("falls: ${r.recorder.events}", 1, falls.size)
        val a = falls.single().alert
        assertEquals(model, a.model)
        assertTrue("impact ${a.impactTNs} vs recorded $impactNs", abs(a.impactTNs - impactNs) < 300_000_000L)
        assertTrue("alert within about 4 s of the impact", a.confirmedTNs - a.impactTNs < 4_000_000_000L)
        // Every sample went in, in one push per delivery at most (bursts are >= 200 ms of samples).
        assertEquals(r.device.eventsSent.toLong(), r.source.samplesPushed)
        assertTrue("pushes ${r.source.pushes} <= deliveries ${r.device.deliveries}", r.source.pushes <= r.device.deliveries)
        assertTrue("pushes ${r.source.pushes} >= deliveries/2", r.source.pushes * 2 >= r.device.deliveries)
    }

    @Test
    fun `falls at 100 Hz in 1 s bursts arrive as callbacks`() {
        Fixtures.fallImpactsNs.forEachIndexed { k, impact ->
            assertOneFallAt(run(impact, 100.0, seed = 100 + k), impact, ModelKind.FULL)
        }
    }

    @Test
    fun `falls at 50 Hz and 200 Hz arrive as callbacks`() {
        val impacts = Fixtures.fallImpactsNs
        for ((k, impact) in impacts.take(2).withIndex()) {
            assertOneFallAt(run(impact, 50.0, seed = 50 + k), impact, ModelKind.FULL)
        }
        for ((k, impact) in impacts.takeLast(2).withIndex()) {
            assertOneFallAt(run(impact, 200.0, seed = 200 + k), impact, ModelKind.FULL)
        }
    }

    @Test
    fun `a device without a gyroscope runs the accelerometer-only model`() {
        val impact = Fixtures.fallImpactsNs.first()
        val r = run(impact, 100.0, seed = 7, withGyroscope = false)
        val options = GuardianSensorSource.detectorOptions(Fixtures.options(), sensorManager)
        assertEquals(SensorMode.ACC_ONLY, options.sensors)
        assertEquals(InputUnits.ANDROID, options.units)
        assertFalse(r.source.usesGyroscope)
        assertOneFallAt(r, impact, ModelKind.ACC_ONLY)
    }

    @Test
    fun `a gyroscope that stops switches to the accelerometer-only model and back`() {
        val impact = Fixtures.fallImpactsNs.first()
        val s = 1_000_000_000L
        // Silent from 28 s to 16 s before the fall: stalled after 5.12 s, back before the fall.
        val r = run(impact, 100.0, seed = 9, gyroSilent = { it in impact - 28 * s until impact - 16 * s })
        val ev = r.recorder.events
        val stalled = ev.indexOfFirst { it is GuardianEvent.SensorStalled && it.sensor == SensorKind.GYROSCOPE }
        val toAccOnly = ev.indexOfFirst { it is GuardianEvent.ModelChanged && it.model == ModelKind.ACC_ONLY }
        val resumed = ev.indexOfFirst { it is GuardianEvent.SensorResumed && it.sensor == SensorKind.GYROSCOPE }
        val toFull = ev.indexOfFirst { it is GuardianEvent.ModelChanged && it.model == ModelKind.FULL }
        assertTrue("events: $ev", stalled >= 0 && toAccOnly > stalled && resumed > toAccOnly && toFull >= resumed)
        assertOneFallAt(r, impact, ModelKind.FULL)

        // Silent from 20 s before the fall on: the accelerometer-only model raises it.
        val r2 = run(impact, 100.0, seed = 10, gyroSilent = { it >= impact - 20 * s })
        assertTrue(r2.recorder.events.any { it is GuardianEvent.ModelChanged && it.model == ModelKind.ACC_ONLY })
        assertOneFallAt(r2, impact, ModelKind.ACC_ONLY)
    }

    @Test
    fun `without hardware batching samples are still pushed in batches, and flushed on stop`() {
        SimulatedDevice(sensorManager)
        val recorder = Recorder()
        FallDetector(GuardianSensorSource.detectorOptions(Fixtures.options(), sensorManager)).use { d ->
            d.start(recorder)
            val source = GuardianSensorSource(sensorManager, d, maxReportLatencyUs = 0, looper = Looper.getMainLooper())
            source.start()
            val device = SimulatedDeviceAccess(sensorManager)
            // 3 s at 100 Hz, one event per delivery (no FIFO).
            for (k in 0 until 300) {
                val t = 5_000_000_000L + k * 10_000_000L
                device.acc(t, floatArrayOf(0f, 9.81f, 0f))
                device.gyro(t + 3_000_000L, floatArrayOf(0f, 0f, 0f))
                org.robolectric.shadows.ShadowLooper.idleMainLooper()
            }
            assertTrue("pushes ${source.pushes} for 3 s", source.pushes in 10..20)
            device.acc(9_000_000_000L, floatArrayOf(0f, 9.81f, 0f))
            source.stop()
            assertEquals(601L, source.samplesPushed)
            assertEquals(601L, (d.stats().accSamples + d.stats().gyroSamples).toLong())
            d.stop()
        }
    }

    companion object {
        const val LEAD_S = 30L
        const val TAIL_S = 12L
    }
}

/** Sends single events to the registered listeners of the shadow SensorManager's sensors. */
class SimulatedDeviceAccess(private val sm: SensorManager) {
    private val acc = sm.getDefaultSensor(android.hardware.Sensor.TYPE_ACCELEROMETER)!!
    private val gyro = sm.getDefaultSensor(android.hardware.Sensor.TYPE_GYROSCOPE)!!

    private fun send(
        s: android.hardware.Sensor,
        t: Long,
        v: FloatArray,
    ) = shadowOf(sm).sendSensorEventToListeners(
        org.robolectric.shadows.SensorEventBuilder.newBuilder().setSensor(s).setTimestamp(t).setValues(v).build(),
        s,
    )

    fun acc(
        t: Long,
        v: FloatArray,
    ) = send(acc, t, v)

    fun gyro(
        t: Long,
        v: FloatArray,
    ) = send(gyro, t, v)
}
