package dev.guardian.android

import android.hardware.Sensor
import android.hardware.SensorManager
import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianListener
import dev.guardian.testing.SyntheticDay
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.SensorEventBuilder
import org.robolectric.shadows.ShadowLooper
import org.robolectric.shadows.ShadowSensor
import java.io.File
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.random.Random

/** Paths the build passes as system properties (pom.xml; the Makefile's test-android), and the day. */
object Fixtures {
    private fun file(name: String): File {
        val p = System.getProperty(name)?.takeIf { it.isNotBlank() } ?: error("system property $name is not set (run `make test-android`)")
        return File(p).also { require(it.isFile) { "-D$name=$p: no such file (run `make test-android`, which makes it)" } }
    }

    val litert: String by lazy { file("guardian.litert").absolutePath }

    /** The synthetic day of `guardian demo --seed 42` (4 falls), streamed from the CLI once per sandbox. */
    val day: SyntheticDay get() = SyntheticDay.of(42)

    fun options(journalDir: File? = null): DetectorOptions =
        DetectorOptions(runtimeLibraryPath = litert, journalDir = journalDir?.absolutePath)

    /** Impact instants (ns) of the true falls the Rust engine detected in [day] (`guardian demo --json`). */
    val fallImpactsNs: List<Long> by lazy {
        val t0 = day.rows.t[0]
        day.demo.detections.filter { it.trueFall }.map { t0 + (it.impactS * 1e9).toLong() }
            .also { require(it.isNotEmpty()) { "no true fall detected in the day of seed ${day.seed}" } }
    }
}

/**
 * A piece of a recording (rows in time order), one array set per sensor: t in ns, values in
 * m/s^2 (accelerometer) or rad/s (gyroscope).
 */
class Window(
    val accT: LongArray,
    val acc: Array<FloatArray>,
    val gyroT: LongArray,
    val gyro: Array<FloatArray>,
) {
    /** Linear interpolation of one sensor at [t] (clamped to the ends). */
    fun sample(
        gyroscope: Boolean,
        t: Long,
    ): FloatArray {
        val ts = if (gyroscope) gyroT else accT
        val v = if (gyroscope) gyro else acc
        var i = java.util.Arrays.binarySearch(ts, t)
        if (i >= 0) return floatArrayOf(v[0][i], v[1][i], v[2][i])
        i = -i - 1
        if (i == 0) return floatArrayOf(v[0][0], v[1][0], v[2][0])
        if (i >= ts.size) return floatArrayOf(v[0][ts.size - 1], v[1][ts.size - 1], v[2][ts.size - 1])
        val f = ((t - ts[i - 1]).toDouble() / (ts[i] - ts[i - 1])).toFloat()
        return FloatArray(3) { k -> v[k][i - 1] + f * (v[k][i] - v[k][i - 1]) }
    }

    companion object {
        /** The rows of [day] with [fromNs] <= t < [toNs], found by binary search on t. */
        fun read(
            day: SyntheticDay,
            fromNs: Long,
            toNs: Long,
        ): Window {
            val r = day.rows
            val at = LongArrayList()
            val gt = LongArrayList()
            val a = Array(3) { FloatArrayList() }
            val g = Array(3) { FloatArrayList() }
            for (i in r.indexAt(fromNs) until r.indexAt(toNs)) {
                val gyro = r.gyro[i]
                (if (gyro) gt else at).add(r.t[i])
                val v = if (gyro) g else a
                v[0].add(r.x[i])
                v[1].add(r.y[i])
                v[2].add(r.z[i])
            }
            return Window(at.toArray(), Array(3) { a[it].toArray() }, gt.toArray(), Array(3) { g[it].toArray() })
        }
    }
}

class LongArrayList {
    private var a = LongArray(1024)
    var size = 0
        private set

    fun add(v: Long) {
        if (size == a.size) a = a.copyOf(size * 2)
        a[size++] = v
    }

    fun toArray(): LongArray = a.copyOf(size)
}

class FloatArrayList {
    private var a = FloatArray(1024)
    private var size = 0

    fun add(v: Float) {
        if (size == a.size) a = a.copyOf(size * 2)
        a[size++] = v
    }

    fun toArray(): FloatArray = a.copyOf(size)
}

/**
 * A phone's sensors under Robolectric: the shadow SensorManager with an accelerometer and,
 * optionally, a gyroscope, and a sensor hub that samples a recording at a jittery rate and
 * hands the samples over in hardware-batch-like bursts.
 *
 * Each burst holds about [burstNs] of samples of both sensors in timestamp order (as a FIFO
 * drains), sometimes split in two deliveries, with a random length; after each delivery the
 * looper runs (the source's end-of-delivery push).
 */
class SimulatedDevice(
    val sensorManager: SensorManager,
    withGyroscope: Boolean = true,
) {
    // The sensors stay in the shadow SensorManager for the rest of the test: reuse them.
    val accelerometer: Sensor = sensor(Sensor.TYPE_ACCELEROMETER)
    val gyroscope: Sensor? = if (withGyroscope) sensor(Sensor.TYPE_GYROSCOPE) else null

    private fun sensor(type: Int): Sensor =
        sensorManager.getDefaultSensor(type) ?: ShadowSensor.newInstance(type).also { shadowOf(sensorManager).addSensor(it) }

    var eventsSent = 0
        private set
    var deliveries = 0
        private set

    /**
     * Replays [w] from [fromNs] to [toNs] at [rateHz] with +-[jitter] of a period on every
     * timestamp. [gyroSilent] says when the gyroscope delivers nothing.
     */
    fun replay(
        w: Window,
        fromNs: Long,
        toNs: Long,
        rateHz: Double,
        seed: Int,
        jitter: Double = 0.15,
        burstNs: Long = 1_000_000_000L,
        gyroSilent: (Long) -> Boolean = { false },
    ) {
        val rnd = Random(seed)
        val period = 1e9 / rateHz
        // Both sensors' timestamps, jittered (each sensor its own phase).
        fun times(phase: Double): LongArray {
            val n = ((toNs - fromNs) / period).toInt()
            var last = Long.MIN_VALUE
            val out = LongArrayList()
            for (k in 0 until n) {
                val t = (fromNs + (k + phase) * period + (rnd.nextDouble() * 2 - 1) * jitter * period).toLong()
                if (t > last) {
                    out.add(t)
                    last = t
                }
            }
            return out.toArray()
        }
        val at = times(0.0)
        val gt = if (gyroscope != null) times(0.37).filterNot(gyroSilent).toLongArray() else LongArray(0)
        var i = 0
        var j = 0
        var burstEnd = fromNs
        while (i < at.size || j < gt.size) {
            // A FIFO drain: the burst's length varies around burstNs; sometimes two deliveries.
            burstEnd += (burstNs * (0.6 + 0.8 * rnd.nextDouble())).toLong()
            val split = if (rnd.nextInt(4) == 0) burstEnd - (burstNs * 0.3).toLong() else Long.MIN_VALUE
            var splitDone = split == Long.MIN_VALUE
            while (true) {
                val ta = if (i < at.size) at[i] else Long.MAX_VALUE
                val tg = if (j < gt.size) gt[j] else Long.MAX_VALUE
                val t = minOf(ta, tg)
                if (t == Long.MAX_VALUE || t >= burstEnd) break
                if (!splitDone && t >= split) {
                    endDelivery()
                    splitDone = true
                }
                if (ta <= tg) {
                    send(accelerometer, ta, w.sample(false, ta))
                    i++
                } else {
                    send(gyroscope!!, tg, w.sample(true, tg))
                    j++
                }
            }
            endDelivery()
        }
    }

    fun send(
        sensor: Sensor,
        tNs: Long,
        values: FloatArray,
    ) {
        val e = SensorEventBuilder.newBuilder().setSensor(sensor).setTimestamp(tNs).setValues(values).build()
        shadowOf(sensorManager).sendSensorEventToListeners(e, sensor)
        eventsSent++
    }

    /** The sensor service's delivery ends: the looper runs what was posted meanwhile. */
    fun endDelivery() {
        deliveries++
        ShadowLooper.idleMainLooper()
    }
}

/** Records every event (thread-safe). */
class Recorder : GuardianListener {
    val events = CopyOnWriteArrayList<GuardianEvent>()

    override fun onEvent(event: GuardianEvent) {
        events.add(event)
    }

    val falls get() = events.filterIsInstance<GuardianEvent.Fall>()

    fun await(
        timeoutMs: Long = 10_000,
        what: (List<GuardianEvent>) -> Boolean,
    ): Boolean {
        val end = System.currentTimeMillis() + timeoutMs
        while (System.currentTimeMillis() < end) {
            if (what(events)) return true
            Thread.sleep(20)
        }
        return what(events)
    }
}
