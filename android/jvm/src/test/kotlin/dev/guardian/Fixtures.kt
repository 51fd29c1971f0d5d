package dev.guardian

import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianListener
import java.io.BufferedReader
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList

/** Paths the build passes as system properties (see pom.xml and the Makefile's test-kotlin). */
object Fixtures {
    private fun prop(name: String): String =
        System.getProperty(name)?.takeIf { it.isNotBlank() }
            ?: error("system property $name is not set: run through `make test-kotlin` or pass -D$name=...")

    private fun file(name: String): File =
        File(prop(name)).also { require(it.isFile) { "-D$name=${it.path}: no such file (run `make test-kotlin`, which creates it)" } }

    /** libLiteRt.so, passed explicitly as `runtimeLibraryPath`. */
    val litert: String by lazy { file("guardian.litert").absolutePath }

    /** Synthetic days written by `guardian demo --seed N --write dayN.csv --json > dayN.json`. */
    val day: File by lazy { file("guardian.day") }
    val day2: File by lazy { file("guardian.day2") }

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
 * A recording (CSV `t_ns,sensor,x,y,z`, rows in arrival order) held in primitive arrays.
 * Synthetic days are parsed once per JVM (about 16 M rows) and shared by the test classes.
 */
class Recording(
    val t: LongArray,
    val gyro: BooleanArray,
    val x: FloatArray,
    val y: FloatArray,
    val z: FloatArray,
) {
    val size: Int get() = t.size

    /** First row index whose timestamp is >= [tNs] (rows are in time order per sensor; merged by time). */
    fun indexAt(tNs: Long): Int {
        var lo = 0
        var hi = size
        while (lo < hi) {
            val mid = (lo + hi) ushr 1
            if (t[mid] < tNs) lo = mid + 1 else hi = mid
        }
        return lo
    }

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
        private val cache = HashMap<String, Recording>()

        @Synchronized
        fun load(file: File): Recording = cache.getOrPut(file.absolutePath) { parse(file) }

        fun parse(file: File): Recording = file.bufferedReader(bufferSize = 1 shl 20).use { parse(it) }

        fun parse(reader: BufferedReader): Recording {
            var n = 0
            var t = LongArray(1 shl 16)
            var g = BooleanArray(t.size)
            var x = FloatArray(t.size)
            var y = FloatArray(t.size)
            var z = FloatArray(t.size)
            val header = reader.readLine()
            require(header == "t_ns,sensor,x,y,z") { "not a Guardian recording: header $header" }
            while (true) {
                val line = reader.readLine() ?: break
                if (line.isEmpty()) continue
                if (n == t.size) {
                    val m = n * 2
                    t = t.copyOf(m)
                    g = g.copyOf(m)
                    x = x.copyOf(m)
                    y = y.copyOf(m)
                    z = z.copyOf(m)
                }
                val c1 = line.indexOf(',')
                val c2 = line.indexOf(',', c1 + 1)
                val c3 = line.indexOf(',', c2 + 1)
                val c4 = line.indexOf(',', c3 + 1)
                t[n] = line.substring(0, c1).toLong()
                g[n] =
                    when (line.substring(c1 + 1, c2)) {
                        "acc" -> false
                        "gyro" -> true
                        else -> error("bad sensor in: $line")
                    }
                x[n] = line.substring(c2 + 1, c3).toFloat()
                y[n] = line.substring(c3 + 1, c4).toFloat()
                z[n] = line.substring(c4 + 1).toFloat()
                n++
            }
            return Recording(t.copyOf(n), g.copyOf(n), x.copyOf(n), y.copyOf(n), z.copyOf(n))
        }
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

/** `guardian demo --json` output next to a day's CSV: the Rust engine's detections of that day. */
data class DemoDetection(val impactS: Double, val score: Double, val activity: String, val trueFall: Boolean)

data class DemoResult(val falls: Int, val detections: List<DemoDetection>) {
    companion object {
        /** Reads `dayN.json` beside `dayN.csv` (a minimal reader for the fields used here). */
        fun forDay(csv: File): DemoResult {
            val json = File(csv.path.removeSuffix(".csv") + ".json")
            require(json.isFile) { "${json.path} missing: `guardian demo --seed N --write X.csv --json > X.json`" }
            val text = json.readText()
            val falls = Regex("\"falls\"\\s*:\\s*(\\d+)").find(text)!!.groupValues[1].toInt()
            val det = text.substringAfter("\"detections\"")
            val objects = Regex("\\{[^{}]*\\}").findAll(det).map { it.value }.toList()
            fun num(o: String, k: String) = Regex("\"$k\"\\s*:\\s*([-0-9.eE+]+)").find(o)!!.groupValues[1].toDouble()
            fun str(o: String, k: String) = Regex("\"$k\"\\s*:\\s*\"([^\"]*)\"").find(o)!!.groupValues[1]
            fun bool(o: String, k: String) = Regex("\"$k\"\\s*:\\s*(true|false)").find(o)!!.groupValues[1] == "true"
            return DemoResult(
                falls,
                objects.map { DemoDetection(num(it, "impact_s"), num(it, "score"), str(it, "activity"), bool(it, "true_fall")) },
            )
        }
    }
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
