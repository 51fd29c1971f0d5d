package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import kotlin.math.abs

/**
 * Real recordings: the MobiFall test subjects (never used in training), exported by
 * `guardian_eval export --dataset mobifall --split test` (86 trials: 48 falls, 38 ADL).
 * Each trial through a fresh detector in 1 s packed batches, then stop() flushes the events.
 */
class DatasetTest {
    private data class Label(val file: String, val activity: String, val isFall: Boolean, val impactTNs: Long?)

    private fun labels(): List<Label> {
        val lines = Fixtures.datasetLabels.readLines()
        val h = lines.first().split(',')
        return lines.drop(1).filter { it.isNotBlank() }.map { l ->
            val c = l.split(',')
            fun col(n: String) = c[h.indexOf(n)]
            Label(col("file"), col("activity"), col("is_fall") == "1", col("impact_t_ns").takeIf { it.isNotEmpty() }?.toLong())
        }
    }

    @Test
    fun `MobiFall test subjects - each fall trial raises one Fall at its impact, ADL trials none`() {
        val root = Fixtures.datasetLabels.parentFile
        val labels = labels()
        assertTrue(labels.size >= 50, "${labels.size} trials")
        var caught = 0
        val falseAlarms = mutableListOf<String>()
        val missed = mutableListOf<String>()
        for (l in labels) {
            val rec = Recording.parse(File(root, l.file))
            val r = Recorder()
            FallDetector(Fixtures.options()).use { d ->
                d.start(r)
                rec.streamTo(d)
                d.stop()
            }
            val falls = r.falls
            falls.forEach {
                assertTrue(it.alert.impactTNs < it.alert.confirmedTNs)
                assertTrue(!it.alert.replay)
            }
            if (l.isFall) {
                val hit = falls.filter { abs(it.alert.impactTNs - l.impactTNs!!) <= 1_000_000_000L }
                if (hit.size == 1 && falls.size == 1) caught++ else missed += "${l.file}: ${falls.map { it.alert.impactTNs - l.impactTNs!! }}"
            } else if (falls.isNotEmpty()) {
                falseAlarms += l.file
            }
        }
        val nFalls = labels.count { it.isFall }
        println("MobiFall test: $caught/$nFalls falls caught, ${falseAlarms.size} false alarms in ${labels.size - nFalls} ADL trials; missed $missed, false $falseAlarms")
        // The Rust engine catches 48/48 of these (docs/EVALUATION.md); the Kotlin path must too.
        assertEquals(nFalls, caught, "missed: $missed")
        assertEquals(emptyList<String>(), falseAlarms)
        assertTrue(r0(labels) > 0)
    }

    private fun r0(labels: List<Label>) = labels.count { !it.isFall }
}
