// Hand-written: the CoreMotion sensor adapter. iOS only; the Android counterpart is the AAR's
// `GuardianSensorSource` (SensorManager), so scripts/api_mirror.py is told it has no mirror.
//
// What it does NOT do, on purpose: convert units or clocks. Accelerometer values go to the
// detector exactly as CoreMotion reports them (g, gravity included, CoreMotion's sign) and the
// detector is created with `units: .coreMotion`, so the facade (Rust, tested there) converts.
// Timestamps go through the facade's `secondsToNs(seconds:)` for both sensors.
//
// Background execution: CoreMotion live updates stop while the app is suspended. This class
// does not try to keep the app alive; see ios/README.md ("Background execution").

#if canImport(CoreMotion) && os(iOS)
import CoreMotion
import Foundation

// api-mirror: ios-only (CoreMotion adapter; Android's sensor adapter lives in the AAR)
/// Streams the accelerometer and, when the device has one, the gyroscope from `CMMotionManager`
/// into a `FallDetector`, in batches.
///
/// ```swift
/// let motion = CMMotionManager()                    // one per app (Apple's advice)
/// let options = CoreMotionSource.detectorOptions(DetectorOptions(journalDir: dir), motionManager: motion)
/// let detector = try FallDetector(options: options) // units: .coreMotion, .accOnly without a gyroscope
/// let events = try detector.events()
/// let source = CoreMotionSource(detector: detector, motionManager: motion)
/// try source.start()
/// ...
/// source.stop()                                     // stops updates, pushes what is buffered
/// ```
///
/// - Samples arrive on the source's own serial `OperationQueue` (never the main queue), are
///   added to one `SampleBatch` and pushed in one `pushPacked` call every `batchInterval`
///   (default 1 s) or every `maxBatchSamples` samples, whichever comes first.
/// - Both sensors run at `rateHz` (default 100 Hz). CoreMotion may deliver at a slightly
///   different rate; the detector resamples, so only the timestamps matter.
/// - `start()`, `stop()` and `tick()` may be called from any thread, also from the callbacks
///   (`onAccelerometer`, `onError`, which run on the source's queue).
public final class CoreMotionSource {
    /// Why the source could not start.
    public enum Failure: Error, LocalizedError, Equatable {
        /// The device has no accelerometer (or CoreMotion is not available, e.g. on a Mac).
        case accelerometerUnavailable

        public var errorDescription: String? {
            switch self {
            case .accelerometerUnavailable:
                return "This device has no accelerometer that CoreMotion can read: fall detection cannot run on it."
            }
        }
    }

    /// Default sampling rate of both sensors, Hz.
    public static let defaultRateHz: Double = 100
    /// Default time between pushes, seconds. An alert still arrives within about the
    /// post-impact check plus this long after an impact.
    public static let defaultBatchInterval: TimeInterval = 1

    /// The options for a detector fed by CoreMotion: `base` with `units = .coreMotion` and, when
    /// `motionManager` reports no gyroscope, `sensors = .accOnly` (the accelerometer-only model).
    public static func detectorOptions(_ base: DetectorOptions = DetectorOptions(), motionManager: CMMotionManager) -> DetectorOptions {
        var options = base
        options.units = .coreMotion
        if !motionManager.isGyroAvailable {
            options.sensors = .accOnly
        }
        return options
    }

    /// Now, in the nanoseconds of the sensor clock (`CMLogItem.timestamp` counts seconds since
    /// boot on the clock of `ProcessInfo.systemUptime`). For `FallDetector.tick(nowNs:)`.
    public static func nowNs() throws -> Int64 {
        try secondsToNs(seconds: ProcessInfo.processInfo.systemUptime)
    }

    /// The detector the samples go to.
    public let detector: FallDetector
    /// The motion manager (share the app's single instance).
    public let motionManager: CMMotionManager
    /// Sampling rate requested from CoreMotion for both sensors, Hz.
    public let rateHz: Double
    /// Time between pushes, seconds.
    public let batchInterval: TimeInterval
    /// A push happens at the latest when this many samples (both sensors) are buffered.
    public let maxBatchSamples: Int
    /// Whether the gyroscope is streamed (`CMMotionManager.isGyroAvailable`).
    public var usesGyroscope: Bool { motionManager.isGyroAvailable }

    /// The serial queue CoreMotion delivers on; every batch operation runs on it.
    private let queue: OperationQueue
    private let batch: SampleBatch
    private let onAccelerometer: ((CMAccelerometerData) -> Void)?
    private let onError: ((Error) -> Void)?
    // Touched only on `queue`: the timestamp of the batch's first sample, seconds.
    private var batchStart: TimeInterval?
    // Touched only under `lock` (start/stop may come from any thread).
    private let lock = NSLock()
    private var running = false

    /// - Parameters:
    ///   - detector: a detector created with `CoreMotionSource.detectorOptions(...)` (so
    ///     `units: .coreMotion`), started (`events()` or `start(listener:)`) before `start()`.
    ///   - motionManager: the app's `CMMotionManager`.
    ///   - rateHz: sampling rate of both sensors (default 100 Hz).
    ///   - batchInterval: seconds between pushes (default 1 s).
    ///   - onAccelerometer: called on the source's queue with each accelerometer sample after it
    ///     was buffered (for a live plot: decimate and hop to the main actor yourself).
    ///   - onError: called on the source's queue when CoreMotion reports an error or the
    ///     detector rejects a batch (`GuardianError`); the source keeps running.
    public init(
        detector: FallDetector,
        motionManager: CMMotionManager,
        rateHz: Double = CoreMotionSource.defaultRateHz,
        batchInterval: TimeInterval = CoreMotionSource.defaultBatchInterval,
        onAccelerometer: ((CMAccelerometerData) -> Void)? = nil,
        onError: ((Error) -> Void)? = nil
    ) {
        precondition(rateHz > 0 && rateHz.isFinite, "rateHz must be positive")
        precondition(batchInterval > 0 && batchInterval.isFinite, "batchInterval must be positive")
        self.detector = detector
        self.motionManager = motionManager
        self.rateHz = rateHz
        self.batchInterval = batchInterval
        // Both sensors, one interval, and room for CoreMotion delivering a little late.
        let perSensor = Int((rateHz * batchInterval).rounded(.up))
        self.maxBatchSamples = max(2, 2 * perSensor + perSensor / 2)
        self.batch = SampleBatch(initialCapacity: perSensor + perSensor / 2)
        self.onAccelerometer = onAccelerometer
        self.onError = onError
        let queue = OperationQueue()
        queue.name = "dev.guardian.CoreMotionSource"
        queue.maxConcurrentOperationCount = 1 // serial: the batch is filled and pushed in order
        queue.qualityOfService = .userInitiated
        self.queue = queue
    }

    deinit {
        // No flush here: the queue must not capture an object being deinitialised. Call
        // `stop()` first to push what is buffered (at most `batchInterval` of samples).
        if running {
            stopUpdates()
        }
    }

    /// Whether updates are running.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    /// Starts accelerometer (and gyroscope, if present) updates at `rateHz`. Does nothing if
    /// already running.
    ///
    /// - Throws: `CoreMotionSource.Failure.accelerometerUnavailable`.
    public func start() throws {
        lock.lock()
        defer { lock.unlock() }
        if running { return }
        guard motionManager.isAccelerometerAvailable else {
            throw Failure.accelerometerUnavailable
        }
        let interval = 1.0 / rateHz
        motionManager.accelerometerUpdateInterval = interval
        motionManager.startAccelerometerUpdates(to: queue) { [weak self] data, error in
            guard let self else { return }
            if let error {
                self.onError?(error)
                return
            }
            guard let data else { return }
            self.receive(at: data.timestamp) { try self.batch.addAccelerometer(data) }
            self.onAccelerometer?(data)
        }
        if motionManager.isGyroAvailable {
            motionManager.gyroUpdateInterval = interval
            motionManager.startGyroUpdates(to: queue) { [weak self] data, error in
                guard let self else { return }
                if let error {
                    self.onError?(error)
                    return
                }
                guard let data else { return }
                self.receive(at: data.timestamp) { try self.batch.addGyroscope(data) }
            }
        }
        running = true
    }

    /// Stops the updates and pushes what is buffered (flush), then returns. Does nothing if not
    /// running. Does not stop the detector.
    public func stop() {
        lock.lock()
        let wasRunning = running
        running = false
        lock.unlock()
        guard wasRunning else { return }
        stopUpdates()
        // Samples CoreMotion queued before the stop are handled first (serial queue, FIFO),
        // then the flush pushes the rest.
        let flush = BlockOperation { [self] in self.push() }
        if OperationQueue.current === queue {
            flush.start()
        } else {
            queue.addOperations([flush], waitUntilFinished: true)
        }
    }

    private func stopUpdates() {
        motionManager.stopAccelerometerUpdates()
        if motionManager.isGyroAvailable {
            motionManager.stopGyroUpdates()
        }
    }

    /// Pushes what is buffered, then advances the detector's alert timers to now
    /// (`FallDetector.tick(nowNs:)`), so an alert escalates on time even when no sample arrives.
    /// Call it about once a second while an alert is open. Runs on the source's queue; errors
    /// go to `onError`.
    public func tick() {
        queue.addOperation { [weak self] in
            guard let self else { return }
            self.push()
            do {
                try self.detector.tick(nowNs: CoreMotionSource.nowNs())
            } catch {
                self.onError?(error)
            }
        }
    }

    // MARK: - On the queue

    /// Adds one sample taken at `timestamp` (`CMLogItem.timestamp`; `add` converts it with
    /// `secondsToNs`, and a sample it cannot convert is reported, not buffered) and pushes the
    /// batch when it is due.
    private func receive(at timestamp: TimeInterval, _ add: () throws -> SampleBatch) {
        do {
            _ = try add()
        } catch {
            onError?(error)
            return
        }
        let start = batchStart ?? timestamp
        batchStart = start
        if batch.count >= maxBatchSamples || timestamp - start >= batchInterval {
            push()
        }
    }

    /// Pushes the buffered samples in one call (the batch is cleared, also on failure).
    private func push() {
        batchStart = nil
        guard !batch.isEmpty else { return }
        do {
            try batch.push(to: detector)
        } catch {
            onError?(error)
        }
    }
}
#endif
