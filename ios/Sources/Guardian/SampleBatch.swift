// Hand-written wrapper over the generated bindings (GuardianFFI.swift): buffers accelerometer
// and gyroscope samples and hands both sensors to the detector in one `pushPacked` call.
// Mirrors the Kotlin `class SampleBatch` (android/guardian/src/main/kotlin/dev/guardian/);
// scripts/api_mirror.py checks the two agree.

import Foundation
#if canImport(CoreMotion) && (os(iOS) || os(watchOS))
import CoreMotion
#endif

/// A reusable batch of accelerometer and gyroscope samples, pushed to a `FallDetector` in ONE
/// call through the packed path (`FallDetector.pushPacked(batch:)`).
///
/// Add the samples of one CoreMotion batch, then `push(to:)`. The samples are kept already
/// packed, so `pack()` only prepends the header:
///
/// ```
/// u32 acc_count, u32 gyro_count, acc_count records, gyro_count records;
/// record = i64 t_ns, f32 x, f32 y, f32 z  (20 bytes, little-endian, no padding)
/// ```
///
/// Total `8 + 20 * (accCount + gyroCount)` bytes, the same as the facade's
/// `packedBatchSize(accCount:gyroCount:)`.
///
/// Timestamps are nanoseconds on one monotonic clock: on iOS
/// `secondsToNs(seconds: CMLogItem.timestamp)` for both sensors. Values go in as the sensor
/// reports them, in the units the detector was created with (`DetectorOptions.units`): for
/// CoreMotion samples create the detector with `units: .coreMotion` and the facade converts
/// g and CoreMotion's sign to the engine's convention. Nothing in Swift scales by g.
///
/// Not thread-safe: fill and push it from one serial queue (for example the
/// `OperationQueue` CoreMotion delivers on).
public final class SampleBatch {
    /// Bytes of the packed header (two u32 counts).
    public static let headerBytes: Int = 8
    /// Bytes of one packed record (i64 t_ns, three f32).
    public static let recordBytes: Int = 20

    /// Size of a packed batch; the same as the generated `packedBatchSize(accCount:gyroCount:)`.
    public static func packedSize(accCount: Int, gyroCount: Int) -> Int {
        headerBytes + recordBytes * (accCount + gyroCount)
    }

    private var accelerometer: [UInt8] = []
    private var gyroscope: [UInt8] = []

    /// - Parameter initialCapacity: samples per sensor to reserve room for (grows as needed).
    public init(initialCapacity: Int = 128) {
        let records = max(initialCapacity, 1)
        accelerometer.reserveCapacity(records * Self.recordBytes)
        gyroscope.reserveCapacity(records * Self.recordBytes)
    }

    /// Accelerometer samples added since the last push or `clear()`.
    public var accelerometerCount: Int { accelerometer.count / Self.recordBytes }
    /// Gyroscope samples added since the last push or `clear()`.
    public var gyroscopeCount: Int { gyroscope.count / Self.recordBytes }
    /// Samples of both sensors added since the last push or `clear()` (Kotlin: `size`).
    public var count: Int { accelerometerCount + gyroscopeCount }
    /// Whether no sample was added since the last push or `clear()`.
    public var isEmpty: Bool { accelerometer.isEmpty && gyroscope.isEmpty }

    /// Adds one accelerometer sample (g as CoreMotion reports it for `.coreMotion` units).
    @discardableResult
    public func addAccelerometer(tNs: Int64, x: Float, y: Float, z: Float) -> SampleBatch {
        Self.append(to: &accelerometer, tNs: tNs, x: x, y: y, z: z)
        return self
    }

    /// Adds one gyroscope sample (rad/s).
    @discardableResult
    public func addGyroscope(tNs: Int64, x: Float, y: Float, z: Float) -> SampleBatch {
        Self.append(to: &gyroscope, tNs: tNs, x: x, y: y, z: z)
        return self
    }

    /// Adds one sample of `sensor` (for adapters that switch on the sensor type).
    @discardableResult
    public func add(sensor: SensorKind, tNs: Int64, x: Float, y: Float, z: Float) -> SampleBatch {
        switch sensor {
        case .accelerometer:
            return addAccelerometer(tNs: tNs, x: x, y: y, z: z)
        case .gyroscope:
            return addGyroscope(tNs: tNs, x: x, y: y, z: z)
        }
    }

    /// Forgets the samples added so far (keeps the reserved memory).
    public func clear() {
        accelerometer.removeAll(keepingCapacity: true)
        gyroscope.removeAll(keepingCapacity: true)
    }

    /// Pushes every sample added so far to `detector` in one `pushPacked` call, then clears the
    /// batch, also when the push throws (a batch the detector rejected is not retried: a bad
    /// sample would otherwise fail every later push). An empty batch is not sent.
    ///
    /// - Throws: `GuardianError.InvalidBatch` (a non-finite value or a timestamp the detector
    ///   cannot take; nothing of the batch was consumed), `GuardianError.NotRunning` (the
    ///   detector is not started).
    public func push(to detector: FallDetector) throws {
        if isEmpty { return }
        defer { clear() }
        try detector.pushPacked(batch: pack())
    }

    /// The samples added so far in the packed layout, without clearing.
    public func pack() -> Data {
        let accCount = UInt32(accelerometerCount)
        let gyroCount = UInt32(gyroscopeCount)
        var data = Data(capacity: Self.headerBytes + accelerometer.count + gyroscope.count)
        withUnsafeBytes(of: accCount.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: gyroCount.littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: accelerometer)
        data.append(contentsOf: gyroscope)
        assert(UInt64(data.count) == packedBatchSize(accCount: accCount, gyroCount: gyroCount), "packed layout differs from the facade's")
        return data
    }

    private static func append(to bytes: inout [UInt8], tNs: Int64, x: Float, y: Float, z: Float) {
        withUnsafeBytes(of: tNs.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: y.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: z.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

#if canImport(CoreMotion) && (os(iOS) || os(watchOS))
extension SampleBatch {
    // api-mirror: ios-only (CoreMotion types; the Kotlin wrapper is pure JVM)
    /// Adds a CoreMotion accelerometer sample as CoreMotion reports it (g, gravity included,
    /// CoreMotion's sign); the detector must be created with `units: .coreMotion`. The
    /// timestamp (seconds since boot) goes through the facade's `secondsToNs(seconds:)`.
    ///
    /// - Throws: `GuardianError.InvalidBatch` if the timestamp cannot be converted.
    @discardableResult
    public func addAccelerometer(_ data: CMAccelerometerData) throws -> SampleBatch {
        let tNs = try secondsToNs(seconds: data.timestamp)
        let a = data.acceleration
        return addAccelerometer(tNs: tNs, x: Float(a.x), y: Float(a.y), z: Float(a.z))
    }

    // api-mirror: ios-only (CoreMotion types; the Kotlin wrapper is pure JVM)
    /// Adds a CoreMotion gyroscope sample (rad/s); timestamp as for the accelerometer.
    ///
    /// - Throws: `GuardianError.InvalidBatch` if the timestamp cannot be converted.
    @discardableResult
    public func addGyroscope(_ data: CMGyroData) throws -> SampleBatch {
        let tNs = try secondsToNs(seconds: data.timestamp)
        let r = data.rotationRate
        return addGyroscope(tNs: tNs, x: Float(r.x), y: Float(r.y), z: Float(r.z))
    }
}
#endif
