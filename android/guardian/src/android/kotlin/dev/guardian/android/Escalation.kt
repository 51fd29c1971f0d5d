package dev.guardian.android

import android.app.Notification
import android.app.NotificationManager
import android.content.Context
import dev.guardian.ffi.FallAlert

/**
 * An alert that needs help: nobody answered within the cancel window, or the user tapped
 * "I need help".
 *
 * @property alertId the detector's alert id (stable across restarts).
 * @property byUser the user asked for help (false: nobody answered in time).
 * @property alert the alert as raised, when the service still has it (null after a restart in
 *   between, when only the outcome was delivered again).
 */
data class Escalation(
    val alertId: String,
    val byUser: Boolean,
    val alert: FallAlert?,
)

/**
 * The hook where an integrator calls for help: dial or message a contact, notify a server.
 *
 * [GuardianMonitorService] calls it once per escalated alert, on its own worker thread (never the
 * main thread, never the detector's delivery thread: blocking network calls are fine), before
 * the alert is acknowledged in the journal. If the process dies in between, the alert is
 * delivered again after the restart and the handler runs again: make it idempotent per
 * [Escalation.alertId]. An exception is caught and logged; the alert is then NOT acknowledged,
 * so it is delivered again on the next start.
 *
 * ```kotlin
 * class SmsContact(private val number: String) : EscalationHandler {
 *     override fun escalate(context: Context, escalation: Escalation) {
 *         // e.g. send an SMS through your backend
 *     }
 * }
 * GuardianMonitorService.configure(GuardianMonitorConfig(
 *     escalationHandlers = listOf(NotificationEscalation(), SmsContact("+1...")),
 * ))
 * ```
 */
fun interface EscalationHandler {
    fun escalate(
        context: Context,
        escalation: Escalation,
    )
}

/**
 * The default escalation: a high-priority notification on the alert channel saying that help
 * is requested. It replaces the alert's own notification (same id), so the two never show at
 * once.
 */
class NotificationEscalation : EscalationHandler {
    override fun escalate(
        context: Context,
        escalation: Escalation,
    ) {
        val nm = context.getSystemService(NotificationManager::class.java) ?: return
        GuardianNotifications.ensureChannels(context)
        val text =
            if (escalation.byUser) {
                "You asked for help after a fall."
            } else {
                "A fall was detected and nobody answered in time."
            }
        val n =
            Notification.Builder(context, GuardianNotifications.CHANNEL_ALERTS)
                .setSmallIcon(GuardianMonitorService.config.smallIcon)
                .setContentTitle("Guardian: help requested")
                .setContentText(text)
                .setCategory(Notification.CATEGORY_ALARM)
                .setAutoCancel(true)
                .build()
        nm.notify(GuardianNotifications.alertNotificationId(escalation.alertId), n)
    }
}
