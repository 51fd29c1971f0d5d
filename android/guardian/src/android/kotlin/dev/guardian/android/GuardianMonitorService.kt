package dev.guardian.android

import android.Manifest
import android.app.NotificationManager
import android.app.PendingIntent
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.content.pm.ServiceInfo
import android.hardware.SensorManager
import android.os.Build
import android.os.Handler
import android.os.HandlerThread
import android.os.IBinder
import android.os.Looper
import android.os.PowerManager
import android.os.SystemClock
import android.util.Log
import dev.guardian.ffi.AlertRecord
import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.FallAlert
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianEvent
import dev.guardian.guardianListener
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.asStateFlow
import java.io.File
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/**
 * What the app configures once, in `Application.onCreate()` (so it is set again when the system
 * restarts the service in a new process): [GuardianMonitorService.configure].
 *
 * @property detectorOptions the detector's options. `units` and, without a gyroscope, `sensors`
 *   are set by [GuardianSensorSource.detectorOptions]; a null `journalDir` becomes
 *   `filesDir/guardian`. Leave `runtimeLibraryPath` null on a phone (the facade loads
 *   `libtensorflowlite_jni.so` from the LiteRT AAR).
 * @property alertActivityClassName the app's alert screen (full-screen intent and notification
 *   tap), e.g. `"com.example.AlertActivity"`; null opens the launcher activity. The intent carries
 *   [GuardianNotifications.EXTRA_ALERT_ID] and the other `EXTRA_*` values.
 * @property escalationHandlers run in order on escalation (default: [NotificationEscalation]).
 * @property useWakeLock hold a partial wake lock while monitoring when the accelerometer is not a
 *   wake-up sensor (see [GuardianMonitorService], "Screen off").
 * @property onAccelerometer every accelerometer sample, on the sensor thread (for a live plot).
 * @property sensorLooper where sensor events are handled; null (the default) starts the source's
 *   own `HandlerThread`. For tests.
 * @property replayRecording instead of the sensors, feed this recording ([RecordingReplay]) once;
 *   monitoring then goes on without samples until stopped (alerts still escalate on time). For
 *   demos and tests of the alert flow (the emulator smoke test); null on a real deployment.
 */
data class GuardianMonitorConfig(
    val detectorOptions: DetectorOptions = DetectorOptions(),
    val alertActivityClassName: String? = null,
    val escalationHandlers: List<EscalationHandler> = listOf(NotificationEscalation()),
    val rateHz: Int = GuardianSensorSource.DEFAULT_RATE_HZ,
    val maxReportLatencyUs: Int = GuardianSensorSource.DEFAULT_MAX_REPORT_LATENCY_US,
    val useWakeLock: Boolean = true,
    val smallIcon: Int = android.R.drawable.ic_dialog_alert,
    val monitoringTitle: String = "Fall detection is on",
    val monitoringText: String = "Guardian watches for falls, also with the screen off.",
    val alertTitle: String = "A fall was detected",
    val onAccelerometer: ((tNs: Long, x: Float, y: Float, z: Float) -> Unit)? = null,
    val sensorLooper: Looper? = null,
    val replayRecording: File? = null,
)

/** What the monitoring service is doing, for the app's UI ([GuardianMonitorService.status]). */
sealed class MonitorStatus {
    object Stopped : MonitorStatus() {
        override fun toString() = "Stopped"
    }

    /**
     * Monitoring. [fullScreenIntentAllowed] false: alerts show as heads-up notifications, not
     * full screen (Android 14+, the user did not grant "full screen notifications").
     */
    data class Running(
        val usesGyroscope: Boolean,
        val wakeLockHeld: Boolean,
        val fullScreenIntentAllowed: Boolean,
    ) : MonitorStatus()

    /** Could not start (or stopped on an error); [message] says what to do. */
    data class Failed(val message: String) : MonitorStatus()
}

/**
 * Permissions the user has not granted, so monitoring cannot start: [message] names them and
 * says what to do. Thrown by [GuardianMonitorService.start]; the service itself reports the same
 * as [MonitorStatus.Failed] (after a restart by the system).
 */
class MissingPermissionException(val missing: List<String>) : SecurityException(
    "Guardian cannot monitor for falls: permission not granted: ${missing.joinToString()}. " +
        missing.joinToString(" ") { explain(it) },
) {
    private companion object {
        fun explain(p: String): String =
            when (p) {
                Manifest.permission.POST_NOTIFICATIONS ->
                    "Request POST_NOTIFICATIONS (Android 13+): without it no fall alert can be shown."
                GuardianMonitorService.HEALTH_PREREQUISITE ->
                    "A foreground service of type health (Android 14+) needs one of HIGH_SAMPLING_RATE_SENSORS " +
                        "(declared by the library's manifest: check that manifest merging kept it), " +
                        "ACTIVITY_RECOGNITION or BODY_SENSORS."
                else -> "Request $p."
            }
    }
}

/**
 * A foreground service of type `health` that runs the fall detector on the phone's sensors while
 * the app is in the background and the screen is off.
 *
 * ```kotlin
 * // Application.onCreate():
 * GuardianMonitorService.configure(GuardianMonitorConfig(alertActivityClassName = "com.example.AlertActivity"))
 * // When the user switches monitoring on (after requesting POST_NOTIFICATIONS on Android 13+):
 * GuardianMonitorService.start(context)      // throws MissingPermissionException
 * GuardianMonitorService.stop(context)
 * // The alert screen:
 * GuardianMonitorService.cancelAlert(context) // "I'm OK"
 * GuardianMonitorService.confirmAlert(context) // "I need help"
 * ```
 *
 * **Permissions** (declared by the library's manifest, merged into the app's):
 * `FOREGROUND_SERVICE`, `FOREGROUND_SERVICE_HEALTH` (Android 14+: a foreground service of type
 * health must declare it and meet a runtime prerequisite: `HIGH_SAMPLING_RATE_SENSORS`,
 * `ACTIVITY_RECOGNITION` or `BODY_SENSORS`; the library declares `HIGH_SAMPLING_RATE_SENSORS`, a
 * normal permission granted at install, so no extra prompt is needed), `POST_NOTIFICATIONS` (a
 * runtime permission from Android 13: the app must request it; [start] refuses without it),
 * `USE_FULL_SCREEN_INTENT`, `WAKE_LOCK`. See the library's AndroidManifest.xml for the sources.
 *
 * **Screen off.** A foreground service keeps the process alive and un-idle (sensor events keep
 * coming, Android 9+ cuts them off only for idle apps), but it does not keep the CPU awake. A
 * *non-wake-up* accelerometer (nearly all phones' default) does not wake a suspended application
 * processor: its samples wait in the hub's FIFO and are overwritten when it fills, so falls
 * during suspend would be missed. The service therefore holds a `PARTIAL_WAKE_LOCK` while
 * monitoring, only when the accelerometer is not a wake-up sensor. With hardware batching the
 * CPU still idles between bursts (about one wake-up a second), which is the bulk of the saving.
 *
 * **Alerts.** On a fall: a high-priority notification with a full-screen intent to the app's
 * alert activity and the actions "I'm OK" / "I need help" (the detector's `cancelAlert()` /
 * `confirmAlert()`); the detector escalates when nobody answers within its cancel window (the
 * service ticks it every second while an alert is open, so this happens even when no sample
 * arrives). On escalation the [EscalationHandler]s run on a worker thread, then the alert is
 * acknowledged in the journal; a cancelled alert is acknowledged at once. An alert delivered
 * again after a restart (`replay`) gets a fresh cancel window counted by the service.
 *
 * [status] and [events] expose the service's state and the detector's events to the app's UI.
 */
class GuardianMonitorService : Service() {
    private var detector: FallDetector? = null
    private var source: GuardianSensorSource? = null
    private var wakeLock: PowerManager.WakeLock? = null
    private var worker: ExecutorService? = null
    private var timerThread: HandlerThread? = null
    private var timer: Handler? = null
    private var config: GuardianMonitorConfig = Companion.config

    // Open alerts (raised, no outcome yet) by id, with their deadline (elapsedRealtime ms).
    private val openAlerts = ConcurrentHashMap<String, Pair<FallAlert, Long>>()

    override fun onBind(intent: Intent?): IBinder? = null

    override fun onCreate() {
        super.onCreate()
        GuardianNotifications.ensureChannels(this)
    }

    override fun onStartCommand(
        intent: Intent?,
        flags: Int,
        startId: Int,
    ): Int {
        when (intent?.action ?: ACTION_START) { // null intent: restarted by the system (START_STICKY)
            ACTION_START -> startMonitoring()
            ACTION_STOP -> {
                stopSelf()
                return START_NOT_STICKY
            }
            ACTION_CANCEL_ALERT -> answer(intent?.getStringExtra(EXTRA_ALERT_ID), help = false)
            ACTION_CONFIRM_ALERT -> answer(intent?.getStringExtra(EXTRA_ALERT_ID), help = true)
        }
        if (detector == null) {
            // Not monitoring (an answer from a stale notification after the process died, or a
            // failed start): do not linger as a started service. The alert is in the journal and
            // is delivered again on the next start.
            stopSelf(startId)
            return START_NOT_STICKY
        }
        return START_STICKY
    }

    override fun onDestroy() {
        stopMonitoring()
        super.onDestroy()
    }

    private fun startMonitoring() {
        if (detector != null) return
        config = Companion.config
        // Foreground first: startForegroundService() requires startForeground() within seconds,
        // also when we are about to fail.
        val missing = missingPermissions(this)
        if (missing.isNotEmpty()) {
            fail(MissingPermissionException(missing).message!!)
            return
        }
        try {
            goForeground()
        } catch (e: SecurityException) {
            // Android 14+ refuses a health service whose prerequisites are not met.
            fail("Guardian cannot run as a health foreground service: ${e.message}")
            return
        }
        val sensors = getSystemService(SensorManager::class.java)
        if (sensors == null) {
            fail("This device has no sensor service: fall detection cannot run on it.")
            return
        }
        val base = config.detectorOptions
        val options =
            GuardianSensorSource.detectorOptions(
                base.copy(journalDir = base.journalDir ?: File(filesDir, "guardian").absolutePath),
                sensors,
            )
        val t = HandlerThread("guardian-monitor").also { it.start() }
        timerThread = t
        timer = Handler(t.looper)
        worker = Executors.newSingleThreadExecutor { r -> Thread(r, "guardian-escalation") }
        try {
            val d = FallDetector(options)
            detector = d
            d.start(guardianListener { onEvent(it) })
            config.replayRecording?.let { file ->
                val replay = RecordingReplay(file)
                timer!!.post {
                    try {
                        replay.run(d)
                    } catch (e: Exception) {
                        Log.e(TAG, "replay of $file failed", e)
                        statusFlow.value = MonitorStatus.Failed("Replay of ${file.name} failed: ${e.message}")
                    }
                }
                statusFlow.value = MonitorStatus.Running(usesGyroscope = true, wakeLockHeld = false, fullScreenIntentAllowed = fullScreenAllowed())
                running = this
                return
            }
            val s =
                GuardianSensorSource(
                    sensors,
                    d,
                    rateHz = config.rateHz,
                    maxReportLatencyUs = config.maxReportLatencyUs,
                    looper = config.sensorLooper,
                    onAccelerometer = config.onAccelerometer,
                    onError = { Log.w(TAG, "sensor batch refused", it) },
                )
            source = s
            s.start()
            val needsWakeLock = config.useWakeLock && s.accelerometer?.isWakeUpSensor == false
            if (needsWakeLock) {
                val pm = getSystemService(PowerManager::class.java)
                wakeLock = pm?.newWakeLock(PowerManager.PARTIAL_WAKE_LOCK, "guardian:monitor")?.apply {
                    setReferenceCounted(false)
                    acquire()
                }
            }
            statusFlow.value = MonitorStatus.Running(s.usesGyroscope, wakeLock?.isHeld == true, fullScreenAllowed())
            running = this
        } catch (e: Exception) {
            Log.e(TAG, "monitoring could not start", e)
            stopMonitoring()
            fail(e.message ?: e.toString())
        }
    }

    private fun fullScreenAllowed(): Boolean =
        Build.VERSION.SDK_INT < 34 || getSystemService(NotificationManager::class.java)?.canUseFullScreenIntent() == true

    private fun goForeground() {
        val n = GuardianNotifications.monitoring(this, config)
        if (Build.VERSION.SDK_INT >= 34) {
            startForeground(GuardianNotifications.MONITORING_NOTIFICATION_ID, n, ServiceInfo.FOREGROUND_SERVICE_TYPE_HEALTH)
        } else {
            // API 26-33: the type comes from the manifest (health is an unknown bit there, ignored).
            startForeground(GuardianNotifications.MONITORING_NOTIFICATION_ID, n)
        }
    }

    private fun fail(message: String) {
        Log.e(TAG, message)
        statusFlow.value = MonitorStatus.Failed(message)
        stopSelf()
    }

    private fun stopMonitoring() {
        if (running === this) running = null
        source?.stop() // flushes the last batch into the detector
        source = null
        timer?.removeCallbacksAndMessages(null)
        timerThread?.quitSafely()
        timerThread = null
        timer = null
        detector?.let {
            try {
                it.stop() // delivers what is queued
            } catch (e: Exception) {
                Log.w(TAG, "stop", e)
            }
        }
        worker?.let {
            it.shutdown()
            it.awaitTermination(5, TimeUnit.SECONDS)
        }
        worker = null
        detector?.close()
        detector = null
        wakeLock?.let { if (it.isHeld) it.release() }
        wakeLock = null
        if (statusFlow.value is MonitorStatus.Running) statusFlow.value = MonitorStatus.Stopped
    }

    /** "I'm OK" / "I need help" from the notification or the alert activity. */
    private fun answer(
        alertId: String?,
        help: Boolean,
    ) {
        val d = detector ?: return
        val open = alertId?.let { openAlerts[it] }
        if (open != null && open.first.replay && d.state().activeAlertId != alertId) {
            // A replayed alert the detector no longer holds: the service closes it.
            openAlerts.remove(alertId)
            if (help) escalate(Escalation(alertId, true, open.first)) else closeAlert(alertId)
            return
        }
        val done = if (help) d.confirmAlert() else d.cancelAlert()
        if (!done) Log.i(TAG, "no alert to answer (already answered or escalated): $alertId")
    }

    // --- Detector events (on the detector's delivery thread) ---

    private fun onEvent(event: GuardianEvent) {
        when (event) {
            is GuardianEvent.Fall -> {
                val a = event.alert
                val window = (config.detectorOptions.settings.cancelWindowMs?.toLong() ?: DEFAULT_CANCEL_WINDOW_MS)
                val deadline =
                    if (a.replay) {
                        SystemClock.elapsedRealtime() + window
                    } else {
                        (a.confirmedTNs / 1_000_000L) + window // sensor clock = elapsedRealtime
                    }
                openAlerts[a.alertId] = a to deadline
                notify(a, deadline)
                scheduleTicks(a.alertId)
            }
            is GuardianEvent.AlertCancelled -> {
                openAlerts.remove(event.alertId)
                closeAlert(event.alertId)
            }
            is GuardianEvent.AlertEscalated -> {
                val open = openAlerts.remove(event.alertId)
                escalate(Escalation(event.alertId, event.byUser, open?.first))
            }
            else -> Unit
        }
        eventsFlow.tryEmit(event)
    }

    private fun notify(
        alert: FallAlert,
        deadlineElapsedMs: Long,
    ) {
        val nm = getSystemService(NotificationManager::class.java) ?: return
        nm.notify(
            GuardianNotifications.alertNotificationId(alert.alertId),
            GuardianNotifications.alert(this, config, alert, deadlineElapsedMs),
        )
    }

    /** While an alert is open: tick the detector every second; a replayed alert expires here. */
    private fun scheduleTicks(alertId: String) {
        val h = timer ?: return
        h.postDelayed(
            object : Runnable {
                override fun run() {
                    val open = openAlerts[alertId] ?: return
                    if (open.first.replay && SystemClock.elapsedRealtime() >= open.second &&
                        detector?.state()?.activeAlertId != alertId
                    ) {
                        openAlerts.remove(alertId)
                        escalate(Escalation(alertId, false, open.first))
                        return
                    }
                    val s = source
                    if (s != null) {
                        s.tick()
                    } else {
                        try {
                            detector?.tick(GuardianSensorSource.nowNs())
                        } catch (e: Exception) {
                            Log.w(TAG, "tick", e)
                        }
                    }
                    h.postDelayed(this, TICK_MS)
                }
            },
            TICK_MS,
        )
    }

    private fun closeAlert(alertId: String) {
        getSystemService(NotificationManager::class.java)?.cancel(GuardianNotifications.alertNotificationId(alertId))
        acknowledge(alertId)
    }

    private fun escalate(e: Escalation) {
        val w = worker
        val run = {
            var ok = true
            for (h in config.escalationHandlers) {
                try {
                    h.escalate(this, e)
                } catch (x: Exception) {
                    ok = false
                    Log.e(TAG, "escalation handler ${h.javaClass.name} failed for ${e.alertId}", x)
                }
            }
            if (ok) acknowledge(e.alertId)
        }
        if (w == null || w.isShutdown) run() else w.execute(run)
    }

    private fun acknowledge(alertId: String) {
        try {
            detector?.acknowledge(alertId)
        } catch (e: Exception) {
            Log.w(TAG, "acknowledge $alertId", e)
        }
    }

    companion object {
        private const val TAG = "GuardianMonitor"
        const val ACTION_START: String = "dev.guardian.action.START"
        const val ACTION_STOP: String = "dev.guardian.action.STOP"
        const val ACTION_CANCEL_ALERT: String = "dev.guardian.action.CANCEL_ALERT"
        const val ACTION_CONFIRM_ALERT: String = "dev.guardian.action.CONFIRM_ALERT"
        const val EXTRA_ALERT_ID: String = GuardianNotifications.EXTRA_ALERT_ID

        /** Pseudo-permission in [MissingPermissionException.missing]: the health type's prerequisite. */
        const val HEALTH_PREREQUISITE: String = "HIGH_SAMPLING_RATE_SENSORS | ACTIVITY_RECOGNITION | BODY_SENSORS"

        const val DEFAULT_CANCEL_WINDOW_MS: Long = 30_000L
        private const val TICK_MS = 1_000L

        @Volatile
        var config: GuardianMonitorConfig = GuardianMonitorConfig()
            private set

        @Volatile
        private var running: GuardianMonitorService? = null

        private val statusFlow = MutableStateFlow<MonitorStatus>(MonitorStatus.Stopped)
        private val eventsFlow =
            MutableSharedFlow<GuardianEvent>(extraBufferCapacity = 64, onBufferOverflow = BufferOverflow.DROP_OLDEST)

        /** The service's state, for the UI. */
        val status: StateFlow<MonitorStatus> = statusFlow.asStateFlow()

        /**
         * The detector's events while monitoring, for the UI (live state). Not a delivery guarantee:
         * a slow collector loses the oldest; alerts are handled by the service and the journal.
         */
        val events: SharedFlow<GuardianEvent> = eventsFlow.asSharedFlow()

        /** Sets what the next start uses. Call it in `Application.onCreate()`. */
        @JvmStatic
        fun configure(config: GuardianMonitorConfig) {
            this.config = config
        }

        /**
         * The permissions still missing to monitor (empty: [start] can go):
         * `POST_NOTIFICATIONS` on Android 13+, and on Android 14+ the health type's prerequisite
         * ([HEALTH_PREREQUISITE]: one of `HIGH_SAMPLING_RATE_SENSORS`, `ACTIVITY_RECOGNITION`,
         * `BODY_SENSORS` granted).
         */
        @JvmStatic
        fun missingPermissions(context: Context): List<String> {
            val missing = mutableListOf<String>()
            fun granted(p: String) = context.checkSelfPermission(p) == PackageManager.PERMISSION_GRANTED
            if (Build.VERSION.SDK_INT >= 33 && !granted(Manifest.permission.POST_NOTIFICATIONS)) {
                missing += Manifest.permission.POST_NOTIFICATIONS
            }
            if (Build.VERSION.SDK_INT >= 34 &&
                listOf(
                    Manifest.permission.HIGH_SAMPLING_RATE_SENSORS,
                    Manifest.permission.ACTIVITY_RECOGNITION,
                    Manifest.permission.BODY_SENSORS,
                ).none(::granted)
            ) {
                missing += HEALTH_PREREQUISITE
            }
            return missing
        }

        /**
         * Starts monitoring (a foreground service). Call from the app while it is in front
         * (Android 12+ forbids starting foreground services from the background).
         *
         * @throws MissingPermissionException with a message naming what to request.
         */
        @JvmStatic
        fun start(context: Context) {
            val missing = missingPermissions(context)
            if (missing.isNotEmpty()) throw MissingPermissionException(missing)
            context.startForegroundService(Intent(context, GuardianMonitorService::class.java).setAction(ACTION_START))
        }

        /** Stops monitoring (flushes the sensors into the detector, stops it, ends the service). */
        @JvmStatic
        fun stop(context: Context) {
            context.stopService(Intent(context, GuardianMonitorService::class.java))
        }

        /** "I'm OK" for the open alert (from the app's alert screen). */
        @JvmStatic
        fun cancelAlert(
            context: Context,
            alertId: String? = null,
        ) {
            context.startService(intent(context, ACTION_CANCEL_ALERT, alertId))
        }

        /** "I need help" for the open alert (from the app's alert screen). */
        @JvmStatic
        fun confirmAlert(
            context: Context,
            alertId: String? = null,
        ) {
            context.startService(intent(context, ACTION_CONFIRM_ALERT, alertId))
        }

        /** The journal's alerts (newest last) while monitoring; null when the service is not running. */
        @JvmStatic
        fun alertHistory(): List<AlertRecord>? = running?.detector?.alertHistory()

        /** The running detector (for `state()`, `stats()`); null when not monitoring. */
        @JvmStatic
        fun detector(): FallDetector? = running?.detector

        internal fun servicePendingIntent(
            context: Context,
            action: String,
            alertId: String?,
        ): PendingIntent =
            PendingIntent.getService(
                context,
                (action + alertId).hashCode(),
                intent(context, action, alertId),
                PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
            )

        private fun intent(
            context: Context,
            action: String,
            alertId: String?,
        ): Intent =
            Intent(context, GuardianMonitorService::class.java).setAction(action).apply {
                if (alertId != null) putExtra(EXTRA_ALERT_ID, alertId)
            }
    }
}
