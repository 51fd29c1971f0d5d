package dev.guardian.testing

import java.io.BufferedReader
import java.io.File
import java.io.FileInputStream
import java.io.RandomAccessFile
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.concurrent.thread

/**
 * The rows of a recording (CSV `t_ns,sensor,x,y,z`, in arrival order) in primitive arrays:
 * [t] in ns, [gyro] true for a gyroscope row, [x], [y], [z] in m/s^2 (accelerometer, gravity
 * included) or rad/s (gyroscope).
 */
class Rows(
    val t: LongArray,
    val gyro: BooleanArray,
    val x: FloatArray,
    val y: FloatArray,
    val z: FloatArray,
) {
    val size: Int get() = t.size

    /** First row index whose timestamp is >= [tNs] (rows merged by time), by binary search. */
    fun indexAt(tNs: Long): Int {
        var lo = 0
        var hi = size
        while (lo < hi) {
            val mid = (lo + hi) ushr 1
            if (t[mid] < tNs) lo = mid + 1 else hi = mid
        }
        return lo
    }

    companion object {
        /** Reads a recording to its end; refuses another header or a sensor other than `acc` and `gyro`. */
        fun parse(reader: BufferedReader): Rows {
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
            return Rows(t.copyOf(n), g.copyOf(n), x.copyOf(n), y.copyOf(n), z.copyOf(n))
        }
    }
}

/**
 * One detection of `guardian demo --json`: impact in s after the day's first row, the model's
 * score (0-1), the activity of the day's script at that time, whether it is one of its falls.
 */
data class DemoDetection(val impactS: Double, val score: Double, val activity: String, val trueFall: Boolean)

/** `guardian demo --json`: the day's true falls and the Rust engine's detections of it, in time order. */
data class DemoResult(val falls: Int, val detections: List<DemoDetection>) {
    companion object {
        /** A minimal reader for the fields used here. */
        fun parse(text: String): DemoResult {
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

/**
 * The synthetic day of `guardian demo --seed <seed>` (22.2 h of 100 Hz accelerometer +
 * gyroscope, 4 falls, about 16 M rows) and the Rust engine's detections of it (`--json`).
 *
 * The CLI (`-Dguardian.bin`; `-Dguardian.litert` is passed as `--litert`) writes the day's CSV
 * into a named pipe in a temporary folder, read here as it is written: the day is never on disk.
 */
class SyntheticDay(val seed: Int, val rows: Rows, val demo: DemoResult) {
    companion object {
        /** Longest a generation may take, minutes (about 20 s on 2 busy cores). */
        private const val TIMEOUT_MIN = 10L

        private val cache = HashMap<Int, SyntheticDay>()

        /** The day of [seed], generated once per JVM (class loader). */
        @Synchronized
        fun of(seed: Int): SyntheticDay = cache.getOrPut(seed) { generate(seed) }

        private fun generate(seed: Int): SyntheticDay {
            val bin =
                System.getProperty("guardian.bin")?.takeIf { it.isNotBlank() }
                    ?: error("system property guardian.bin is not set: run through make or pass -Dguardian.bin=<target/release/guardian>")
            require(File(bin).canExecute()) { "-Dguardian.bin=$bin: no such executable (`make build` makes it)" }
            val command = mutableListOf(bin, "demo", "--seed", "$seed", "--json")
            System.getProperty("guardian.litert")?.takeIf { it.isNotBlank() }?.let { command += listOf("--litert", it) }
            val start = System.nanoTime()
            val dir = Files.createTempDirectory("guardian-day$seed-").toFile()
            try {
                val fifo = File(dir, "day.csv")
                val mkfifo = ProcessBuilder("mkfifo", fifo.path).redirectErrorStream(true).start()
                val mkfifoOut = mkfifo.inputStream.bufferedReader().readText().trim()
                check(mkfifo.waitFor() == 0) { "mkfifo ${fifo.path} failed: $mkfifoOut" }
                command += listOf("--write", fifo.path)
                val shown = command.joinToString(" ")
                val json = File(dir, "day.json")
                val stderr = File(dir, "stderr.txt")
                val process = ProcessBuilder(command).redirectOutput(json).redirectError(stderr).start()
                // The CLI opens the pipe before it generates the day, and our open blocks until it
                // does: should it exit first (or be killed on timeout), the watcher opens the pipe
                // read-write (never blocks, counts as a writer) until our open has returned.
                val opened = AtomicBoolean()
                val timedOut = AtomicBoolean()
                val watcher =
                    thread(isDaemon = true, name = "guardian-day$seed") {
                        if (!process.waitFor(TIMEOUT_MIN, TimeUnit.MINUTES)) {
                            timedOut.set(true)
                            process.destroyForcibly().waitFor()
                        }
                        while (!opened.get()) {
                            RandomAccessFile(fifo, "rw").close()
                            Thread.sleep(10)
                        }
                    }
                try {
                    val rows =
                        try {
                            val input =
                                try {
                                    FileInputStream(fifo)
                                } finally {
                                    opened.set(true)
                                }
                            input.reader().buffered(1 shl 20).use { Rows.parse(it) }
                        } catch (e: Exception) {
                            // Our end is closed: a writing CLI fails on its own.
                            val status =
                                when {
                                    timedOut.get() -> "killed after $TIMEOUT_MIN min"
                                    process.waitFor(5, TimeUnit.SECONDS) -> "exit code ${process.exitValue()}"
                                    else -> "killed"
                                }
                            process.destroyForcibly().waitFor()
                            throw IllegalStateException("reading the day from `$shown` failed ($status): ${stderr.readText().trim()}", e)
                        }
                    val code = process.waitFor()
                    check(!timedOut.get()) { "`$shown` killed after $TIMEOUT_MIN min" }
                    check(code == 0) { "`$shown` exited with $code: ${stderr.readText().trim()}" }
                    val day = SyntheticDay(seed, rows, DemoResult.parse(json.readText()))
                    println("guardian demo --seed $seed: ${rows.size} rows through a named pipe in %.1f s".format((System.nanoTime() - start) / 1e9))
                    return day
                } finally {
                    opened.set(true)
                    process.destroyForcibly()
                    watcher.join()
                }
            } finally {
                dir.deleteRecursively()
            }
        }
    }
}
