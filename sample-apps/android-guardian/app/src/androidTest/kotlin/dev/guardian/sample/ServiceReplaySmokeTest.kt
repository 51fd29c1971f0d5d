package dev.guardian.sample

import android.Manifest
import android.app.NotificationManager
import android.os.Build
import androidx.test.core.app.ActivityScenario
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import dev.guardian.android.GuardianMonitorConfig
import dev.guardian.android.GuardianMonitorService
import dev.guardian.android.GuardianNotifications
import dev.guardian.android.MonitorStatus
import dev.guardian.ffi.AlertOutcome
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.junit.runner.RunWith
import java.io.File

/**
 * Emulator smoke test (.github/workflows/android.yml): a recording with a fall (assets/fall.csv,
 * cut by the workflow from `guardian demo --seed 42`) replayed through GuardianMonitorService on
 * the device: the ARM/x86_64 facade, the LiteRT AAR's libtensorflowlite_jni.so, the real models,
 * the foreground service, the alert notification with its full-screen intent, "I'm OK".
 */
@RunWith(AndroidJUnit4::class)
class ServiceReplaySmokeTest {
    private val instrumentation = InstrumentationRegistry.getInstrumentation()
    private val context = instrumentation.targetContext

    @After
    fun tearDown() {
        GuardianMonitorService.stop(context)
    }

    private fun waitFor(
        what: String,
        timeoutMs: Long = 60_000,
        cond: () -> Boolean,
    ) {
        val end = System.currentTimeMillis() + timeoutMs
        while (!cond()) {
            if (System.currentTimeMillis() > end) fail("timed out after $timeoutMs ms waiting for: $what (status ${GuardianMonitorService.status.value})")
            Thread.sleep(100)
        }
    }

    @Test
    fun replayedFallRaisesTheAlertAndImOkCancelsIt() {
        if (Build.VERSION.SDK_INT >= 33) {
            instrumentation.uiAutomation.grantRuntimePermission(context.packageName, Manifest.permission.POST_NOTIFICATIONS)
        }
        val csv = File(context.cacheDir, "fall.csv")
        instrumentation.context.assets.open("fall.csv").use { input -> csv.outputStream().use { input.copyTo(it) } }
        GuardianMonitorService.configure(GuardianMonitorService.config.copy(replayRecording = csv).journalDir())
        // Foreground services may be started only from the foreground (Android 12+).
        ActivityScenario.launch(MainActivity::class.java).use {
            GuardianMonitorService.start(context)
            waitFor("monitoring") { GuardianMonitorService.status.value is MonitorStatus.Running }
            waitFor("the fall alert in the journal") { GuardianMonitorService.alertHistory()?.isNotEmpty() == true }
            val alert = GuardianMonitorService.alertHistory()!!.single().alert
            val nm = context.getSystemService(NotificationManager::class.java)
            waitFor("the alert notification") {
                nm.activeNotifications.any { it.notification.channelId == GuardianNotifications.CHANNEL_ALERTS }
            }
            val n = nm.activeNotifications.first { it.notification.channelId == GuardianNotifications.CHANNEL_ALERTS }.notification
            assertTrue("full-screen intent", n.fullScreenIntent != null)
            assertEquals(listOf("I'm OK", "I need help"), n.actions.map { it.title.toString() })

            GuardianMonitorService.cancelAlert(context, alert.alertId)
            waitFor("the alert cancelled") {
                GuardianMonitorService.alertHistory()?.single()?.outcome == AlertOutcome.CANCELLED
            }
        }
    }

    /** A fresh journal per run, so the alert history holds this run's alert only. */
    private fun GuardianMonitorConfig.journalDir(): GuardianMonitorConfig =
        copy(detectorOptions = detectorOptions.copy(journalDir = File(context.cacheDir, "journal-${System.nanoTime()}").absolutePath))
}
