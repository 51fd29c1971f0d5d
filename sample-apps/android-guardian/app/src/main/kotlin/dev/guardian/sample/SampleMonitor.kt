package dev.guardian.sample

import android.app.Application
import android.content.Intent
import android.os.SystemClock
import dev.guardian.android.GuardianMonitorService
import dev.guardian.android.MissingPermissionException
import dev.guardian.android.MonitorStatus
import dev.guardian.sample.state.ActiveAlert
import dev.guardian.sample.state.Decimator
import dev.guardian.sample.state.HistoryRow
import dev.guardian.sample.state.MonitorEffect
import dev.guardian.sample.state.MonitorState
import dev.guardian.sample.state.PlotBuffer
import dev.guardian.sample.state.historyRows
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch

/** What the screens show (immutable snapshots for Compose). */
data class UiState(
    val status: MonitorStatus = MonitorStatus.Stopped,
    val model: String? = null,
    val notes: List<String> = emptyList(),
    val alert: ActiveAlert? = null,
    val secondsLeft: Int? = null,
    val lastMessage: String? = null,
    val plot: FloatArray = FloatArray(0),
    val history: List<HistoryRow> = emptyList(),
)

/**
 * Owns the app-side state: follows the service's status and events through [MonitorState]
 * (plain Kotlin, unit-tested), keeps the plot buffer, and publishes [ui] on the main thread.
 */
class SampleMonitor(
    private val app: Application,
    cancelWindowNs: Long,
) {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main.immediate)
    private val state = MonitorState(cancelWindowNs)
    private val plot = PlotBuffer(capacity = 200) // 10 s at 20 points a second
    private val decimator = Decimator(every = 5) // 100 Hz -> 20 Hz
    private val _ui = MutableStateFlow(UiState())
    val ui: StateFlow<UiState> = _ui

    init {
        scope.launch { GuardianMonitorService.status.collect { publish(status = it) } }
        scope.launch {
            GuardianMonitorService.events.collect { event ->
                for (fx in state.apply(event, SystemClock.elapsedRealtimeNanos())) {
                    when (fx) {
                        is MonitorEffect.OpenAlertScreen -> Unit // the service's full-screen intent opens AlertActivity
                        is MonitorEffect.CloseAlertScreen -> publish(message = fx.message)
                    }
                }
                refreshHistory()
                publish()
            }
        }
        // The plot and the countdown: 5 frames a second.
        scope.launch {
            while (true) {
                delay(200)
                publish()
            }
        }
    }

    /** On the sensor thread: decimate, then buffer |a|. */
    fun onAccelerometer(
        x: Float,
        y: Float,
        z: Float,
    ) {
        if (!decimator.take()) return
        synchronized(plot) { plot.append(x, y, z) }
    }

    /** Starts monitoring; returns an error message for the screen, or null. */
    fun start(): String? =
        try {
            GuardianMonitorService.start(app)
            null
        } catch (e: MissingPermissionException) {
            e.message
        }

    fun stop() = GuardianMonitorService.stop(app)

    fun refreshHistory() {
        GuardianMonitorService.alertHistory()?.let { publish(history = historyRows(it)) }
    }

    fun openAlertScreen() {
        app.startActivity(Intent(app, AlertActivity::class.java).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK))
    }

    private fun publish(
        status: MonitorStatus = _ui.value.status,
        message: String? = _ui.value.lastMessage,
        history: List<HistoryRow> = _ui.value.history,
    ) {
        val now = SystemClock.elapsedRealtimeNanos()
        _ui.value =
            UiState(
                status = status,
                model = state.model?.name,
                notes = state.notes.toList(),
                alert = state.alert,
                secondsLeft = state.secondsLeft(now),
                lastMessage = message,
                plot = synchronized(plot) { plot.points() },
                history = history,
            )
    }
}
