package dev.guardian

import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.GuardianException
import dev.guardian.ffi.SensorKind
import java.lang.ref.WeakReference
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * A reusable batch of accelerometer and gyroscope samples, pushed to a [FallDetector] in ONE
 * call through the zero-copy packed path: the JNI fast path [NativePush] where available,
 * else the UniFFI [FallDetector.pushPacked] (see [pushTo]).
 *
 * This is the fast path for a sensor adapter: add the samples of one hardware batch (Android
 * delivers them together when `maxReportLatencyUs` is set), then [pushTo]. Samples live in
 * primitive arrays (no boxing) that grow as needed and are kept between batches; [pushTo]
 * packs both sensors into one reused direct little-endian [ByteBuffer]:
 *
 * ```
 * u32 acc_count, u32 gyro_count, acc_count records, gyro_count records;
 * record = i64 t_ns, f32 x, f32 y, f32 z  (20 bytes, little-endian, no padding)
 * ```
 *
 * and passes it with position 0 (the generated code passes the buffer's address and
 * `remaining()`), so nothing is copied on the way into Rust. In steady state, adding and
 * pushing allocate nothing on the Kotlin side.
 *
 * Timestamps are nanoseconds on one monotonic clock (Android `SensorEvent.timestamp`);
 * values in the units the detector was opened with (`DetectorOptions.units`).
 *
 * Not thread-safe: fill and push from one thread (for example the sensor callback thread).
 */
class SampleBatch(initialCapacity: Int = 128) {
    private var accT = LongArray(initialCapacity.coerceAtLeast(1))
    private var accX = FloatArray(accT.size)
    private var accY = FloatArray(accT.size)
    private var accZ = FloatArray(accT.size)
    private var gyroT = LongArray(initialCapacity.coerceAtLeast(1))
    private var gyroX = FloatArray(gyroT.size)
    private var gyroY = FloatArray(gyroT.size)
    private var gyroZ = FloatArray(gyroT.size)
    private var buffer: ByteBuffer = allocate(2 * accT.size)

    /** The detector the batch last pushed to (not kept alive) and its fast-path id (0: use UniFFI). */
    private var fastPathFor: WeakReference<FallDetector>? = null
    private var fastPathId: Long = 0L

    /** Accelerometer samples added since the last push or [clear]. */
    var accelerometerCount: Int = 0
        private set

    /** Gyroscope samples added since the last push or [clear]. */
    var gyroscopeCount: Int = 0
        private set

    /** Samples of both sensors added since the last push or [clear]. */
    val size: Int get() = accelerometerCount + gyroscopeCount

    fun isEmpty(): Boolean = size == 0

    /** Adds one accelerometer sample (m/s^2 with gravity for `InputUnits.ANDROID`). */
    fun addAccelerometer(tNs: Long, x: Float, y: Float, z: Float): SampleBatch {
        val i = accelerometerCount
        if (i == accT.size) growAcc()
        accT[i] = tNs
        accX[i] = x
        accY[i] = y
        accZ[i] = z
        accelerometerCount = i + 1
        return this
    }

    /** Adds one gyroscope sample (rad/s). */
    fun addGyroscope(tNs: Long, x: Float, y: Float, z: Float): SampleBatch {
        val i = gyroscopeCount
        if (i == gyroT.size) growGyro()
        gyroT[i] = tNs
        gyroX[i] = x
        gyroY[i] = y
        gyroZ[i] = z
        gyroscopeCount = i + 1
        return this
    }

    /** Adds one sample of [sensor] (for adapters that switch on the sensor type). */
    fun add(sensor: SensorKind, tNs: Long, x: Float, y: Float, z: Float): SampleBatch =
        when (sensor) {
            SensorKind.ACCELEROMETER -> addAccelerometer(tNs, x, y, z)
            SensorKind.GYROSCOPE -> addGyroscope(tNs, x, y, z)
        }

    /** Forgets the samples added so far (keeps the arrays and the buffer). */
    fun clear() {
        accelerometerCount = 0
        gyroscopeCount = 0
    }

    /**
     * Pushes every sample added so far to [detector] in one call, then clears the batch, also
     * when the push throws (a batch the detector rejected is not retried: a bad sample would
     * otherwise fail every later push). An empty batch is not sent.
     *
     * The call is the JNI fast path ([NativePush], one plain JNI call, the detector's
     * `fastPathId()` cached by the batch) where it is available, else the UniFFI
     * [FallDetector.pushPacked]; both take the same packed buffer without copying it, and give
     * the same results and errors.
     *
     * @throws dev.guardian.ffi.GuardianException.InvalidBatch a non-finite value or a
     *   timestamp the detector cannot take; nothing of the batch was consumed.
     * @throws dev.guardian.ffi.GuardianException.NotRunning the detector is not started.
     * @throws IllegalStateException the detector was closed.
     */
    fun pushTo(detector: FallDetector) {
        if (isEmpty()) return
        try {
            val packed = pack()
            val id = fastPathId(detector)
            if (id == 0L) {
                detector.pushPacked(packed)
            } else {
                try {
                    NativePush.pushPacked(id, packed, packed.limit())
                } catch (e: GuardianException.NotRunning) {
                    // Stopped, or closed (its id no longer resolves): a closed detector throws
                    // the generated code's IllegalStateException here, as the UniFFI path does.
                    detector.fastPathId()
                    throw e
                }
            }
        } finally {
            clear()
        }
    }

    private fun fastPathId(detector: FallDetector): Long {
        if (fastPathFor?.get() === detector) return fastPathId
        // Throws the generated code's IllegalStateException if the detector is closed.
        val id = if (NativePush.isAvailable) detector.fastPathId() else 0L
        fastPathFor = WeakReference(detector)
        fastPathId = id
        return id
    }

    /**
     * Packs the samples into the reused direct buffer (position 0, limit = packed size) and
     * returns it, without clearing. The buffer is overwritten by the next [pack] or [pushTo].
     */
    fun pack(): ByteBuffer {
        val na = accelerometerCount
        val ng = gyroscopeCount
        val bytes = packedSize(na, ng)
        if (buffer.capacity() < bytes) buffer = allocate(na + ng)
        val b = buffer
        b.clear()
        b.putInt(0, na)
        b.putInt(4, ng)
        var o = HEADER_BYTES
        for (i in 0 until na) {
            b.putLong(o, accT[i])
            b.putFloat(o + 8, accX[i])
            b.putFloat(o + 12, accY[i])
            b.putFloat(o + 16, accZ[i])
            o += RECORD_BYTES
        }
        for (i in 0 until ng) {
            b.putLong(o, gyroT[i])
            b.putFloat(o + 8, gyroX[i])
            b.putFloat(o + 12, gyroY[i])
            b.putFloat(o + 16, gyroZ[i])
            o += RECORD_BYTES
        }
        b.position(0)
        b.limit(bytes)
        return b
    }

    private fun growAcc() {
        val n = accT.size * 2
        accT = accT.copyOf(n)
        accX = accX.copyOf(n)
        accY = accY.copyOf(n)
        accZ = accZ.copyOf(n)
    }

    private fun growGyro() {
        val n = gyroT.size * 2
        gyroT = gyroT.copyOf(n)
        gyroX = gyroX.copyOf(n)
        gyroY = gyroY.copyOf(n)
        gyroZ = gyroZ.copyOf(n)
    }

    companion object {
        /** Bytes of the packed header (two u32 counts). */
        const val HEADER_BYTES: Int = 8

        /** Bytes of one packed record (i64 t_ns, three f32). */
        const val RECORD_BYTES: Int = 20

        /** Size of a packed batch; the same as the generated `packedBatchSize`. */
        fun packedSize(accCount: Int, gyroCount: Int): Int = HEADER_BYTES + RECORD_BYTES * (accCount + gyroCount)

        private fun allocate(records: Int): ByteBuffer =
            ByteBuffer.allocateDirect(packedSize(records.coerceAtLeast(1) * 2, 0)).order(ByteOrder.LITTLE_ENDIAN)
    }
}
