package dev.guardian

import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.FallDetector
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.util.Collections
import java.util.IdentityHashMap
import java.util.concurrent.TimeUnit

/**
 * The delivery thread attaches itself to the JVM (Rust, `JNI_GetCreatedJavaVMs`): callbacks
 * arrive on one Java thread per start, with nothing set up on the Kotlin side, and the thread
 * does not outlive stop() (nor, once it attaches as a daemon, keep the JVM from exiting).
 */
class DeliveryThreadTest {
    @Test
    fun `every callback of a start arrives on one Java thread, gone after stop`() {
        val rec = Recording.of(Fixtures.day)
        val seen = Collections.synchronizedSet(Collections.newSetFromMap(IdentityHashMap<Thread, Boolean>()))
        var count = 0
        val listener = guardianListener { seen.add(Thread.currentThread()); count++ }
        FallDetector(Fixtures.options()).use { d ->
            for (run in 1..2) {
                seen.clear()
                count = 0
                d.start(listener)
                // Two falls and their escalations: four callbacks, seconds apart in sensor time.
                val demo = Fixtures.day.demo
                val from = rec.indexAt(rec.t[0] + ((demo.detections[0].impactS - 60) * 1e9).toLong())
                val to = rec.indexAt(rec.t[0] + ((demo.detections[1].impactS + 40) * 1e9).toLong())
                rec.streamTo(d, from, to)
                d.stop()
                assertTrue(count >= 4, "callbacks: $count")
                assertEquals(1, seen.size, "Java threads of start #$run: ${seen.map { it.name }}")
                val thread = seen.first()
                assertTrue(thread !== Thread.currentThread())
                thread.join(5_000)
                assertFalse(thread.isAlive, "the delivery thread ended with stop()")
            }
        }
    }

    // Failed with the library of 2b45eb8, which attached the delivery thread as a NON-daemon
    // thread (DestroyJavaVM waited for it forever if a detector was never stopped).
    @Test
    fun `a JVM whose main returns with a detector still running exits`() {
        val cp = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val java = File(System.getProperty("java.home"), "bin/java").path
        val lib = System.getProperty("uniffi.component.guardian.libraryOverride")
        val p =
            ProcessBuilder(java, "-Duniffi.component.guardian.libraryOverride=$lib", "-cp", cp, ForgottenDetector::class.java.name, Fixtures.litert)
                .redirectErrorStream(true).start()
        val exited = p.waitFor(60, TimeUnit.SECONDS)
        if (!exited) p.destroyForcibly().waitFor()
        val out = p.inputStream.bufferedReader().readText()
        print(out.lines().filterNot { it.startsWith("INFO: ") }.joinToString("\n", postfix = "\n"))
        assertTrue(exited, "the JVM did not exit within 60 s: a non-daemon attached delivery thread keeps it alive")
        assertTrue(out.contains("main returns"), out)
    }
}

/** The child JVM of [DeliveryThreadTest]: starts a detector, never stops nor closes it. */
object ForgottenDetector {
    @JvmStatic
    fun main(args: Array<String>) {
        val d = FallDetector(DetectorOptions(runtimeLibraryPath = args[0]))
        d.start(guardianListener { })
        SampleBatch().addAccelerometer(1_000_000L, 0f, 9.8f, 0f).addGyroscope(1_000_000L, 0f, 0f, 0f).pushTo(d)
        println("main returns; running=${d.state().running}")
    }
}
