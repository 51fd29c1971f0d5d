package dev.guardian

import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.FallDetector
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.lang.management.ManagementFactory
import java.util.concurrent.TimeUnit

/**
 * create / start / push / tick / stop / close 1,000 detectors (each with a journal, and a
 * delivery thread that attaches itself to the JVM and makes one callback) leaves no thread,
 * file descriptor or memory behind.
 *
 * The loop runs in a child JVM with a fixed 64 MB heap (-Xms = -Xmx), so that RSS measures
 * native memory and not the test JVM's heap (which holds the parsed synthetic days). Readings
 * after a warm-up of 200 detectors (JNA, LiteRT, JIT settle), then every 100 of 1,000 more.
 * Tolerances: JVM threads +2, OS threads +2, open file descriptors +2; RSS +32 MB over the
 * 1,000, and +6 MB over the last 500 (12 KB per detector; one leaked engine with its LiteRT
 * interpreter would be hundreds of KB). Measured here: threads and fds exactly back; RSS steps
 * by up to 16 MB in all (glibc malloc arenas, one per concurrent delivery thread), in one or two
 * steps within the first 400 detectors (once at 300 and 400 on a loaded CI machine: 3.7 and
 * 9.5 MB), then stays within +1 MB; over 8,000 detectors RSS moved within +-10 MB and did not
 * grow with the count.
 */
class LeakTest {
    @Test
    fun `1000 detectors leave no thread, file descriptor or memory behind`() {
        val n = Fixtures.leakIterations
        val journal = Fixtures.tempDir("leak")
        // One unacknowledged alert in the journal: every start() in the loop replays it, so each
        // detector's delivery thread makes one callback into the JVM.
        val rec = Recording.of(Fixtures.day)
        val impact = rec.t[0] + (Fixtures.day.demo.detections[0].impactS * 1e9).toLong()
        FallDetector(Fixtures.options(journal)).use { d ->
            val r = Recorder()
            d.start(r)
            rec.streamTo(d, rec.indexAt(impact - 120_000_000_000L), rec.indexAt(impact + 5_000_000_000L))
            d.stop()
            assertEquals(1, r.falls.size)
        }
        val cp = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val java = File(System.getProperty("java.home"), "bin/java").path
        val lib = System.getProperty("uniffi.component.guardian.libraryOverride")
        val p =
            ProcessBuilder(
                java, "-Xms64m", "-Xmx64m", "-XX:+UseSerialGC", "-XX:+AlwaysPreTouch",
                "-Duniffi.component.guardian.libraryOverride=$lib",
                "-cp", cp, LeakChild::class.java.name, Fixtures.litert, journal.toString(), n.toString(),
            ).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(10, TimeUnit.MINUTES))
        // LiteRT logs a few INFO lines per detector on stderr: keep the rest.
        print(out.lines().filterNot { it.startsWith("INFO: ") }.joinToString("\n", postfix = "\n"))
        assertEquals(0, p.exitValue(), out)
        val r = out.lines().first { it.startsWith("RESULT ") }.removePrefix("RESULT ").split(' ').associate {
            val (k, v) = it.split('=')
            k to v.toLong()
        }
        fun v(k: String) = r.getValue(k)
        assertTrue(v("jvm1") <= v("jvm0") + 2, "JVM threads: $r")
        assertTrue(v("os1") <= v("os0") + 2, "OS threads: $r")
        assertTrue(v("fd1") <= v("fd0") + 2, "open fds: $r")
        assertTrue(v("rss1") <= v("rss0") + 32 * 1024, "RSS kB over $n detectors: $r")
        assertTrue(v("rss1") <= v("rssHalf") + 6 * 1024, "RSS kB over the last ${n - n / 2} detectors: $r")
        journal.toFile().deleteRecursively()
    }
}

/** The child JVM of [LeakTest]: args = libLiteRt.so, journal dir, iterations. */
object LeakChild {
    @JvmStatic
    fun main(args: Array<String>) {
        // Each detector's delivery thread attaches itself to the JVM while it runs; it must be
        // gone, JVM thread included, after stop().
        val opts = DetectorOptions(runtimeLibraryPath = args[0], journalDir = args[1])
        val n = args[2].toInt()
        val batch = SampleBatch()
        var t = 1_000_000_000L
        val seen = java.util.concurrent.atomic.AtomicLong()
        val names = java.util.concurrent.ConcurrentHashMap.newKeySet<String>()
        fun cycle() {
            FallDetector(opts).use { d ->
                d.start(
                    guardianListener {
                        seen.incrementAndGet()
                        names.add(Thread.currentThread().name)
                    },
                )
                repeat(10) { i ->
                    batch.addAccelerometer(t + i * 10_000_000L, 0.1f, 9.8f, 0.2f)
                    batch.addGyroscope(t + i * 10_000_000L, 0.01f, 0.0f, 0.0f)
                }
                t += 100_000_000L
                batch.pushTo(d)
                d.tick(t)
                d.stop()
                check(d.stats().callbackCount == 1uL) { "one replay per start: ${d.stats()}" }
            }
        }
        val threads = ManagementFactory.getThreadMXBean()
        fun settle() = repeat(3) { System.gc(); Thread.sleep(50) }
        repeat(200) { cycle() }
        settle()
        val jvm0 = threads.threadCount
        val os0 = Proc.osThreads()
        val fd0 = Proc.openFds()
        val rss0 = Proc.rssKb()
        val started = System.nanoTime()
        var rssHalf = 0L
        val trace = StringBuilder("RSS kB every ${n / 10} detectors:")
        for (i in 1..n) {
            cycle()
            if (i % (n / 10).coerceAtLeast(1) == 0) {
                if (i == n / 2) settle()
                val rss = Proc.rssKb()
                if (i == n / 2) rssHalf = rss
                trace.append(' ').append(rss)
            }
        }
        println(trace)
        val ms = (System.nanoTime() - started) / 1_000_000
        settle()
        println("leak loop: $n detectors in $ms ms (${"%.2f".format(ms.toDouble() / n)} ms each); ${seen.get()} callbacks on threads named $names")
        println(
            "RESULT jvm0=$jvm0 jvm1=${threads.threadCount} os0=$os0 os1=${Proc.osThreads()} fd0=$fd0 fd1=${Proc.openFds()} " +
                "rss0=$rss0 rssHalf=$rssHalf rss1=${Proc.rssKb()} ms=$ms",
        )
    }
}
