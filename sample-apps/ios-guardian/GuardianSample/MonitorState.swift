// The sample app's state logic, free of UIKit, SwiftUI and CoreMotion: what the screen shows
// and what the app must do, as a function of the detector's events. Unit-tested in
// GuardianSampleTests (the mirror of the Android sample's plain Kotlin state classes).

import Foundation
import Guardian

/// The alert the full-screen view shows.
struct ActiveAlert: Equatable {
    let alertId: String
    /// When the detector raised it, ns (sensor clock).
    let confirmedTNs: Int64
    /// When it escalates if nobody answers, ns (sensor clock).
    let deadlineNs: Int64
    /// Delivered again after the app restarted: its detector timer died with the old process,
    /// so the app counts down itself (`MonitorState.expire(nowNs:)`).
    let replay: Bool
    let score: Float
    let peakG: Float
}

/// What the app must do after an event (MonitorModel performs these).
enum MonitorEffect: Equatable {
    /// Schedule the "nobody answered" notification for the deadline: it fires even if iOS has
    /// suspended the app by then.
    case scheduleEscalationNotice(alertId: String, afterSeconds: Double)
    /// The alert was answered "I'm OK": the scheduled notification must not fire.
    case cancelEscalationNotice(alertId: String)
    /// Call for help (the escalation handlers), then acknowledge the alert in the journal.
    case escalate(alertId: String, byUser: Bool)
    /// The alert is handled: it is not delivered again after a restart.
    case acknowledge(alertId: String)
}

struct MonitorState: Equatable {
    enum Monitoring: Equatable {
        case stopped
        case running
        /// The app is in the background: iOS suspends it and CoreMotion stops (ios/README.md).
        case pausedInBackground
        case failed(String)
    }

    static let maxNotes = 5

    var monitoring: Monitoring = .stopped
    var model: ModelKind?
    var alert: ActiveAlert?
    /// Newest first: sensor and problem notes.
    var notes: [String] = []

    /// Applies one detector event; returns what the app must do, in order.
    mutating func apply(_ event: GuardianEvent, nowNs: Int64, cancelWindowNs: Int64) -> [MonitorEffect] {
        switch event {
        case let .fall(alert):
            // A live alert escalates at the detector's deadline; a replayed one gets a fresh
            // window from now (the app counts it down).
            let deadline = alert.replay ? nowNs + cancelWindowNs : alert.confirmedTNs + cancelWindowNs
            self.alert = ActiveAlert(
                alertId: alert.alertId,
                confirmedTNs: alert.confirmedTNs,
                deadlineNs: deadline,
                replay: alert.replay,
                score: alert.score,
                peakG: alert.peakG
            )
            let after = max(0, Double(deadline - nowNs) / 1e9)
            return [.scheduleEscalationNotice(alertId: alert.alertId, afterSeconds: after)]
        case let .alertCancelled(alertId, _):
            if self.alert?.alertId == alertId { self.alert = nil }
            return [.cancelEscalationNotice(alertId: alertId), .acknowledge(alertId: alertId)]
        case let .alertEscalated(alertId, _, byUser):
            if self.alert?.alertId == alertId { self.alert = nil }
            return [.escalate(alertId: alertId, byUser: byUser)]
        case let .sensorStalled(sensor, _):
            note(sensor == .gyroscope
                ? "Gyroscope silent: the accelerometer-only model takes over."
                : "Accelerometer silent: falls cannot be detected until it resumes.")
            return []
        case let .sensorResumed(sensor, _):
            note("\(sensor == .gyroscope ? "Gyroscope" : "Accelerometer") delivers again.")
            return []
        case let .modelChanged(model, _):
            self.model = model
            return []
        case let .problem(kind, message):
            note("\(kind): \(message)")
            return []
        }
    }

    /// A replayed alert whose window ran out: the app escalates it (the detector cannot).
    mutating func expire(nowNs: Int64) -> [MonitorEffect] {
        guard let alert, alert.replay, nowNs >= alert.deadlineNs else { return [] }
        self.alert = nil
        return [.escalate(alertId: alert.alertId, byUser: false)]
    }

    /// Whole seconds left to answer the alert, never negative; nil without an alert.
    func secondsLeft(nowNs: Int64) -> Int? {
        guard let alert else { return nil }
        let left = alert.deadlineNs - nowNs
        return left <= 0 ? 0 : Int((left + 999_999_999) / 1_000_000_000)
    }

    private mutating func note(_ text: String) {
        notes.insert(text, at: 0)
        if notes.count > Self.maxNotes { notes.removeLast(notes.count - Self.maxNotes) }
    }
}

/// The last `capacity` points of |a| (g) for the live plot.
struct PlotBuffer: Equatable {
    let capacity: Int
    private(set) var points: [Double] = []

    init(capacity: Int = 200) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Appends |a| of one sample (g; the magnitude is the same in either sign convention).
    mutating func append(x: Double, y: Double, z: Double) {
        points.append((x * x + y * y + z * z).squareRoot())
        if points.count > capacity { points.removeFirst(points.count - capacity) }
    }
}

/// Lets one sample in `every` through (the plot needs 20 points a second, not 100). Confined to
/// the queue that calls `take()` (CoreMotionSource's).
final class Decimator {
    let every: Int
    private var count = 0

    init(every: Int) {
        precondition(every > 0)
        self.every = every
    }

    func take() -> Bool {
        count += 1
        guard count >= every else { return false }
        count = 0
        return true
    }
}
