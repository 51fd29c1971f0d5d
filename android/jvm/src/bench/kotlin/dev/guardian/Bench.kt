package dev.guardian

import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.DetectorSettings
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.GuardianListener
import dev.guardian.ffi.SensorKind
import dev.guardian.testing.SyntheticDay
import java.io.File
import java.lang.management.ManagementFactory
import java.util.concurrent.atomic.AtomicLong

/**
 * Benchmark of the Kotlin API on the host JVM (not a test): `make bench-kotlin`.
 *
 * The synthetic day of `guardian demo --seed 42` (22.2 h, 4 falls; streamed from the CLI given by
 * `-Dguardian.bin`, see [SyntheticDay]), looped to 24 h of 100 Hz accelerometer + gyroscope,
 * pushed the way Android delivers it with a 1 s report latency: one [SampleBatch.pushTo] (both
 * sensors, one zero-copy call) per second of sensor time.
 *
 * `-Dguardian.bench.path=jni|uniffi` chooses the push path of the 24 h run, one path per JVM
 * (the `bench` profile runs each in a fresh JVM, so process CPU, JIT and GC are each path's
 * own): `jni` is [NativePush] (the JNI fast path, the default), `uniffi` the generated
 * `pushPacked` through JNA (`-Dguardian.fastPath=false`, what [SampleBatch.pushTo] falls back
 * to). Reports process CPU (OperatingSystemMXBean), the pushing thread's CPU (ThreadMXBean),
 * the fixed cost of one push call on both paths, per-callback cost and the thread callbacks
 * arrive on (delivery-thread CPU between callbacks, on a run made of many alerts), and, in the
 * `uniffi` JVM, the per-sample `pushSample` and List-based `pushAccelerometer` paths on
 * shorter runs.
 */
fun main() {
    val hours = System.getProperty("guardian.bench.hours")?.toDouble() ?: 24.0
    val litert = System.getProperty("guardian.litert")
    val path = System.getProperty("guardian.bench.path", "jni")
    require(path == "jni" || path == "uniffi") { "-Dguardian.bench.path=jni|uniffi, not $path" }
    if (path == "uniffi") System.setProperty(NativePush.ENABLE_PROPERTY, "false")
    val only = System.getProperty("guardian.bench.only", "")
    val opts = DetectorOptions(runtimeLibraryPath = litert)
    val pathName = if (path == "jni") "JNI fast path (NativePush)" else "UniFFI pushPacked (JNA)"
    if (path == "jni") check(NativePush.isAvailable) { "JNI fast path unavailable: ${NativePush.unavailableReason}" }
    else check(!NativePush.isAvailable)
    println("push path of this JVM: $pathName")
    val day = SyntheticDay.of(42)
    val rec = Recording.of(day)

    val rows = ArrayList<Row>()
    fun row(name: String, calls: Long, samples: Long, r: Meter.Result, note: String = "") =
        rows.add(Row(name, calls, samples, r.cpu, r.thread, r.wall, r.alloc, note))

    // Warm-up: JIT, JNA, LiteRT.
    FallDetector(opts).use { d ->
        d.start(Noop)
        rec.streamTo(d, 0, rec.indexAt(rec.t[0] + 600_000_000_000L))
        d.stop()
    }

    // 1. 24 h, 1 s packed batches, both sensors per call: twice, in a cold JVM (JIT compiling
    //    the path meanwhile) and again once warm.
    for (pass in listOf("cold JVM", "warm JVM")) if (only.isEmpty()) run {
        val events = AtomicLong()
        FallDetector(opts).use { d ->
            d.start(object : GuardianListener { override fun onEvent(event: GuardianEvent) { events.incrementAndGet() } })
            val tasks0 = taskCpu()
            val m = Meter()
            val target = (hours * 3600e9).toLong()
            var pushed = 0L
            var calls = 0L
            var shift = 0L
            val span = rec.t.last() - rec.t[0] + 10_000_000L
            val batch = SampleBatch(256)
            while (pushed < target) {
                val len = minOf(span, target - pushed)
                calls += rec.streamShifted(d, shift, rec.t[0] + len, batch)
                pushed += len
                shift += span
            }
            d.stop()
            val r = m.stop()
            val tasks1 = taskCpu()
            val byName = HashMap<String, Long>()
            for ((tid, v) in tasks1) byName.merge(v.first, v.second - (tasks0[tid]?.second ?: 0L), Long::plus)
            println("CPU by OS thread during the %.0f h run, %s (ms): ".format(hours, pass) +
                byName.entries.filter { it.value > 0 }.sortedByDescending { it.value }.joinToString { "${it.key}=${it.value}" })
            val s = d.stats()
            val samples = (s.accSamples + s.gyroSamples).toLong()
            row("SampleBatch.pushTo via $pathName, 1 s batches (both sensors), %.1f h, %s".format(hours, pass), calls, samples, r,
                "${events.get()} callbacks, ${s.falls} falls, ${s.modelRuns} model runs")
        }
    }

    // 2. Per-sample pushSample, 10 min of sensor time (a UniFFI call whatever the path).
    if (only.isEmpty() && path == "uniffi") run {
        FallDetector(opts).use { d ->
            d.start(Noop)
            val to = rec.indexAt(rec.t[0] + 600_000_000_000L)
            val m = Meter()
            for (i in 0 until to) {
                d.pushSample(if (rec.gyro[i]) SensorKind.GYROSCOPE else SensorKind.ACCELEROMETER, rec.t[i], rec.x[i], rec.y[i], rec.z[i])
            }
            d.stop()
            val r = m.stop()
            row("pushSample, one call per sample, 10 min", to.toLong(), to.toLong(), r)
        }
    }

    // 3. List-based pushAccelerometer + pushGyroscope (boxed lists), 1 s batches, 1 h.
    if (only.isEmpty() && path == "uniffi") run {
        FallDetector(opts).use { d ->
            d.start(Noop)
            val to = rec.indexAt(rec.t[0] + 3_600_000_000_000L)
            val at = ArrayList<Long>(128); val ax = ArrayList<Float>(128); val ay = ArrayList<Float>(128); val az = ArrayList<Float>(128)
            val gt = ArrayList<Long>(128); val gx = ArrayList<Float>(128); val gy = ArrayList<Float>(128); val gz = ArrayList<Float>(128)
            var calls = 0L
            val m = Meter()
            var i = 0
            while (i < to) {
                val end = rec.t[i] + 1_000_000_000L
                while (i < to && rec.t[i] < end) {
                    if (rec.gyro[i]) { gt.add(rec.t[i]); gx.add(rec.x[i]); gy.add(rec.y[i]); gz.add(rec.z[i]) }
                    else { at.add(rec.t[i]); ax.add(rec.x[i]); ay.add(rec.y[i]); az.add(rec.z[i]) }
                    i++
                }
                d.pushAccelerometer(at, ax, ay, az)
                d.pushGyroscope(gt, gx, gy, gz)
                calls += 2
                at.clear(); ax.clear(); ay.clear(); az.clear(); gt.clear(); gx.clear(); gy.clear(); gz.clear()
            }
            d.stop()
            val r = m.stop()
            row("pushAccelerometer + pushGyroscope (List), 1 s, 1 h", calls, to.toLong(), r)
        }
    }

    // 4. The fixed cost of a call: a free function, and an empty (header-only) batch pushed
    //    through the UniFFI method and, where loaded, the JNI fast path.
    if (only.isEmpty()) run {
        val n = 100_000
        val m1 = Meter()
        var sink = 0uL
        repeat(n) { sink += dev.guardian.ffi.packedBatchSize(1u, 1u) }
        row("packedBatchSize (free function, no object handle)", n.toLong(), 0, m1.stop(), "sum $sink")
        FallDetector(opts).use { d ->
            d.start(Noop)
            val empty = java.nio.ByteBuffer.allocateDirect(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
            val m2 = Meter()
            repeat(n) { d.pushPacked(empty) }
            row("UniFFI pushPacked of an empty batch (method call: handle clone + call)", n.toLong(), 0, m2.stop())
            if (NativePush.isAvailable) {
                val id = d.fastPathId()
                val m3 = Meter()
                repeat(n) { NativePush.pushPacked(id, empty, 8) }
                row("NativePush.pushPacked of an empty batch (one JNI call)", n.toLong(), 0, m3.stop())
            }
            d.stop()
        }
    }

    // 5. Callbacks: the 30 s around the first fall looped 300 times (cancel window 5 s, no
    //    cooldown): a Fall and an AlertEscalated per loop. The delivery thread's own CPU clock
    //    is read at each callback: the difference between consecutive callbacks is what one
    //    callback costs that thread (JNA's dispatch, argument conversion, the Kotlin call, and
    //    an attach + detach if the thread were not attached). The thread of every callback is
    //    recorded: Rust attaches the delivery thread to the JVM once, so all callbacks of one
    //    start() arrive on one Java thread.
    fun callbacks(): String {
        val threads = ManagementFactory.getThreadMXBean()
        val stamps = LongArray(10_000)
        val n = java.util.concurrent.atomic.AtomicInteger()
        val seen = java.util.Collections.newSetFromMap(java.util.IdentityHashMap<Thread, Boolean>())
        val listener =
            object : GuardianListener {
                override fun onEvent(event: GuardianEvent) {
                    val k = n.getAndIncrement()
                    if (k < stamps.size) stamps[k] = threads.currentThreadCpuTime
                    synchronized(seen) { seen.add(Thread.currentThread()) }
                }
            }
        val fast = opts.copy(settings = DetectorSettings(cancelWindowMs = 5_000u, cooldownMs = 0u))
        FallDetector(fast).use { d ->
            d.start(listener)
            val demo = day.demo
            val impact = rec.t[0] + (demo.detections[0].impactS * 1e9).toLong()
            val from = rec.indexAt(impact - 20_000_000_000L)
            val to = rec.indexAt(impact + 10_000_000_000L)
            val len = rec.t[to] - rec.t[from]
            val batch = SampleBatch(256)
            var shift = 0L
            val m = Meter()
            repeat(300) {
                rec.streamShifted(d, shift, rec.t[to], batch, from)
                shift += len + 10_000_000L
            }
            d.stop()
            val r = m.stop()
            val count = minOf(n.get(), stamps.size)
            val deltas = (1 until count).map { stamps[it] - stamps[it - 1] }.sorted()
            val median = if (deltas.isEmpty()) 0L else deltas[deltas.size / 2]
            val p90 = if (deltas.isEmpty()) 0L else deltas[deltas.size * 9 / 10]
            val mean = if (deltas.isEmpty()) 0.0 else deltas.average()
            val who = synchronized(seen) { seen.toList() }.joinToString { "${it.name} (daemon=${it.isDaemon})" }
            row("callbacks (300 x 30 s around a fall)", n.get().toLong(), 0, r,
                "delivery-thread CPU per callback: median %.1f us, p90 %.1f us, mean %.1f us; Java threads seen: %d: %s"
                    .format(median / 1e3, p90 / 1e3, mean / 1e3, seen.size, who))
            return "one callback: %.1f us of delivery-thread CPU (median), on %d Java thread(s): %s".format(median / 1e3, seen.size, who)
        }
    }
    val callbackSummary = callbacks()

    println()
    println("| run | calls | samples | process CPU s | calling thread CPU s | wall s | per call us (process CPU) | per call us (calling thread) | bytes allocated per call | note |")
    println("|---|---|---|---|---|---|---|---|---|---|")
    for (r in rows) {
        println("| ${r.name} | ${r.calls} | ${r.samples} | %.3f | %.3f | %.3f | %.1f | %.1f | %d | ${r.note} |".format(
            r.cpu / 1e9, r.thread / 1e9, r.wall / 1e9,
            if (r.calls > 0) r.cpu / 1e3 / r.calls else 0.0,
            if (r.calls > 0) r.thread / 1e3 / r.calls else 0.0,
            if (r.calls > 0) r.alloc / r.calls else 0L))
    }
    println()
    if (only.isEmpty()) {
        println("24 h target: < 2 s process CPU; $pathName, measured over %.1f h: %.3f s cold, %.3f s warm (pushing thread %.3f / %.3f s)"
            .format(hours, rows[0].cpu / 1e9, rows[1].cpu / 1e9, rows[0].thread / 1e9, rows[1].thread / 1e9))
    }
    println(callbackSummary)
}

/** CPU of every OS thread of this process, ms, by tid: (name, utime + stime) from /proc/self/task. */
private fun taskCpu(): Map<String, Pair<String, Long>> {
    val tick = 10L // USER_HZ = 100 on Linux
    return File("/proc/self/task").listFiles().orEmpty().mapNotNull { dir ->
        val stat = runCatching { File(dir, "stat").readText() }.getOrNull() ?: return@mapNotNull null
        val name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
        val f = stat.substring(stat.lastIndexOf(')') + 2).split(' ')
        dir.name to (name.replace(Regex("[0-9]+$"), "#") to (f[11].toLong() + f[12].toLong()) * tick)
    }.toMap()
}

private object Noop : GuardianListener {
    override fun onEvent(event: GuardianEvent) {}
}

private class Row(val name: String, val calls: Long, val samples: Long, val cpu: Long, val thread: Long, val wall: Long, val alloc: Long, val note: String)

/** Process CPU (all threads: JIT, GC, delivery), the calling thread's CPU, and wall time. */
private class Meter {
    private val os = ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean
    private val threads = ManagementFactory.getThreadMXBean()
    private val cpu0 = os.processCpuTime
    private val thread0 = threads.currentThreadCpuTime
    private val wall0 = System.nanoTime()

    private val alloc0 = (threads as com.sun.management.ThreadMXBean).currentThreadAllocatedBytes

    class Result(val cpu: Long, val thread: Long, val wall: Long, val alloc: Long)

    fun stop() =
        Result(os.processCpuTime - cpu0, threads.currentThreadCpuTime - thread0, System.nanoTime() - wall0,
            (threads as com.sun.management.ThreadMXBean).currentThreadAllocatedBytes - alloc0)
}

/**
 * Streams rows from [from] while `t < untilT`, with every timestamp moved by [shift], in 1 s
 * packed batches; returns the number of push calls.
 */
private fun Recording.streamShifted(d: FallDetector, shift: Long, untilT: Long, batch: SampleBatch, from: Int = 0): Long {
    var calls = 0L
    var end = t[from] + 1_000_000_000L
    var i = from
    while (i < size && t[i] < untilT) {
        if (t[i] >= end) {
            batch.pushTo(d)
            calls++
            while (t[i] >= end) end += 1_000_000_000L
        }
        if (gyro[i]) batch.addGyroscope(t[i] + shift, x[i], y[i], z[i]) else batch.addAccelerometer(t[i] + shift, x[i], y[i], z[i])
        i++
    }
    if (!batch.isEmpty()) {
        batch.pushTo(d)
        calls++
    }
    return calls
}
