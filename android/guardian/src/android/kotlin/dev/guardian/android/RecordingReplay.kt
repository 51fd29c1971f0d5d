package dev.guardian.android

import android.os.SystemClock
import dev.guardian.SampleBatch
import dev.guardian.ffi.FallDetector
import java.io.File

/**
 * A recording (CSV `t_ns,sensor,x,y,z`, Android units, rows in time order, as written by
 * `guardian demo --write`) fed to a detector through the same packed batches as the sensors, in
 * place of them: [GuardianMonitorConfig.replayRecording]. For demos, integration tests of an
 * app's alert and escalation flow without falling, and the emulator smoke test.
 *
 * Timestamps are shifted so that the recording ends now on the sensor clock
 * (`SystemClock.elapsedRealtimeNanos()`): the detector's alert deadline is then real time, and
 * the service's ticks escalate it on time. The samples are pushed as fast as the detector takes
 * them, in batches of [batchNs] of recording.
 */
class RecordingReplay(
    private val file: File,
    private val batchNs: Long = 1_000_000_000L,
) {
    /** Whether the recording has gyroscope rows (read by [run]). */
    var hasGyroscope: Boolean = false
        private set

    /** Pushes the whole recording into [detector]; returns the number of samples. */
    fun run(detector: FallDetector): Int {
        var n = 0
        val t = ArrayList<Long>()
        val rows = ArrayList<FloatArray>()
        val gyro = ArrayList<Boolean>()
        file.bufferedReader().useLines { lines ->
            for (line in lines) {
                if (line.isEmpty() || line.startsWith("t_ns")) continue
                val p = line.split(',')
                require(p.size == 5) { "${file.name}: not a Guardian recording row: $line" }
                t += p[0].toLong()
                gyro += (p[1] == "gyro")
                rows += floatArrayOf(p[2].toFloat(), p[3].toFloat(), p[4].toFloat())
            }
        }
        if (t.isEmpty()) return 0
        hasGyroscope = gyro.any { it }
        val shift = SystemClock.elapsedRealtimeNanos() - t.max()
        val batch = SampleBatch(256)
        var end = t[0] + batchNs
        for (i in t.indices) {
            if (t[i] >= end) {
                batch.pushTo(detector)
                while (t[i] >= end) end += batchNs
            }
            val v = rows[i]
            if (gyro[i]) batch.addGyroscope(t[i] + shift, v[0], v[1], v[2]) else batch.addAccelerometer(t[i] + shift, v[0], v[1], v[2])
            n++
        }
        batch.pushTo(detector)
        return n
    }
}
