package dev.guardian

import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The "Use it from Kotlin" example of the README, as a test (the lines between the markers). */
class ReadmeExampleTest {
    @Test
    fun `README example`() {
        val rec = Recording.load(Fixtures.day)
        val impact = rec.t[0] + (DemoResult.forDay(Fixtures.day).detections[0].impactS * 1e9).toLong()
        val journalDir = Fixtures.tempDir("readme").toString()
        // A few minutes around the first fall of the synthetic day, as a sensor would deliver them.
        val samples = (rec.indexAt(impact - 120_000_000_000L) until rec.indexAt(impact + 5_000_000_000L))
        var alertId = ""
        runBlocking {
            // README-BEGIN
            val detector = FallDetector(DetectorOptions(journalDir = journalDir, runtimeLibraryPath = Fixtures.litert))
            detector.use {
                // Events as a Flow: collecting starts the detector, cancelling stops it.
                val fall = launch(Dispatchers.Default) {
                    val event = detector.events().first { it is GuardianEvent.Fall } as GuardianEvent.Fall
                    alertId = event.alert.alertId // show the alert; "I'm OK" -> detector.cancelAlert()
                }
                while (!detector.state().running) Thread.sleep(1)
                // The sensor adapter: one SampleBatch per hardware batch (1 s), both sensors in one call.
                val batch = SampleBatch()
                var batchEnd = rec.t[samples.first] + 1_000_000_000L
                for (i in samples) {
                    if (rec.gyro[i]) batch.addGyroscope(rec.t[i], rec.x[i], rec.y[i], rec.z[i])
                    else batch.addAccelerometer(rec.t[i], rec.x[i], rec.y[i], rec.z[i])
                    if (rec.t[i] >= batchEnd) { batch.pushTo(detector); batchEnd += 1_000_000_000L }
                }
                batch.pushTo(detector)
                fall.join()
                // Once the app has shown (or escalated) the alert, it acknowledges it in the journal.
                detector.acknowledge(alertId)
            }
            // README-END
        }
        assertTrue(alertId.isNotEmpty(), "a Fall arrived through the Flow")
    }
}
