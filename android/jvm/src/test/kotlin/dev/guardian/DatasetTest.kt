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
 * Each trial through a fresh detector in 1 s packed batches, then stop() flushes the events;
 * the Fall events must be exactly those the Rust engine gives the same recording
 * (`guardian eval --sensors full`, run by `make kotlin-data`).
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

    /** Per recording, the (impact, confirmed) instants of the engine's Fall events, from its results.jsonl. */
    private fun engineFalls(): Map<String, List<Pair<Long, Long>>> {
        val file = Regex("\"file\":\"([^\"]+)\"")
        val fall = Regex("\\{\"kind\":\"fall\",\"impact_t_ns\":(-?\\d+),\"confirmed_t_ns\":(-?\\d+)")
        return Fixtures.datasetEngineResults.readLines().filter { it.isNotBlank() }.associate { line ->
            val events = line.substringAfter("\"events\":[").substringBefore("]")
            file.find(line)!!.groupValues[1] to fall.findAll(events).map { it.groupValues[1].toLong() to it.groupValues[2].toLong() }.toList()
        }
    }

    @Test
    fun `MobiFall test subjects - the Kotlin path raises exactly the Rust engine's falls`() {
        val root = Fixtures.datasetLabels.parentFile
        val labels = labels()
        val engine = engineFalls()
        assertTrue(labels.size >= 50, "${labels.size} trials")
        assertEquals(labels.map { it.file }.toSet(), engine.keys, "the engine's results cover the same recordings")
        var caught = 0
        val falseAlarms = mutableListOf<String>()
        val differ = mutableListOf<String>()
        for (l in labels) {
            val rec = Recording.parse(File(root, l.file))
            val r = Recorder()
            FallDetector(Fixtures.options()).use { d ->
                d.start(r)
                rec.streamTo(d)
                d.stop()
            }
            val falls = r.falls.map { it.alert.impactTNs to it.alert.confirmedTNs }
            r.falls.forEach { assertTrue(!it.alert.replay) }
            if (falls != engine.getValue(l.file)) differ += "${l.file}: kotlin $falls, engine ${engine.getValue(l.file)}"
            if (l.isFall) {
                if (falls.any { abs(it.first - l.impactTNs!!) <= 1_500_000_000L }) caught++
            } else if (falls.isNotEmpty()) {
                falseAlarms += l.file
            }
        }
        val nFalls = labels.count { it.isFall }
        println("MobiFall test through Kotlin: $caught/$nFalls falls caught, ${falseAlarms.size} false alarms in ${labels.size - nFalls} ADL trials $falseAlarms")
        assertEquals(emptyList<String>(), differ)
        // Not vacuous: the shipped model catches most of these falls (docs/EVALUATION.md has the figures).
        assertTrue(caught * 10 >= nFalls * 9, "$caught/$nFalls caught")
    }
}
