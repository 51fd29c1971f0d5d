package dev.guardian.android

import android.hardware.Sensor
import android.hardware.SensorEvent
import android.hardware.SensorEventListener
import android.hardware.SensorManager
import android.os.Handler
import android.os.HandlerThread
import android.os.Looper
import android.os.Process
import android.os.SystemClock
import dev.guardian.SampleBatch
import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.FallDetector
import dev.guardian.ffi.InputUnits
import dev.guardian.ffi.SensorMode
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/**
 * Streams the accelerometer and, when the device has one, the gyroscope from [SensorManager]
 * into a [FallDetector], one packed batch per sensor delivery.
 *
 * ```kotlin
 * val sensors = context.getSystemService(SensorManager::class.java)
 * val detector = FallDetector(GuardianSensorSource.detectorOptions(DetectorOptions(journalDir = dir), sensors))
 * detector.start(listener)                      // or detector.events()
 * val source = GuardianSensorSource(sensors, detector)
 * source.start()
 * ...
 * source.stop()                                 // unregisters, then pushes what is buffered
 * ```
 *
 * **Rate.** Both sensors are requested at [rateHz] (default 100 Hz, a sampling period of
 * 10,000 us). Android treats the period as a hint and delivers somewhat faster or slower, with
 * jitter; the detector resamples to its 50 Hz frames, so only the timestamps matter. Rates above
 * 200 Hz need `HIGH_SAMPLING_RATE_SENSORS` (Android 12+; the library's manifest declares it).
 *
 * **Hardware batching** ([maxReportLatencyUs], default 1 s). The sensor hub keeps up to that
 * long of samples in its FIFO and hands them over in one burst, instead of interrupting the
 * application processor for every sample (100-200 wake-ups a second per sensor become about
 * one). That is what lets the CPU stay in low-power idle between bursts: most of the battery
 * cost of continuous sensing at 100 Hz is the per-sample wake-up, not the detector. The price
 * is latency: a fall is confirmed about 2.5-3 s after the impact (the post-impact check), and
 * its samples reach the detector at most [maxReportLatencyUs] later, so an alert still arrives
 * within about 4 s of the impact. Devices without a FIFO ignore the latency and deliver every
 * sample at once; the source then still pushes at most every [MIN_PUSH_SPAN_NS] of samples.
 *
 * **Threads.** Events are handled on the source's own [HandlerThread] (`guardian-sensors`, not
 * the main thread), or on [looper] when one is given. Samples go into one [SampleBatch]
 * (primitive arrays, one reused direct buffer: no allocation per sample); at the end of each
 * delivery (the burst the sensor service hands over in one looper turn) the batch is pushed in
 * one `pushPacked` call, on that thread. The detector never calls back on this thread (its
 * events arrive on its own delivery thread).
 *
 * **Clock.** `SensorEvent.timestamp` (ns, the `SystemClock.elapsedRealtimeNanos()` clock) for
 * both sensors, unchanged; [nowNs] reads the same clock for [FallDetector.tick].
 *
 * **Units.** `TYPE_ACCELEROMETER` is m/s^2 with gravity, in Android's sign: the detector must
 * use `InputUnits.ANDROID` ([detectorOptions] sets it). `TYPE_GYROSCOPE` is rad/s.
 *
 * **No gyroscope.** Only the accelerometer is registered; [detectorOptions] gives
 * `SensorMode.ACC_ONLY`, the accelerometer-only model. **A gyroscope that stops** delivering
 * (a driver fault, a sensor hub that drops it under load) needs nothing here: with the
 * default `SensorMode.AUTO` the facade switches to the accelerometer-only model after 5.12 s
 * of gyroscope silence (`SensorStalled`, `ModelChanged`) and back when gyroscope samples
 * arrive again.
 *
 * **Screen off.** Sensors keep delivering to an app with a foreground service (the app is not
 * idle); whether the application processor stays awake is [GuardianMonitorService]'s concern.
 *
 * Thread-safe: [start], [stop] and [tick] may be called from any thread.
 *
 * @param sensorManager the system's sensor manager.
 * @param detector a started detector, opened with [detectorOptions] (`InputUnits.ANDROID`).
 * @param rateHz sampling rate requested for both sensors, Hz (default 100).
 * @param maxReportLatencyUs hardware batching latency, us (default 1 s; 0 disables batching).
 * @param looper where events are handled; null (the default) starts a `HandlerThread`.
 * @param onAccelerometer called on the sensor thread with every accelerometer sample after it was
 *   buffered (for a live plot: decimate, then hop to the main thread yourself).
 * @param onError called on the sensor thread when the detector rejects a batch; the source keeps
 *   running (the rejected batch is dropped, see [SampleBatch.pushTo]).
 */
class GuardianSensorSource
    @JvmOverloads
    constructor(
        private val sensorManager: SensorManager,
        val detector: FallDetector,
        val rateHz: Int = DEFAULT_RATE_HZ,
        val maxReportLatencyUs: Int = DEFAULT_MAX_REPORT_LATENCY_US,
        private val looper: Looper? = null,
        private val onAccelerometer: ((tNs: Long, x: Float, y: Float, z: Float) -> Unit)? = null,
        private val onError: ((Throwable) -> Unit)? = null,
    ) {
        /** The device has no accelerometer: fall detection cannot run on it. */
        class SensorUnavailableException(message: String) : IllegalStateException(message)

        init {
            require(rateHz in 1..MAX_RATE_HZ) { "rateHz must be in 1..$MAX_RATE_HZ, not $rateHz" }
            require(maxReportLatencyUs >= 0) { "maxReportLatencyUs must be >= 0, not $maxReportLatencyUs" }
        }

        /** The accelerometer (`TYPE_ACCELEROMETER`), or null on a device without one. */
        val accelerometer: Sensor? = sensorManager.getDefaultSensor(Sensor.TYPE_ACCELEROMETER)

        /** The gyroscope (`TYPE_GYROSCOPE`), or null: then only the accelerometer is streamed. */
        val gyroscope: Sensor? = sensorManager.getDefaultSensor(Sensor.TYPE_GYROSCOPE)

        /** Whether the gyroscope is streamed. */
        val usesGyroscope: Boolean get() = gyroscope != null

        /** Sampling period requested from the sensor service, us. */
        val samplingPeriodUs: Int = 1_000_000 / rateHz

        private val lock = Any()
        private var thread: HandlerThread? = null
        private var handler: Handler? = null
        private var running = false

        // Confined to the sensor thread.
        private val batch = SampleBatch((rateHz * 3 / 2).coerceAtLeast(16))
        private var batchStartNs = Long.MIN_VALUE
        private var endOfDeliveryPosted = false
        private var staleFlushPosted = false

        /** Batches pushed so far (each one `pushPacked` call). */
        @Volatile var pushes: Long = 0
            private set

        /** Samples handed to the detector so far (both sensors). */
        @Volatile var samplesPushed: Long = 0
            private set

        val isRunning: Boolean get() = synchronized(lock) { running }

        private val listener =
            object : SensorEventListener {
                override fun onSensorChanged(event: SensorEvent) = receive(event)

                override fun onAccuracyChanged(
                    sensor: Sensor,
                    accuracy: Int,
                ) = Unit
            }

        /** Runs after the sensor service's current delivery: all samples of one burst are in. */
        private val endOfDelivery =
            Runnable {
                endOfDeliveryPosted = false
                if (batch.isEmpty()) return@Runnable
                if (batch.size >= maxBatchSamples || lastTNs - batchStartNs >= MIN_PUSH_SPAN_NS) {
                    push()
                } else if (!staleFlushPosted) {
                    // One sample per delivery (no FIFO): keep collecting, but never hold samples
                    // longer than STALE_FLUSH_MS when the sensors go quiet.
                    staleFlushPosted = true
                    handler?.postDelayed(staleFlush, STALE_FLUSH_MS)
                }
            }

        private val staleFlush =
            Runnable {
                staleFlushPosted = false
                push()
            }

        private var lastTNs = Long.MIN_VALUE

        /** A push happens at the latest when this many samples (both sensors) are buffered. */
        val maxBatchSamples: Int =
            run {
                val perSecond = rateHz.toLong()
                val latencyS = (maxReportLatencyUs.toLong().coerceAtLeast(1_000_000L)) / 1_000_000.0
                // Both sensors, the whole latency, and room for delivery faster than requested.
                (2 * perSecond * latencyS * 1.5).toInt().coerceAtLeast(64)
            }

        /**
         * Registers the listeners at [rateHz] with [maxReportLatencyUs]. Does nothing if already
         * running.
         *
         * @throws SensorUnavailableException the device has no accelerometer, or the sensor
         *   service refused to register it.
         */
        fun start() {
            synchronized(lock) {
                if (running) return
                val acc =
                    accelerometer
                        ?: throw SensorUnavailableException(
                            "This device has no accelerometer (Sensor.TYPE_ACCELEROMETER): fall detection cannot run on it.",
                        )
                val h =
                    if (looper != null) {
                        Handler(looper)
                    } else {
                        val t = HandlerThread(THREAD_NAME, Process.THREAD_PRIORITY_MORE_FAVORABLE)
                        t.start()
                        thread = t
                        Handler(t.looper)
                    }
                handler = h
                if (!sensorManager.registerListener(listener, acc, samplingPeriodUs, maxReportLatencyUs, h)) {
                    quit()
                    throw SensorUnavailableException("The sensor service refused to register the accelerometer ($acc).")
                }
                gyroscope?.let { sensorManager.registerListener(listener, it, samplingPeriodUs, maxReportLatencyUs, h) }
                running = true
            }
        }

        /**
         * Unregisters the listeners, then pushes what is buffered (flush) and returns. Does nothing
         * if not running. Does not stop the detector. May be called on the sensor thread.
         */
        fun stop() {
            val h: Handler
            synchronized(lock) {
                if (!running) return
                running = false
                sensorManager.unregisterListener(listener)
                h = handler ?: return
            }
            // Events the sensor service queued before the unregistration are handled first
            // (the looper is FIFO), then the flush pushes the rest.
            runOnSensorThread(h) {
                h.removeCallbacks(endOfDelivery)
                h.removeCallbacks(staleFlush)
                endOfDeliveryPosted = false
                staleFlushPosted = false
                push()
            }
            synchronized(lock) {
                if (!running) quit()
            }
        }

        /**
         * Pushes what is buffered, then advances the detector's alert timers to now
         * ([FallDetector.tick] with [nowNs]), so an alert escalates on time when no sample
         * arrives (the sensors stopped, or the FIFO holds the next burst). Call it about once a
         * second while an alert is open. Runs on the sensor thread; errors go to `onError`.
         */
        fun tick() {
            val h = synchronized(lock) { handler?.takeIf { running } } ?: return
            h.post {
                push()
                try {
                    detector.tick(nowNs())
                } catch (e: Exception) {
                    onError?.invoke(e)
                }
            }
        }

        private fun quit() {
            thread?.quitSafely()
            thread = null
            handler = null
        }

        private fun runOnSensorThread(
            h: Handler,
            block: () -> Unit,
        ) {
            if (Looper.myLooper() == h.looper) {
                block()
                return
            }
            val done = CountDownLatch(1)
            val posted =
                h.post {
                    try {
                        block()
                    } finally {
                        done.countDown()
                    }
                }
            if (posted) done.await(STOP_TIMEOUT_S, TimeUnit.SECONDS)
        }

        // --- On the sensor thread ---

        private fun receive(event: SensorEvent) {
            val v = event.values
            val t = event.timestamp
            when (event.sensor.type) {
                Sensor.TYPE_ACCELEROMETER -> {
                    batch.addAccelerometer(t, v[0], v[1], v[2])
                    onAccelerometer?.invoke(t, v[0], v[1], v[2])
                }
                Sensor.TYPE_GYROSCOPE -> batch.addGyroscope(t, v[0], v[1], v[2])
                else -> return
            }
            if (batchStartNs == Long.MIN_VALUE) batchStartNs = t
            if (t > lastTNs) lastTNs = t
            if (batch.size >= maxBatchSamples) {
                push()
            } else if (!endOfDeliveryPosted) {
                // Posted behind the sensor service's dispatch: it runs once this burst is in.
                endOfDeliveryPosted = true
                handler?.post(endOfDelivery)
            }
        }

        /** Pushes the buffered samples in one call (the batch is cleared, also on failure). */
        private fun push() {
            batchStartNs = Long.MIN_VALUE
            lastTNs = Long.MIN_VALUE
            if (staleFlushPosted) {
                handler?.removeCallbacks(staleFlush)
                staleFlushPosted = false
            }
            if (batch.isEmpty()) return
            val n = batch.size
            try {
                batch.pushTo(detector)
                pushes++
                samplesPushed += n
            } catch (e: Exception) {
                onError?.invoke(e)
            }
        }

        companion object {
            /** Default sampling rate of both sensors, Hz. */
            const val DEFAULT_RATE_HZ: Int = 100

            /** Default hardware batching latency: 1 s. */
            const val DEFAULT_MAX_REPORT_LATENCY_US: Int = 1_000_000

            /** Highest rate accepted (Android needs `HIGH_SAMPLING_RATE_SENSORS` above 200 Hz). */
            const val MAX_RATE_HZ: Int = 500

            /** Without a FIFO (one sample per delivery) samples are pushed at most this often. */
            const val MIN_PUSH_SPAN_NS: Long = 200_000_000L

            /** Samples never wait longer than this for a push when the sensors go quiet. */
            const val STALE_FLUSH_MS: Long = 1_000L

            /** The sensor thread's name. */
            const val THREAD_NAME: String = "guardian-sensors"

            private const val STOP_TIMEOUT_S = 5L

            /** Now, on the clock of `SensorEvent.timestamp` (for [FallDetector.tick]). */
            @JvmStatic
            fun nowNs(): Long = SystemClock.elapsedRealtimeNanos()

            /**
             * The options for a detector fed by this source: [base] with `units = ANDROID` and,
             * when the device has no gyroscope, `sensors = ACC_ONLY` (the accelerometer-only
             * model). With a gyroscope the mode stays as given (default `AUTO`, which also covers
             * a gyroscope that stops).
             */
            @JvmStatic
            fun detectorOptions(
                base: DetectorOptions,
                sensorManager: SensorManager,
            ): DetectorOptions {
                val hasGyro = sensorManager.getDefaultSensor(Sensor.TYPE_GYROSCOPE) != null
                return base.copy(
                    units = InputUnits.ANDROID,
                    sensors = if (hasGyro) base.sensors else SensorMode.ACC_ONLY,
                )
            }
        }
    }
