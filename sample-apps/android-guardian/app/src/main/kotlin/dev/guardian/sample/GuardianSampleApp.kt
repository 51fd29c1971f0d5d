package dev.guardian.sample

import android.app.Application
import android.util.Log
import dev.guardian.android.Escalation
import dev.guardian.android.EscalationHandler
import dev.guardian.android.GuardianMonitorConfig
import dev.guardian.android.GuardianMonitorService
import dev.guardian.android.NotificationEscalation
import dev.guardian.ffi.DetectorOptions
import dev.guardian.ffi.DetectorSettings

/** Configures the monitoring service once per process (also when the system restarts it). */
class GuardianSampleApp : Application() {
    lateinit var monitor: SampleMonitor
        private set

    override fun onCreate() {
        super.onCreate()
        monitor = SampleMonitor(this, CANCEL_WINDOW_MS * 1_000_000L)
        GuardianMonitorService.configure(
            GuardianMonitorConfig(
                detectorOptions = DetectorOptions(settings = DetectorSettings(cancelWindowMs = CANCEL_WINDOW_MS.toUInt())),
                alertActivityClassName = AlertActivity::class.java.name,
                escalationHandlers = listOf(NotificationEscalation(), LogEscalation),
                onAccelerometer = { _, x, y, z -> monitor.onAccelerometer(x, y, z) },
            ),
        )
    }

    /** Where an integrator would call or message a contact. Idempotent per alert id. */
    private object LogEscalation : EscalationHandler {
        override fun escalate(
            context: android.content.Context,
            escalation: Escalation,
        ) {
            Log.w("GuardianSample", "ESCALATE ${escalation.alertId} byUser=${escalation.byUser}: call the contact here")
        }
    }

    companion object {
        const val CANCEL_WINDOW_MS: Long = 30_000L
    }
}
