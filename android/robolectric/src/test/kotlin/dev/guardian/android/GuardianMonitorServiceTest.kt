package dev.guardian.android

import android.Manifest
import android.app.Application
import android.app.Notification
import android.app.NotificationManager
import android.content.Intent
import android.hardware.SensorManager
import android.os.Looper
import dev.guardian.ffi.AlertOutcome
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ServiceController
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowPowerManager
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList

/** The foreground service: start/stop, its notifications, a fall through it, the answers, missing permissions. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], manifest = Config.NONE)
class GuardianMonitorServiceTest {
    private val app: Application = RuntimeEnvironment.getApplication()
    private val sensorManager = app.getSystemService(SensorManager::class.java)!!
    private val notifications = app.getSystemService(NotificationManager::class.java)!!
    private val escalations = CopyOnWriteArrayList<Escalation>()
    private var controller: ServiceController<GuardianMonitorService>? = null

    private fun configure(replay: java.io.File? = null) {
        val journal = Files.createTempDirectory("guardian-service-").toFile()
        GuardianMonitorService.configure(
            GuardianMonitorConfig(
                detectorOptions = Fixtures.options(journal),
                alertActivityClassName = "com.example.guardian.AlertActivity",
                escalationHandlers = listOf(NotificationEscalation(), EscalationHandler { _, e -> escalations += e }),
                sensorLooper = Looper.getMainLooper(),
                replayRecording = replay,
            ),
        )
    }

    private fun grantAll() =
        shadowOf(app).grantPermissions(Manifest.permission.POST_NOTIFICATIONS, Manifest.permission.HIGH_SAMPLING_RATE_SENSORS)

    private fun startService(): GuardianMonitorService {
        val intent = Intent(app, GuardianMonitorService::class.java).setAction(GuardianMonitorService.ACTION_START)
        val c = Robolectric.buildService(GuardianMonitorService::class.java, intent).create().startCommand(0, 1)
        controller = c
        return c.get()
    }

    private fun command(
        action: String,
        startId: Int,
    ) {
        controller!!.withIntent(Intent(app, GuardianMonitorService::class.java).setAction(action)).startCommand(0, startId)
    }

    @After
    fun tearDown() {
        controller?.destroy()
    }

    private fun alertNotifications(): List<Notification> =
        shadowOf(notifications).allNotifications.filter { it.channelId == GuardianNotifications.CHANNEL_ALERTS }

    private fun waitFor(
        what: String,
        timeoutMs: Long = 15_000,
        cond: () -> Boolean,
    ) {
        val end = System.currentTimeMillis() + timeoutMs
        while (!cond()) {
            if (System.currentTimeMillis() > end) fail("timed out waiting for: $what")
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(20)
        }
    }

    /** Replays the first fall of the day through the service's sensor listeners; returns when its notification is up. */
    private fun replayFall(device: SimulatedDevice): Notification {
        val impact = Fixtures.fallImpactsNs.first()
        val s = 1_000_000_000L
        val w = Window.read(Fixtures.day, impact - 31 * s, impact + 13 * s)
        device.replay(w, impact - 30 * s, impact + 12 * s, 100.0, seed = 1)
        waitFor("the alert notification") { alertNotifications().isNotEmpty() }
        return alertNotifications().single()
    }

    @Test
    fun `start runs a health foreground service with its notification and channels, stop ends it`() {
        grantAll()
        configure()
        SimulatedDevice(sensorManager)
        val service = startService()

        val fg = shadowOf(service).lastForegroundNotification
        assertNotNull("startForeground was called", fg)
        assertEquals(GuardianNotifications.MONITORING_NOTIFICATION_ID, shadowOf(service).lastForegroundNotificationId)
        assertEquals(GuardianNotifications.CHANNEL_MONITORING, fg!!.channelId)
        assertEquals(NotificationManager.IMPORTANCE_LOW, notifications.getNotificationChannel(GuardianNotifications.CHANNEL_MONITORING).importance)
        assertEquals(NotificationManager.IMPORTANCE_HIGH, notifications.getNotificationChannel(GuardianNotifications.CHANNEL_ALERTS).importance)
        assertEquals(android.content.pm.ServiceInfo.FOREGROUND_SERVICE_TYPE_HEALTH, service.foregroundServiceType)

        val status = GuardianMonitorService.status.value
        assertTrue("status $status", status is MonitorStatus.Running && status.usesGyroscope && status.wakeLockHeld)
        assertTrue("partial wake lock (non-wake-up accelerometer)", ShadowPowerManager.getLatestWakeLock()!!.isHeld)
        assertEquals(1, shadowOf(sensorManager).listeners.size)
        assertNotNull(GuardianMonitorService.detector())

        // stop(context) asks the system to stop the service; the system then destroys it.
        GuardianMonitorService.stop(app)
        assertEquals(GuardianMonitorService::class.java.name, shadowOf(app).nextStoppedService.component!!.className)
        controller!!.destroy()
        controller = null
        assertEquals(MonitorStatus.Stopped, GuardianMonitorService.status.value)
        assertTrue("sensors unregistered", shadowOf(sensorManager).listeners.isEmpty())
        assertFalse("wake lock released", ShadowPowerManager.getLatestWakeLock()!!.isHeld)
        assertNull(GuardianMonitorService.detector())
    }

    @Test
    fun `a fall raises a full-screen alert with I'm OK and I need help, and I'm OK cancels it`() {
        grantAll()
        configure()
        val device = SimulatedDevice(sensorManager)
        startService()
        val n = replayFall(device)

        assertNotNull("full-screen intent", n.fullScreenIntent)
        val activity = shadowOf(n.fullScreenIntent).savedIntent
        assertEquals("com.example.guardian.AlertActivity", activity.component!!.className)
        val alertId = activity.getStringExtra(GuardianNotifications.EXTRA_ALERT_ID)!!
        assertEquals(listOf("I'm OK", "I need help"), n.actions.map { it.title.toString() })
        val ok = shadowOf(n.actions[0].actionIntent).savedIntent
        assertEquals(GuardianMonitorService.ACTION_CANCEL_ALERT, ok.action)
        assertEquals(alertId, ok.getStringExtra(GuardianMonitorService.EXTRA_ALERT_ID))
        assertEquals(GuardianMonitorService.ACTION_CONFIRM_ALERT, shadowOf(n.actions[1].actionIntent).savedIntent.action)

        // The alert screen's "I'm OK" sends this intent; the service calls cancelAlert().
        GuardianMonitorService.cancelAlert(app, alertId)
        assertEquals(GuardianMonitorService.ACTION_CANCEL_ALERT, shadowOf(app).nextStartedService.action)
        command(GuardianMonitorService.ACTION_CANCEL_ALERT, 2)
        waitFor("the alert cancelled and acknowledged") {
            GuardianMonitorService.alertHistory()?.singleOrNull()?.let { it.outcome == AlertOutcome.CANCELLED && it.acknowledged } == true
        }
        assertTrue("the alert notification is gone", alertNotifications().isEmpty())
        assertTrue("no escalation", escalations.isEmpty())
    }

    @Test
    fun `I need help escalates through the handlers, the default posts a notification`() {
        grantAll()
        configure()
        val device = SimulatedDevice(sensorManager)
        startService()
        replayFall(device)
        command(GuardianMonitorService.ACTION_CONFIRM_ALERT, 2)
        waitFor("the escalation handlers ran and the alert was acknowledged") {
            escalations.isNotEmpty() && GuardianMonitorService.alertHistory()?.singleOrNull()?.acknowledged == true
        }
        val e = escalations.single()
        assertTrue(e.byUser)
        assertNotNull(e.alert)
        assertEquals(AlertOutcome.ESCALATED_BY_USER, GuardianMonitorService.alertHistory()!!.single().outcome)
        val notice = alertNotifications().single()
        assertEquals("Guardian: help requested", notice.extras.getString(Notification.EXTRA_TITLE))
    }

    @Test
    fun `a recording replayed through the service raises the alert (the emulator smoke test's path)`() {
        grantAll()
        SimulatedDevice(sensorManager)
        // The replay ends "now" on the sensor clock: start the clock well after the recording's length.
        org.robolectric.shadows.ShadowSystemClock.advanceBy(java.time.Duration.ofSeconds(600))
        val impact = Fixtures.fallImpactsNs.first()
        val s = 1_000_000_000L
        val w = Window.read(Fixtures.day, impact - 30 * s, impact + 12 * s)
        val csv = Files.createTempFile("guardian-replay-", ".csv").toFile()
        csv.bufferedWriter().use { out ->
            out.write("t_ns,sensor,x,y,z\n")
            var i = 0
            var j = 0
            while (i < w.accT.size || j < w.gyroT.size) {
                val gyro = i >= w.accT.size || (j < w.gyroT.size && w.gyroT[j] < w.accT[i])
                if (gyro) {
                    out.write("${w.gyroT[j]},gyro,${w.gyro[0][j]},${w.gyro[1][j]},${w.gyro[2][j]}\n")
                    j++
                } else {
                    out.write("${w.accT[i]},acc,${w.acc[0][i]},${w.acc[1][i]},${w.acc[2][i]}\n")
                    i++
                }
            }
        }
        configure(replay = csv)
        startService()
        assertTrue("no sensor registered while replaying", shadowOf(sensorManager).listeners.isEmpty())
        waitFor("the alert notification") { alertNotifications().isNotEmpty() }
        assertNotNull(alertNotifications().single().fullScreenIntent)
        command(GuardianMonitorService.ACTION_CANCEL_ALERT, 2)
        waitFor("the alert cancelled") { GuardianMonitorService.alertHistory()?.singleOrNull()?.outcome == AlertOutcome.CANCELLED }
    }

    @Test
    fun `a missing permission gives a clear error`() {
        configure()
        SimulatedDevice(sensorManager)
        // Nothing granted: POST_NOTIFICATIONS (Android 13+) and the health prerequisite (14+) are missing.
        val e =
            try {
                GuardianMonitorService.start(app)
                fail("start() must refuse")
                throw AssertionError()
            } catch (x: MissingPermissionException) {
                x
            }
        assertEquals(listOf(Manifest.permission.POST_NOTIFICATIONS, GuardianMonitorService.HEALTH_PREREQUISITE), e.missing)
        assertTrue(e.message!!, e.message!!.contains("POST_NOTIFICATIONS") && e.message!!.contains("without it no fall alert can be shown"))
        assertNull("nothing was started", shadowOf(app).nextStartedService)

        // Only the notification permission: the health type's prerequisite is named.
        shadowOf(app).grantPermissions(Manifest.permission.POST_NOTIFICATIONS)
        assertEquals(listOf(GuardianMonitorService.HEALTH_PREREQUISITE), GuardianMonitorService.missingPermissions(app))
        // ACTIVITY_RECOGNITION also satisfies it.
        shadowOf(app).grantPermissions(Manifest.permission.ACTIVITY_RECOGNITION)
        assertTrue(GuardianMonitorService.missingPermissions(app).isEmpty())

        // Started by the system without the permission (revoked after a sticky restart): the
        // service reports it and stops itself instead of monitoring silently.
        shadowOf(app).denyPermissions(Manifest.permission.POST_NOTIFICATIONS)
        val service = startService()
        val status = GuardianMonitorService.status.value
        assertTrue("status $status", status is MonitorStatus.Failed && status.message.contains("POST_NOTIFICATIONS"))
        assertTrue(shadowOf(service).isStoppedBySelf)
        assertNull(shadowOf(service).lastForegroundNotification)
        assertTrue(shadowOf(sensorManager).listeners.isEmpty())
    }
}
