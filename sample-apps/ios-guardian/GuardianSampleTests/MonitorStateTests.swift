// Unit tests of the sample's state logic (no sensors, no detector): the workflow runs them on
// the simulator with `xcodebuild test -scheme GuardianSample`.

import Guardian
import XCTest
@testable import GuardianSample

final class MonitorStateTests: XCTestCase {
    private let window: Int64 = 30_000_000_000

    private func fall(_ id: String, confirmed: Int64, replay: Bool = false) -> GuardianEvent {
        .fall(alert: FallAlert(alertId: id, impactTNs: confirmed - 3_000_000_000, confirmedTNs: confirmed, score: 0.9, peakG: 3.5, model: .full, replay: replay))
    }

    func testALiveFallCountsDownToTheDetectorsDeadline() {
        var state = MonitorState()
        let effects = state.apply(fall("a", confirmed: 100_000_000_000), nowNs: 101_000_000_000, cancelWindowNs: window)
        XCTAssertEqual(effects, [.scheduleEscalationNotice(alertId: "a", afterSeconds: 29)])
        XCTAssertEqual(state.alert?.deadlineNs, 130_000_000_000)
        XCTAssertEqual(state.secondsLeft(nowNs: 101_000_000_000), 29)
        XCTAssertEqual(state.secondsLeft(nowNs: 129_500_000_000), 1)
        XCTAssertEqual(state.secondsLeft(nowNs: 140_000_000_000), 0)
        // The detector's timer, not the app's, escalates a live alert.
        XCTAssertEqual(state.expire(nowNs: 140_000_000_000), [])
    }

    func testImOKCancelsTheNoticeAndAcknowledges() {
        var state = MonitorState()
        _ = state.apply(fall("a", confirmed: 100), nowNs: 100, cancelWindowNs: window)
        let effects = state.apply(.alertCancelled(alertId: "a", tNs: 200), nowNs: 200, cancelWindowNs: window)
        XCTAssertNil(state.alert)
        XCTAssertEqual(effects, [.cancelEscalationNotice(alertId: "a"), .acknowledge(alertId: "a")])
    }

    func testEscalationCallsForHelp() {
        var state = MonitorState()
        _ = state.apply(fall("a", confirmed: 100), nowNs: 100, cancelWindowNs: window)
        let effects = state.apply(.alertEscalated(alertId: "a", tNs: window + 100, byUser: false), nowNs: window + 100, cancelWindowNs: window)
        XCTAssertNil(state.alert)
        XCTAssertEqual(effects, [.escalate(alertId: "a", byUser: false)])
    }

    func testAReplayedAlertGetsAFreshWindowAndTheAppEscalatesIt() {
        var state = MonitorState()
        let effects = state.apply(fall("old", confirmed: 5, replay: true), nowNs: 1_000_000_000_000, cancelWindowNs: window)
        XCTAssertEqual(effects, [.scheduleEscalationNotice(alertId: "old", afterSeconds: 30)])
        XCTAssertEqual(state.expire(nowNs: 1_000_000_000_000 + window - 1), [])
        XCTAssertEqual(state.expire(nowNs: 1_000_000_000_000 + window), [.escalate(alertId: "old", byUser: false)])
        XCTAssertNil(state.alert)
    }

    func testSensorNotesAreBoundedNewestFirst() {
        var state = MonitorState()
        for i in 0..<(MonitorState.maxNotes + 3) {
            _ = state.apply(.sensorStalled(sensor: .gyroscope, tNs: Int64(i)), nowNs: 0, cancelWindowNs: window)
            _ = state.apply(.sensorResumed(sensor: .gyroscope, tNs: Int64(i)), nowNs: 0, cancelWindowNs: window)
        }
        XCTAssertEqual(state.notes.count, MonitorState.maxNotes)
        XCTAssertEqual(state.notes.first, "Gyroscope delivers again.")
        _ = state.apply(.modelChanged(model: .accOnly, tNs: 1), nowNs: 0, cancelWindowNs: window)
        XCTAssertEqual(state.model, .accOnly)
    }

    func testPlotKeepsTheLastPointsAndDecimatorLetsOneInFiveThrough() {
        var plot = PlotBuffer(capacity: 3)
        for g in [1.0, 2, 3, 4] { plot.append(x: 0, y: 0, z: -g) }
        XCTAssertEqual(plot.points, [2, 3, 4])
        let decimator = Decimator(every: 5)
        XCTAssertEqual((0..<10).filter { _ in decimator.take() }.count, 2)
    }
}
