package dev.guardian

import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.FallAlert
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The "Use it from Kotlin" example of the README, as a test (the lines between the markers). */
class ReadmeExampleTest {
    @Test
    fun `README example`() {
        val rec = Recording.of(Fixtures.day)
        val impact = rec.t[0] + (Fixtures.day.demo.detections[0].impactS * 1e9).toLong()
        val journalDir = Fixtures.tempDir("readme").toString()
        // A few minutes around the first fall of the synthetic day, as a sensor would deliver them.
        val samples = (rec.indexAt(impact - 120_000_000_000L) until rec.indexAt(impact + 5_000_000_000L))
        var alertId = ""
        runBlocking {
            // README-BEGIN
            val detector = FallDetector(DetectorOptions(journalDir = journalDir, runtimeLibraryPath = Fixtures.litert))
            detector.use {
                // Events as a Flow: collecting starts the detector, cancelling the collector stops it.
                val falls = Channel<FallAlert>(Channel.UNLIMITED)
                val events = launch(Dispatchers.Default) {
                    detector.events().collect { if (it is GuardianEvent.Fall) falls.send(it.alert) }
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
                val alert = falls.receive() // show it; "I'm OK" -> detector.cancelAlert()
                // Once the app has shown (or escalated) the alert, it acknowledges it in the journal.
                detector.acknowledge(alert.alertId)
                alertId = alert.alertId
                events.cancel()
            }
            // README-END
        }
        assertTrue(alertId.isNotEmpty(), "a Fall arrived through the Flow")
    }
}
