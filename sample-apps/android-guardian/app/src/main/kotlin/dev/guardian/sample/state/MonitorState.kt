// The sample app's state logic, free of Android and Compose: what the screens show as a function
// of the detector's events and the clock. Unit-tested on the JVM in android/robolectric
// (MonitorStateTest), the mirror of the iOS sample's MonitorState.swift.
package dev.guardian.sample.state

import dev.guardian.ffi.AlertOutcome
import dev.guardian.ffi.AlertRecord
import dev.guardian.ffi.GuardianEvent
import dev.guardian.ffi.ModelKind
import dev.guardian.ffi.SensorKind

/** The alert the full-screen alert activity shows. */
data class ActiveAlert(
    val alertId: String,
    /** When the detector raised it, ns (sensor clock = `SystemClock.elapsedRealtimeNanos()`). */
    val confirmedTNs: Long,
    /** When it escalates if nobody answers, ns (sensor clock). */
    val deadlineNs: Long,
    /** Delivered again after a restart: the service gives it a fresh window from when it arrived. */
    val replay: Boolean,
    val score: Float,
    val peakG: Float,
)

/** What the UI must do after an event. */
sealed interface MonitorEffect {
    /** Bring the alert screen up (the service's full-screen intent does it too when the app is not in front). */
    data class OpenAlertScreen(val alertId: String) : MonitorEffect

    /** The alert was answered or escalated: close the alert screen, show [message]. */
    data class CloseAlertScreen(val alertId: String, val message: String) : MonitorEffect
}

/** What the main screen shows. */
class MonitorState(
    private val cancelWindowNs: Long = 30_000_000_000L,
) {
    sealed interface Monitoring {
        object Stopped : Monitoring

        object Running : Monitoring

        data class Failed(val message: String) : Monitoring
    }

    var monitoring: Monitoring = Monitoring.Stopped
    var model: ModelKind? = null
        private set
    var alert: ActiveAlert? = null
        private set

    /** Newest first: sensor and problem notes, at most [MAX_NOTES]. */
    val notes: List<String> get() = _notes
    private val _notes = ArrayList<String>()

    /** Applies one detector event; returns what the UI must do. */
    fun apply(
        event: GuardianEvent,
        nowNs: Long,
    ): List<MonitorEffect> =
        when (event) {
            is GuardianEvent.Fall -> {
                val a = event.alert
                val deadline = if (a.replay) nowNs + cancelWindowNs else a.confirmedTNs + cancelWindowNs
                alert = ActiveAlert(a.alertId, a.confirmedTNs, deadline, a.replay, a.score, a.peakG)
                listOf(MonitorEffect.OpenAlertScreen(a.alertId))
            }
            is GuardianEvent.AlertCancelled -> close(event.alertId, "Alert cancelled: you are OK.")
            is GuardianEvent.AlertEscalated ->
                close(event.alertId, if (event.byUser) "Help requested." else "Nobody answered: help requested.")
            is GuardianEvent.SensorStalled -> {
                note(
                    if (event.sensor == SensorKind.GYROSCOPE) {
                        "Gyroscope silent: the accelerometer-only model takes over."
                    } else {
                        "Accelerometer silent: falls cannot be detected until it resumes."
                    },
                )
                emptyList()
            }
            is GuardianEvent.SensorResumed -> {
                note("${if (event.sensor == SensorKind.GYROSCOPE) "Gyroscope" else "Accelerometer"} delivers again.")
                emptyList()
            }
            is GuardianEvent.ModelChanged -> {
                model = event.model
                emptyList()
            }
            is GuardianEvent.Problem -> {
                note("${event.kind}: ${event.message}")
                emptyList()
            }
        }

    /** Whole seconds left to answer the alert, never negative; null without an alert. */
    fun secondsLeft(nowNs: Long): Int? {
        val a = alert ?: return null
        val left = a.deadlineNs - nowNs
        return if (left <= 0) 0 else ((left + 999_999_999L) / 1_000_000_000L).toInt()
    }

    /** The countdown ran out: the screen says help is being called (the service escalates). */
    fun expired(nowNs: Long): Boolean = alert?.let { nowNs >= it.deadlineNs } ?: false

    private fun close(
        alertId: String,
        message: String,
    ): List<MonitorEffect> {
        if (alert?.alertId == alertId) alert = null
        return listOf(MonitorEffect.CloseAlertScreen(alertId, message))
    }

    private fun note(text: String) {
        _notes.add(0, text)
        while (_notes.size > MAX_NOTES) _notes.removeAt(_notes.size - 1)
    }

    companion object {
        const val MAX_NOTES: Int = 5
    }
}

/** The last [capacity] points of |a| (g) for the live plot. */
class PlotBuffer(val capacity: Int = 200) {
    init {
        require(capacity > 0)
    }

    private val values = FloatArray(capacity)
    private var start = 0

    var size: Int = 0
        private set

    /** Appends |a| of one accelerometer sample given in m/s^2 (Android units), stored in g. */
    fun append(
        x: Float,
        y: Float,
        z: Float,
    ) {
        val g = (kotlin.math.sqrt((x * x + y * y + z * z).toDouble()) / STANDARD_GRAVITY).toFloat()
        if (size < capacity) {
            values[(start + size) % capacity] = g
            size++
        } else {
            values[start] = g
            start = (start + 1) % capacity
        }
    }

    /** Oldest first. */
    fun points(): FloatArray = FloatArray(size) { values[(start + it) % capacity] }

    companion object {
        const val STANDARD_GRAVITY: Double = 9.80665
    }
}

/** Lets one sample in [every] through (the plot needs 20 points a second, not 100). Confined to one thread. */
class Decimator(val every: Int) {
    init {
        require(every > 0)
    }

    private var count = 0

    fun take(): Boolean {
        count++
        if (count < every) return false
        count = 0
        return true
    }
}

/** One row of the alert history screen. */
data class HistoryRow(val alertId: String, val title: String, val detail: String)

/** The journal's alerts ([dev.guardian.ffi.FallDetector.alertHistory], oldest first) as rows, newest first. */
fun historyRows(records: List<AlertRecord>): List<HistoryRow> =
    records.asReversed().map { r ->
        val outcome =
            when (r.outcome) {
                AlertOutcome.CANCELLED -> "I'm OK"
                AlertOutcome.ESCALATED_BY_TIMEOUT -> "Nobody answered: help requested"
                AlertOutcome.ESCALATED_BY_USER -> "I need help"
                null -> "Open"
            }
        HistoryRow(
            r.alert.alertId,
            "Fall (${r.alert.model.name.lowercase().replace('_', '-')} model): $outcome",
            "score %.2f, peak %.1f g%s%s".format(
                r.alert.score,
                r.alert.peakG,
                if (r.alert.replay) ", delivered again after a restart" else "",
                if (r.acknowledged) "" else ", not yet handled",
            ),
        )
    }
