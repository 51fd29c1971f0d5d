// XCTest of the Swift wrapper against the real library: the mirror of the Kotlin JVM tests
// (android/jvm/src/test/kotlin/dev/guardian/). Not compiled or run on the Linux machine that
// wrote it (no Swift toolchain there: scripts/swift_check.py only parses it); the macOS
// workflow runs it.
//
// Fixtures, as for the Kotlin tests (`guardian demo --seed 42 --write day42.csv --json > day42.json`):
//   GUARDIAN_DAY_CSV     a synthetic day, CSV `t_ns,sensor,x,y,z` (Android units), day42.json beside it
//   GUARDIAN_LITERT_LIB  optional runtime library path (unset when the runtime is linked in)

import Foundation
import XCTest
@testable import Guardian

// MARK: - Fixtures

enum Fixtures {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static var litert: String? {
        ProcessInfo.processInfo.environment["GUARDIAN_LITERT_LIB"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func day() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["GUARDIAN_DAY_CSV"], !path.isEmpty else {
            throw Missing(description: "GUARDIAN_DAY_CSV is not set: `guardian demo --seed 42 --write day42.csv --json > day42.json`")
        }
        return URL(fileURLWithPath: path)
    }

    static func options(journalDir: URL? = nil) -> DetectorOptions {
        DetectorOptions(journalDir: journalDir?.path, runtimeLibraryPath: litert)
    }

    static func tempDir(_ prefix: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guardian-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// A recording (CSV `t_ns,sensor,x,y,z`, rows in arrival order) in flat arrays.
final class Recording {
    private(set) var t: [Int64] = []
    private(set) var gyro: [Bool] = []
    private(set) var x: [Float] = []
    private(set) var y: [Float] = []
    private(set) var z: [Float] = []

    var count: Int { t.count }

    private static let lock = NSLock()
    private static var cache: [URL: Recording] = [:]

    /// Parsed once per test process and shared.
    static func load(_ url: URL) throws -> Recording {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[url] { return cached }
        let rec = try Recording(csv: Data(contentsOf: url))
        cache[url] = rec
        return rec
    }

    init(csv: Data) throws {
        var bytes = [UInt8](csv)
        bytes.append(0)
        try bytes.withUnsafeBufferPointer { buffer in
            let start = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            let header = "t_ns,sensor,x,y,z\n"
            guard strncmp(start, header, header.utf8.count) == 0 else {
                throw Fixtures.Missing(description: "not a Guardian recording (header)")
            }
            var p = start + header.utf8.count
            var end: UnsafeMutablePointer<CChar>?
            while p.pointee != 0 {
                if p.pointee == 0x0A {
                    p += 1
                    continue
                }
                t.append(Int64(strtoll(p, &end, 10)))
                p = UnsafePointer(end!) + 1 // ','
                let isGyro = p.pointee == 0x67 // "gyro" or "acc"
                gyro.append(isGyro)
                p += isGyro ? 5 : 4
                x.append(strtof(p, &end))
                p = UnsafePointer(end!) + 1
                y.append(strtof(p, &end))
                p = UnsafePointer(end!) + 1
                z.append(strtof(p, &end))
                p = UnsafePointer(end!)
            }
        }
    }

    /// First row whose timestamp is >= `tNs`.
    func index(at tNs: Int64) -> Int {
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if t[mid] < tNs { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Streams rows `from..<to` into `detector` as a 1 s report latency delivers them: every
    /// `batchNs` of sensor time, both sensors in one `SampleBatch.push(to:)`. Returns the calls.
    @discardableResult
    func stream(to detector: FallDetector, from: Int = 0, to: Int? = nil, batchNs: Int64 = 1_000_000_000) throws -> Int {
        let to = to ?? count
        if from >= to { return 0 }
        let batch = SampleBatch(initialCapacity: 256)
        var calls = 0
        var end = t[from] + batchNs
        for i in from..<to {
            if t[i] >= end {
                try batch.push(to: detector)
                calls += 1
                while t[i] >= end { end += batchNs }
            }
            if gyro[i] {
                batch.addGyroscope(tNs: t[i], x: x[i], y: y[i], z: z[i])
            } else {
                batch.addAccelerometer(tNs: t[i], x: x[i], y: y[i], z: z[i])
            }
        }
        if !batch.isEmpty {
            try batch.push(to: detector)
            calls += 1
        }
        return calls
    }
}

/// `guardian demo --json` beside a day's CSV: the Rust engine's detections of that day.
struct DemoResult: Decodable {
    struct Detection: Decodable {
        let impactS: Double
        let score: Double
        let activity: String
        let trueFall: Bool
    }

    let falls: Int
    let detections: [Detection]

    static func forDay(_ csv: URL) throws -> DemoResult {
        let json = csv.deletingPathExtension().appendingPathExtension("json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(DemoResult.self, from: Data(contentsOf: json))
    }
}

/// A listener that records every event (thread-safe).
final class Recorder: GuardianListener, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [GuardianEvent] = []

    func onEvent(event: GuardianEvent) {
        lock.lock()
        recorded.append(event)
        lock.unlock()
    }

    var events: [GuardianEvent] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    var falls: [FallAlert] {
        events.compactMap { if case let .fall(alert) = $0 { return alert } else { return nil } }
    }
}

extension GuardianEvent {
    var fallAlert: FallAlert? {
        if case let .fall(alert) = self { return alert }
        return nil
    }

    var escalatedAlertId: String? {
        if case let .alertEscalated(alertId, _, _) = self { return alertId }
        return nil
    }
}

/// Asserts `body` throws the `GuardianError` case `expected` names, with a message saying what to do.
func assertGuardianError(
    _ expected: String,
    mentioning words: [String] = [],
    file: StaticString = #filePath,
    line: UInt = #line,
    _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected GuardianError.\(expected), nothing was thrown", file: file, line: line)
    } catch let error as GuardianError {
        let text = "\(error)"
        XCTAssertTrue(text.contains(expected), "expected GuardianError.\(expected), got \(text)", file: file, line: line)
        let message = error.localizedDescription
        XCTAssertGreaterThanOrEqual(message.count, 20, "message too short: '\(message)'", file: file, line: line)
        for word in words {
            XCTAssertTrue(message.localizedCaseInsensitiveContains(word), "message '\(message)' should mention '\(word)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected GuardianError.\(expected), got \(error)", file: file, line: line)
    }
}

// MARK: - Tests

final class GuardianTests: XCTestCase {
    /// The "Use it from Swift" example of the README (the lines between the markers); the
    /// mirror of the Kotlin ReadmeExampleTest.
    func testReadmeExample() async throws {
        let rec = try Recording.load(Fixtures.day())
        let impact = rec.t[0] + Int64(try DemoResult.forDay(Fixtures.day()).detections[0].impactS * 1e9)
        let journalDir = try Fixtures.tempDir("readme").path
        // A few minutes around the first fall of the synthetic day, as a sensor would deliver them.
        let samples = rec.index(at: impact - 120_000_000_000)..<rec.index(at: impact + 5_000_000_000)
        let runtimeLibraryPath = Fixtures.litert
        // README-BEGIN
        let detector = try FallDetector(options: DetectorOptions(journalDir: journalDir, runtimeLibraryPath: runtimeLibraryPath))
        // Events as an AsyncStream: events() starts the detector, cancelling the consumer stops it.
        let events = try detector.events()
        let (falls, fallSink) = AsyncStream<FallAlert>.makeStream()
        let consumer = Task {
            for await event in events {
                if case let .fall(alert) = event { fallSink.yield(alert) }
            }
        }
        // The sensor adapter: one SampleBatch per hardware batch (1 s), both sensors in one call.
        // From CoreMotion: `DetectorOptions(units: .coreMotion)` and `batch.addAccelerometer(data)`.
        let batch = SampleBatch()
        var batchEnd = rec.t[samples.lowerBound] + 1_000_000_000
        for i in samples {
            if rec.gyro[i] {
                batch.addGyroscope(tNs: rec.t[i], x: rec.x[i], y: rec.y[i], z: rec.z[i])
            } else {
                batch.addAccelerometer(tNs: rec.t[i], x: rec.x[i], y: rec.y[i], z: rec.z[i])
            }
            if rec.t[i] >= batchEnd {
                try batch.push(to: detector)
                batchEnd += 1_000_000_000
            }
        }
        try batch.push(to: detector)
        var fallIterator = falls.makeAsyncIterator()
        let alert = await fallIterator.next() // show it; "I'm OK" -> detector.cancelAlert()
        let alertId = alert?.alertId ?? ""
        // Once the app has shown (or escalated) the alert, it acknowledges it in the journal.
        _ = try detector.acknowledge(alertId: alertId)
        consumer.cancel()
        detector.stop()
        // README-END
        XCTAssertFalse(alertId.isEmpty, "a Fall arrived through the AsyncStream")
    }

    /// Mirror of FlowTest: the stream delivers the falls of a synthetic day in order, and
    /// stop() flushes and finishes it.
    func testStreamDeliversTheFallsOfASyntheticDayInOrder() async throws {
        let day = try Fixtures.day()
        let rec = try Recording.load(day)
        let demo = try DemoResult.forDay(day)
        let detector = try FallDetector(options: Fixtures.options())
        let events = try detector.events()
        XCTAssertTrue(detector.state().running, "events() started the detector")
        let collected = Task { () -> [GuardianEvent] in
            var got: [GuardianEvent] = []
            for await event in events { got.append(event) }
            return got
        }
        try rec.stream(to: detector)
        detector.stop() // flushes the delivery thread, releases the listener: the stream finishes
        let got = await collected.value
        XCTAssertFalse(detector.state().running)

        assertGuardianError("NotRunning", mentioning: ["start"]) {
            try SampleBatch().addAccelerometer(tNs: rec.t[rec.count - 1] + 1, x: 0, y: 9.8, z: 0).push(to: detector)
        }

        let falls = got.compactMap(\.fallAlert)
        XCTAssertEqual(falls.count, demo.detections.count)
        for (alert, detection) in zip(falls, demo.detections) {
            XCTAssertEqual(Double(alert.impactTNs - rec.t[0]) / 1e9, detection.impactS, accuracy: 0.05)
            XCTAssertLessThan(alert.impactTNs, alert.confirmedTNs)
            XCTAssertFalse(alert.replay)
        }
        // Order: each escalation follows its own fall.
        var open: String?
        for event in got {
            if let alert = event.fallAlert {
                XCTAssertNil(open, "a fall while another alert was open")
                open = alert.alertId
            } else if let id = event.escalatedAlertId {
                XCTAssertEqual(id, open)
                open = nil
            }
        }
        XCTAssertEqual(UInt64(got.count), detector.stats().callbackCount)
    }

    /// Cancelling the consumer stops the detector; the detector can be streamed again.
    func testCancellingTheConsumerStopsTheDetector() async throws {
        let detector = try FallDetector(options: Fixtures.options())
        for _ in 0..<2 {
            let events = try detector.events()
            let consumer = Task {
                for await _ in events {}
            }
            XCTAssertTrue(detector.state().running)
            consumer.cancel()
            await consumer.value
            let deadline = Date().addingTimeInterval(10)
            while detector.state().running, Date() < deadline {
                try await Task.sleep(nanoseconds: 5_000_000)
            }
            XCTAssertFalse(detector.state().running, "cancelling the consumer stopped the detector")
        }
    }

    func testStreamingADetectorThatAlreadyHasAListenerIsAlreadyRunning() throws {
        let detector = try FallDetector(options: Fixtures.options())
        try detector.start(listener: Recorder())
        assertGuardianError("AlreadyRunning", mentioning: ["stop"]) { _ = try detector.events() }
        XCTAssertTrue(detector.state().running, "the failed events() left the running detector alone")
        detector.stop()
    }

    /// Mirror of JournalReplayTest: an unacknowledged alert is replayed after a restart until acknowledged.
    func testAnUnacknowledgedAlertIsReplayedAfterARestart() throws {
        let day = try Fixtures.day()
        let rec = try Recording.load(day)
        let demo = try DemoResult.forDay(day)
        let impact = rec.t[0] + Int64(demo.detections[0].impactS * 1e9)
        let journal = try Fixtures.tempDir("journal")
        defer { try? FileManager.default.removeItem(at: journal) }

        // 1. "The app before the crash": stream to a few seconds after the first fall, then release
        //    the detector without stop() and without acknowledging.
        let first = Recorder()
        do {
            let d1 = try FallDetector(options: Fixtures.options(journalDir: journal))
            try d1.start(listener: first)
            try rec.stream(to: d1, from: rec.index(at: impact - 600_000_000_000), to: rec.index(at: impact + 5_000_000_000))
        } // d1 deinit: stops and frees
        let alert = try XCTUnwrap(first.falls.first)
        XCTAssertEqual(first.falls.count, 1)
        XCTAssertFalse(alert.replay)

        // 2. "The app after the restart": the alert comes again, marked as a replay, before any sample.
        let second = Recorder()
        let d2 = try FallDetector(options: Fixtures.options(journalDir: journal))
        XCTAssertEqual(d2.pendingAlerts().map(\.alertId), [alert.alertId])
        try d2.start(listener: second)
        d2.stop() // flushes the delivery thread: the replay has been delivered
        let replay = try XCTUnwrap(second.falls.first)
        XCTAssertEqual(second.falls.count, 1)
        XCTAssertTrue(replay.replay)
        var expected = alert
        expected.replay = true
        XCTAssertEqual(replay, expected, "the same alert, field for field")

        XCTAssertTrue(try d2.acknowledge(alertId: alert.alertId))
        XCTAssertTrue(d2.pendingAlerts().isEmpty)
        XCTAssertFalse(try d2.acknowledge(alertId: alert.alertId), "acknowledging twice: false")
        XCTAssertTrue(d2.alertHistory().contains { $0.alert.alertId == alert.alertId && $0.acknowledged })

        // 3. Another restart: nothing is replayed any more.
        let third = Recorder()
        let d3 = try FallDetector(options: Fixtures.options(journalDir: journal))
        try d3.start(listener: third)
        d3.stop()
        XCTAssertTrue(d3.pendingAlerts().isEmpty)
        XCTAssertTrue(third.falls.isEmpty, "\(third.events)")
    }

    /// Mirror of ErrorsTest: every typed error, as a Swift caller sees it.
    func testBadSamplesAreInvalidBatchAndNothingIsConsumed() throws {
        let d = try FallDetector(options: Fixtures.options())
        try d.start(listener: Recorder())
        defer { d.stop() }
        assertGuardianError("InvalidBatch") {
            try d.pushAccelerometer(tNs: [1_000, 2_000], x: [0, .nan], y: [0, 0], z: [9.8, 9.8])
        }
        assertGuardianError("InvalidBatch") {
            try d.pushSample(sensor: .gyroscope, tNs: 1_000, x: .infinity, y: 0, z: 0)
        }
        let batch = SampleBatch().addAccelerometer(tNs: 1_000, x: 0, y: 9.8, z: 0).addGyroscope(tNs: 1_000, x: 0, y: .nan, z: 0)
        assertGuardianError("InvalidBatch") { try batch.push(to: d) }
        XCTAssertTrue(batch.isEmpty, "the rejected batch was cleared")
        assertGuardianError("InvalidBatch") {
            try d.pushGyroscope(tNs: [1, 2], x: [0], y: [0, 0], z: [0, 0])
        }
        // Header says 2 accelerometer records, the buffer holds 1.
        var packed = SampleBatch().addAccelerometer(tNs: 1_000, x: 0, y: 9.8, z: 0).pack()
        packed[0] = 2
        assertGuardianError("InvalidBatch") { try d.pushPacked(batch: packed) }
        assertGuardianError("InvalidBatch") { try d.pushPacked(batch: Data([0, 0, 0])) }
        XCTAssertEqual(d.stats().accSamples, 0, "nothing consumed")
        XCTAssertEqual(d.stats().gyroSamples, 0, "nothing consumed")
        // The detector goes on after a rejected batch.
        try SampleBatch().addAccelerometer(tNs: 1_000, x: 0, y: 9.8, z: 0).push(to: d)
        XCTAssertEqual(d.stats().accSamples, 1)
    }

    func testPackedLayoutMatchesTheFacade() throws {
        let batch = SampleBatch()
            .addAccelerometer(tNs: 0x0102_0304_0506_0708, x: 1, y: -2, z: 9.5)
            .addGyroscope(tNs: -5, x: 0.25, y: 0, z: -0.5)
            .addGyroscope(tNs: 7, x: 0, y: 0, z: 0)
        let data = batch.pack()
        XCTAssertEqual(UInt64(data.count), packedBatchSize(accCount: 1, gyroCount: 2))
        XCTAssertEqual(data.count, SampleBatch.packedSize(accCount: 1, gyroCount: 2))
        XCTAssertEqual(Array(data.prefix(8)), [1, 0, 0, 0, 2, 0, 0, 0])
        XCTAssertEqual(Array(data[8..<16]), [8, 7, 6, 5, 4, 3, 2, 1], "i64 little-endian")
        XCTAssertEqual(Array(data[16..<20]), Array(withUnsafeBytes(of: Float(1).bitPattern.littleEndian) { Array($0) }))
        XCTAssertEqual(batch.count, 3)
    }

    func testSecondsToNsConvertsCoreMotionTimestamps() throws {
        XCTAssertEqual(try secondsToNs(seconds: 12.5), 12_500_000_000)
        assertGuardianError("InvalidBatch") { _ = try secondsToNs(seconds: -1) }
        assertGuardianError("InvalidBatch") { _ = try secondsToNs(seconds: .nan) }
    }

    func testStartTwiceIsAlreadyRunning() throws {
        let d = try FallDetector(options: Fixtures.options())
        try d.start(listener: Recorder())
        defer { d.stop() }
        assertGuardianError("AlreadyRunning", mentioning: ["stop"]) { try d.start(listener: Recorder()) }
    }

    func testABadConfigurationIsConfigInvalidAndNamesTheField() {
        var options = Fixtures.options()
        options.settings = DetectorSettings(threshold: 5)
        assertGuardianError("ConfigInvalid", mentioning: ["threshold"]) { _ = try FallDetector(options: options) }
        options.settings = DetectorSettings(cancelWindowMs: 1)
        assertGuardianError("ConfigInvalid", mentioning: ["cancel_window"]) { _ = try FallDetector(options: options) }
    }

    func testAMissingRuntimeLibraryIsRuntimeLibraryMissing() {
        var options = Fixtures.options()
        options.runtimeLibraryPath = "/nonexistent/libLiteRt.dylib"
        assertGuardianError("RuntimeLibraryMissing", mentioning: ["/nonexistent/libLiteRt.dylib"]) { _ = try FallDetector(options: options) }
    }

    func testAMissingModelCardIsATypedErrorNamingThePath() {
        var options = Fixtures.options()
        options.modelCardPath = "/nonexistent/model_card.json"
        do {
            _ = try FallDetector(options: options)
            XCTFail("expected a GuardianError")
        } catch let error as GuardianError {
            switch error {
            case .CardInvalid, .ModelInvalid:
                XCTAssertTrue(error.localizedDescription.contains("/nonexistent/model_card.json"), error.localizedDescription)
            default:
                XCTFail("got \(error)")
            }
        } catch {
            XCTFail("got \(error)")
        }
    }

    /// `localizedDescription` is the Rust message, saying what to do (LocalizedError conformance).
    func testLocalizedDescriptionIsTheMessage() {
        let error: Error = GuardianError.NotRunning(message: "the detector is not running: call start(listener) first")
        XCTAssertEqual(error.localizedDescription, "the detector is not running: call start(listener) first")
    }
}
