package dev.guardian

import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianListener
import dev.guardian.testing.Rows
import dev.guardian.testing.SyntheticDay
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList

/** Paths the build passes as system properties (see pom.xml and the Makefile's test-kotlin), and the day. */
object Fixtures {
    private fun prop(name: String): String =
        System.getProperty(name)?.takeIf { it.isNotBlank() }
            ?: error("system property $name is not set: run through `make test-kotlin` or pass -D$name=...")

    private fun file(name: String): File =
        File(prop(name)).also { require(it.isFile) { "-D$name=${it.path}: no such file (run `make test-kotlin`, which creates it)" } }

    /** libLiteRt.so, passed explicitly as `runtimeLibraryPath`. */
    val litert: String by lazy { file("guardian.litert").absolutePath }

    /** The synthetic day of `guardian demo --seed 42` (4 falls), streamed from the CLI once per JVM. */
    val day: SyntheticDay get() = SyntheticDay.of(42)

    /** labels.csv of `guardian_eval export --dataset mobifall --split test`. */
    val datasetLabels: File by lazy { file("guardian.dataset") }

    /** results.jsonl of `guardian eval --sensors full` on those recordings: the Rust engine's events. */
    val datasetEngineResults: File by lazy { file("guardian.dataset.engine") }

    val leakIterations: Int get() = System.getProperty("guardian.leak.iterations")?.toIntOrNull() ?: 1000

    fun options(journalDir: Path? = null): DetectorOptions =
        DetectorOptions(runtimeLibraryPath = litert, journalDir = journalDir?.toString())

    fun tempDir(prefix: String): Path = Files.createTempDirectory("guardian-$prefix-")
}

/**
 * A recording's rows ([Rows]: `t_ns,sensor,x,y,z` in arrival order, t in ns) with what the tests
 * do with them. Built on a synthetic day's arrays (no copy) or parsed from a file.
 */
class Recording(private val rows: Rows) {
    val t: LongArray = rows.t
    val gyro: BooleanArray = rows.gyro
    val x: FloatArray = rows.x
    val y: FloatArray = rows.y
    val z: FloatArray = rows.z

    val size: Int get() = t.size

    /** First row index whose timestamp is >= [tNs] ([Rows.indexAt]). */
    fun indexAt(tNs: Long): Int = rows.indexAt(tNs)

    /**
     * Streams rows [from, to) into [detector] the way Android delivers a 1 s report latency:
     * every [batchNs] of sensor time, both sensors in one [SampleBatch.pushTo] call.
     * Returns the number of push calls.
     */
    fun streamTo(
        detector: FallDetector,
        from: Int = 0,
        to: Int = size,
        batchNs: Long = 1_000_000_000L,
        batch: SampleBatch = SampleBatch(256),
        afterPush: (() -> Unit)? = null,
    ): Int {
        if (from >= to) return 0
        var calls = 0
        var end = t[from] + batchNs
        for (i in from until to) {
            if (t[i] >= end) {
                batch.pushTo(detector)
                calls++
                afterPush?.invoke()
                while (t[i] >= end) end += batchNs
            }
            if (gyro[i]) batch.addGyroscope(t[i], x[i], y[i], z[i]) else batch.addAccelerometer(t[i], x[i], y[i], z[i])
        }
        if (!batch.isEmpty()) {
            batch.pushTo(detector)
            calls++
            afterPush?.invoke()
        }
        return calls
    }

    companion object {
        /** The rows of a synthetic day ([SyntheticDay.of] caches it). */
        fun of(day: SyntheticDay): Recording = Recording(day.rows)

        fun parse(file: File): Recording = file.bufferedReader(bufferSize = 1 shl 20).use { Recording(Rows.parse(it)) }
    }
}

/** A listener that records every event (thread-safe) and the thread each arrived on. */
class Recorder : GuardianListener {
    val events = CopyOnWriteArrayList<GuardianEvent>()
    val threads = CopyOnWriteArrayList<String>()

    override fun onEvent(event: GuardianEvent) {
        threads.add(Thread.currentThread().name)
        events.add(event)
    }

    val falls: List<GuardianEvent.Fall> get() = events.filterIsInstance<GuardianEvent.Fall>()
    val escalations: List<GuardianEvent.AlertEscalated> get() = events.filterIsInstance<GuardianEvent.AlertEscalated>()
}

/** /proc readings of this process (Linux). */
object Proc {
    fun openFds(): Int = File("/proc/self/fd").list()!!.size

    fun rssKb(): Long =
        File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }
            .removePrefix("VmRSS:").trim().removeSuffix("kB").trim().toLong()

    fun osThreads(): Int =
        File("/proc/self/status").readLines().first { it.startsWith("Threads:") }.removePrefix("Threads:").trim().toInt()
}
