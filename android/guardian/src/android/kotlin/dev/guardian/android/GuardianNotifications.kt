package dev.guardian.android

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import dev.guardian.ffi.FallAlert

/** The library's notification channels and notifications. */
object GuardianNotifications {
    /** Ongoing "monitoring" notification of the foreground service (low importance: silent). */
    const val CHANNEL_MONITORING: String = "guardian.monitoring"

    /** Fall alerts and escalations (high importance: sound, heads-up, full screen). */
    const val CHANNEL_ALERTS: String = "guardian.alerts"

    /** Notification id of the foreground service. */
    const val MONITORING_NOTIFICATION_ID: Int = 0x6A01

    /** Extras of the alert activity's intent. */
    const val EXTRA_ALERT_ID: String = "dev.guardian.extra.ALERT_ID"
    const val EXTRA_CONFIRMED_T_NS: String = "dev.guardian.extra.CONFIRMED_T_NS"

    /** When the alert escalates if nobody answers, ms on the `SystemClock.elapsedRealtime()` clock. */
    const val EXTRA_DEADLINE_ELAPSED_MS: String = "dev.guardian.extra.DEADLINE_ELAPSED_MS"
    const val EXTRA_REPLAY: String = "dev.guardian.extra.REPLAY"
    const val EXTRA_SCORE: String = "dev.guardian.extra.SCORE"
    const val EXTRA_PEAK_G: String = "dev.guardian.extra.PEAK_G"

    /** Notification id of one alert (its escalation notice reuses it). */
    fun alertNotificationId(alertId: String): Int = 0x6A10 + (alertId.hashCode() and 0xFFFF)

    /** Creates both channels (idempotent). */
    fun ensureChannels(context: Context) {
        val nm = context.getSystemService(NotificationManager::class.java) ?: return
        val monitoring =
            NotificationChannel(CHANNEL_MONITORING, "Fall monitoring", NotificationManager.IMPORTANCE_LOW).apply {
                description = "Shown while Guardian watches for falls."
                setShowBadge(false)
            }
        val alerts =
            NotificationChannel(CHANNEL_ALERTS, "Fall alerts", NotificationManager.IMPORTANCE_HIGH).apply {
                description = "A fall was detected: answer \"I'm OK\" or \"I need help\"."
                enableVibration(true)
                lockscreenVisibility = Notification.VISIBILITY_PUBLIC
            }
        nm.createNotificationChannel(monitoring)
        nm.createNotificationChannel(alerts)
    }

    /** The foreground service's ongoing notification; tapping it opens the app's launcher activity. */
    fun monitoring(
        context: Context,
        config: GuardianMonitorConfig,
    ): Notification {
        val b =
            Notification.Builder(context, CHANNEL_MONITORING)
                .setSmallIcon(config.smallIcon)
                .setContentTitle(config.monitoringTitle)
                .setContentText(config.monitoringText)
                .setOngoing(true)
                .setCategory(Notification.CATEGORY_SERVICE)
        context.packageManager.getLaunchIntentForPackage(context.packageName)?.let {
            b.setContentIntent(PendingIntent.getActivity(context, 0, it, PendingIntent.FLAG_IMMUTABLE))
        }
        b.addAction(
            Notification.Action.Builder(
                null,
                "Stop",
                GuardianMonitorService.servicePendingIntent(context, GuardianMonitorService.ACTION_STOP, null),
            ).build(),
        )
        return b.build()
    }

    /**
     * The alert: high priority, a full-screen intent to the app's alert activity
     * ([GuardianMonitorConfig.alertActivityClassName]; without one, the launcher activity), and the
     * actions "I'm OK" / "I need help" (handled by the service: `cancelAlert()` / `confirmAlert()`).
     *
     * From Android 14 a full-screen intent needs the user's grant of `USE_FULL_SCREEN_INTENT`
     * unless the app is a calling or alarm app (source.android.com/docs/core/permissions/fsi-limits;
     * `NotificationManager.canUseFullScreenIntent()`); without it the system shows the same
     * notification as a heads-up notification instead, with the same actions.
     */
    fun alert(
        context: Context,
        config: GuardianMonitorConfig,
        alert: FallAlert,
        deadlineElapsedMs: Long,
    ): Notification {
        val activity = alertActivityIntent(context, config, alert, deadlineElapsedMs)
        val full =
            PendingIntent.getActivity(
                context,
                alert.alertId.hashCode(),
                activity,
                PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
            )
        val secondsLeft = ((deadlineElapsedMs - android.os.SystemClock.elapsedRealtime()) / 1000).coerceAtLeast(0)
        return Notification.Builder(context, CHANNEL_ALERTS)
            .setSmallIcon(config.smallIcon)
            .setContentTitle(config.alertTitle)
            .setContentText("Are you OK? Help is called in $secondsLeft s unless you answer.")
            .setCategory(Notification.CATEGORY_ALARM)
            .setVisibility(Notification.VISIBILITY_PUBLIC)
            .setOngoing(true)
            .setContentIntent(full)
            .setFullScreenIntent(full, true)
            .setWhen(System.currentTimeMillis() + (deadlineElapsedMs - android.os.SystemClock.elapsedRealtime()))
            .setUsesChronometer(true)
            .setChronometerCountDown(true)
            .addAction(
                Notification.Action.Builder(
                    null,
                    "I'm OK",
                    GuardianMonitorService.servicePendingIntent(context, GuardianMonitorService.ACTION_CANCEL_ALERT, alert.alertId),
                ).build(),
            ).addAction(
                Notification.Action.Builder(
                    null,
                    "I need help",
                    GuardianMonitorService.servicePendingIntent(context, GuardianMonitorService.ACTION_CONFIRM_ALERT, alert.alertId),
                ).build(),
            ).build()
    }

    /** The intent that opens the app's alert screen for [alert]. */
    fun alertActivityIntent(
        context: Context,
        config: GuardianMonitorConfig,
        alert: FallAlert,
        deadlineElapsedMs: Long,
    ): Intent {
        val intent =
            config.alertActivityClassName?.let { Intent().setClassName(context.packageName, it) }
                ?: context.packageManager.getLaunchIntentForPackage(context.packageName)
                ?: Intent()
        return intent
            .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_SINGLE_TOP)
            .putExtra(EXTRA_ALERT_ID, alert.alertId)
            .putExtra(EXTRA_CONFIRMED_T_NS, alert.confirmedTNs)
            .putExtra(EXTRA_DEADLINE_ELAPSED_MS, deadlineElapsedMs)
            .putExtra(EXTRA_REPLAY, alert.replay)
            .putExtra(EXTRA_SCORE, alert.score)
            .putExtra(EXTRA_PEAK_G, alert.peakG)
    }
}
