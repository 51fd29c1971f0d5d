// The sample app's controller: owns the detector, the CoreMotion source and the timers, feeds
// detector events through MonitorState and performs the effects. Views only read it and call
// its intents.
//
// Background policy (ios/README.md, "Background execution"): monitoring runs while the app is
// in the foreground. When the app goes to the background the sensor source is stopped (iOS
// would suspend the app and CoreMotion anyway) and the screen says so; it restarts when the
// app comes back. The screen is kept awake while monitoring so that the phone does not lock.
// An alert raised before the app went away still escalates on time through the notification
// scheduled for its deadline.

import CoreMotion
import Foundation
import Guardian
import UIKit
import UserNotifications

@MainActor
final class MonitorModel: ObservableObject {
    @Published private(set) var state = MonitorState()
    @Published private(set) var plot = PlotBuffer(capacity: 200)
    @Published private(set) var history: [AlertRecord] = []
    @Published private(set) var secondsLeft: Int?
    @Published private(set) var usesGyroscope = false
    @Published var errorMessage: String?

    /// The time to answer an alert; the detector's cancel window is set to the same.
    static let cancelWindowSeconds: UInt32 = 30

    private let motion = CMMotionManager() // one per app
    private let escalationHandlers: [EscalationHandler]
    private let notifications: LocalNotificationEscalation?
    private var detector: FallDetector?
    private var source: CoreMotionSource?
    private var eventsTask: Task<Void, Never>?
    private var clock: Timer?
    /// The user asked for monitoring (it pauses in the background).
    private var wantsMonitoring = false

    private var cancelWindowNs: Int64 { Int64(Self.cancelWindowSeconds) * 1_000_000_000 }

    init(escalationHandlers: [EscalationHandler]? = nil) {
        let local = LocalNotificationEscalation()
        self.notifications = local
        self.escalationHandlers = escalationHandlers ?? [local]
        usesGyroscope = motion.isGyroAvailable
        do {
            detector = try Self.makeDetector(motion: motion)
            refreshHistory()
        } catch {
            state.monitoring = .failed(error.localizedDescription)
        }
    }

    /// The detector: CoreMotion units, the accelerometer-only model without a gyroscope, a
    /// 30 s cancel window, and the alert journal in Application Support.
    private static func makeDetector(motion: CMMotionManager) throws -> FallDetector {
        let support = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
        let journal = support.appendingPathComponent("guardian-journal", isDirectory: true)
        let base = DetectorOptions(
            settings: DetectorSettings(cancelWindowMs: cancelWindowSeconds * 1000),
            journalDir: journal.path
        )
        return try FallDetector(options: CoreMotionSource.detectorOptions(base, motionManager: motion))
    }

    // MARK: - Intents

    func startMonitoring() {
        guard let detector, !wantsMonitoring else { return }
        errorMessage = nil
        UNUserNotificationCenterBridge.requestAuthorization()
        do {
            let events = try detector.events() // starts the detector; replays unacknowledged alerts
            eventsTask = Task { [weak self] in
                for await event in events {
                    self?.handle(event)
                }
            }
        } catch {
            errorMessage = error.localizedDescription
            return
        }
        wantsMonitoring = true
        state.model = detector.state().model
        resumeSensors()
        startClock()
    }

    func stopMonitoring() {
        guard wantsMonitoring else { return }
        wantsMonitoring = false
        pauseSensors()
        detector?.stop() // delivers what is queued; the events stream finishes
        eventsTask = nil
        stopClock()
        state.monitoring = .stopped
        refreshHistory()
    }

    /// "I'm OK".
    func imOK() {
        answer { try $0.cancelAlert() }
    }

    /// "I need help".
    func needHelp() {
        answer { try $0.confirmAlert() }
    }

    func refreshHistory() {
        history = (detector?.alertHistory() ?? []).reversed() // newest first
    }

    // MARK: - Scene phase

    func sceneBecameActive() {
        guard wantsMonitoring else { return }
        resumeSensors()
        startClock()
        tick() // escalates at once an alert whose deadline passed while the app was away
    }

    func sceneEnteredBackground() {
        guard wantsMonitoring else { return }
        pauseSensors()
        stopClock()
        state.monitoring = .pausedInBackground
    }

    // MARK: - Sensors and clock

    private func resumeSensors() {
        guard let detector else { return }
        if source == nil {
            let decimator = Decimator(every: 5) // 100 Hz -> 20 points a second
            source = CoreMotionSource(
                detector: detector,
                motionManager: motion,
                onAccelerometer: { [weak self] data in
                    guard decimator.take() else { return }
                    let a = data.acceleration
                    Task { @MainActor in self?.plot.append(x: a.x, y: a.y, z: a.z) }
                },
                onError: { [weak self] error in
                    let message = error.localizedDescription
                    Task { @MainActor in self?.errorMessage = message }
                }
            )
        }
        do {
            try source?.start()
            state.monitoring = .running
            UIApplication.shared.isIdleTimerDisabled = true
        } catch {
            state.monitoring = .failed(error.localizedDescription)
        }
    }

    private func pauseSensors() {
        source?.stop() // flushes the buffered samples
        UIApplication.shared.isIdleTimerDisabled = false
    }

    private func startClock() {
        guard clock == nil else { return }
        clock = Timer.scheduledTimer(withTimeInterval: 1, repeats: true) { [weak self] _ in
            Task { @MainActor in self?.tick() }
        }
    }

    private func stopClock() {
        clock?.invalidate()
        clock = nil
    }

    /// Once a second: the countdown, the detector's alert timer (it escalates a live alert at
    /// its deadline even if no sample arrives), and the app's own timer for a replayed alert.
    private func tick() {
        guard let now = try? CoreMotionSource.nowNs() else { return }
        if state.alert != nil {
            source?.tick()
        }
        perform(state.expire(nowNs: now))
        secondsLeft = state.secondsLeft(nowNs: now)
    }

    // MARK: - Events and effects

    private func handle(_ event: GuardianEvent) {
        let now = (try? CoreMotionSource.nowNs()) ?? 0
        perform(state.apply(event, nowNs: now, cancelWindowNs: cancelWindowNs))
        secondsLeft = state.secondsLeft(nowNs: now)
        if case .fall = event { refreshHistory() }
    }

    private func perform(_ effects: [MonitorEffect]) {
        for effect in effects {
            switch effect {
            case let .scheduleEscalationNotice(alertId, afterSeconds):
                notifications?.scheduleNotice(alertId: alertId, afterSeconds: afterSeconds)
            case let .cancelEscalationNotice(alertId):
                notifications?.cancelNotice(alertId: alertId)
            case let .escalate(alertId, byUser):
                let handlers = escalationHandlers
                Task { [weak self] in
                    for handler in handlers {
                        await handler.escalate(Escalation(alertId: alertId, byUser: byUser))
                    }
                    self?.acknowledge(alertId)
                }
            case let .acknowledge(alertId):
                acknowledge(alertId)
            }
        }
    }

    private func acknowledge(_ alertId: String) {
        do {
            _ = try detector?.acknowledge(alertId: alertId)
        } catch {
            errorMessage = error.localizedDescription
        }
        refreshHistory()
    }

    private func answer(_ call: (FallDetector) throws -> Bool) {
        guard let detector else { return }
        do {
            if try !call(detector) {
                // No alert was open (it escalated meanwhile): nothing to answer.
                state.alert = nil
            }
        } catch {
            errorMessage = error.localizedDescription
        }
        // The answer's event (cancelled / escalated) arrives through the stream.
    }
}

/// Notification permission, asked when monitoring starts.
enum UNUserNotificationCenterBridge {
    static func requestAuthorization() {
        UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound]) { _, _ in }
    }
}
