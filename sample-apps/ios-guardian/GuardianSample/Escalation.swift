// Escalation: what happens when nobody answers an alert, or the user taps "I need help".
// The sample posts a local notification; calling or messaging a contact is the integrator's
// EscalationHandler.

import Foundation
import UserNotifications

/// An alert that needs help.
struct Escalation: Equatable {
    let alertId: String
    /// The user tapped "I need help" (false: nobody answered in time).
    let byUser: Bool
}

/// The hook where an integrator calls for help: dial or message a contact, notify a server.
///
/// Called on the main actor once per escalated alert, before the alert is acknowledged in the
/// journal. If the app dies in between, the alert is delivered again after the restart and the
/// handler runs again: make it idempotent per `alertId`.
///
/// ```swift
/// final class CallContact: EscalationHandler {
///     func escalate(_ escalation: Escalation) async {
///         // e.g. send an SMS through your backend, or open "tel:" when the app is in front
///     }
/// }
/// MonitorModel(escalationHandlers: [LocalNotificationEscalation(), CallContact()])
/// ```
@MainActor
protocol EscalationHandler: AnyObject {
    func escalate(_ escalation: Escalation) async
}

/// The default escalation: a local notification. The same identifier as the "nobody answered"
/// notice scheduled when the alert was raised, so the two never show twice.
@MainActor
final class LocalNotificationEscalation: EscalationHandler {
    private let center: UNUserNotificationCenter

    init(center: UNUserNotificationCenter = .current()) {
        self.center = center
    }

    static func identifier(alertId: String) -> String {
        "guardian.escalation.\(alertId)"
    }

    static func content(byUser: Bool) -> UNMutableNotificationContent {
        let content = UNMutableNotificationContent()
        content.title = "Guardian: help requested"
        content.body = byUser
            ? "You asked for help after a fall."
            : "A fall was detected and nobody answered within 30 seconds."
        content.sound = .default
        return content
    }

    /// Schedules the notice that fires at the alert's deadline if nobody answers, also while
    /// the app is suspended.
    func scheduleNotice(alertId: String, afterSeconds: Double) {
        let trigger = UNTimeIntervalNotificationTrigger(timeInterval: max(1, afterSeconds), repeats: false)
        let request = UNNotificationRequest(
            identifier: Self.identifier(alertId: alertId),
            content: Self.content(byUser: false),
            trigger: trigger
        )
        center.add(request)
    }

    /// The alert was answered "I'm OK".
    func cancelNotice(alertId: String) {
        center.removePendingNotificationRequests(withIdentifiers: [Self.identifier(alertId: alertId)])
    }

    func escalate(_ escalation: Escalation) async {
        // Replaces the scheduled notice (same identifier) and shows at once.
        let request = UNNotificationRequest(
            identifier: Self.identifier(alertId: escalation.alertId),
            content: Self.content(byUser: escalation.byUser),
            trigger: nil
        )
        try? await center.add(request)
    }
}
