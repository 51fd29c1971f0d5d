package dev.guardian.sample

import android.os.Bundle
import android.os.SystemClock
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.ButtonDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableLongStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.style.TextAlign
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import dev.guardian.android.GuardianMonitorService
import dev.guardian.android.GuardianNotifications
import kotlinx.coroutines.delay

/**
 * The full-screen alert (the service's full-screen intent, over the lock screen): a 30 s countdown
 * and "I'm OK" / "I need help". When the countdown runs out the detector escalates (the service
 * ticks it every second) and the escalation handlers run; this screen then says help is called.
 */
class AlertActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val monitor = (application as GuardianSampleApp).monitor
        val alertId = intent.getStringExtra(GuardianNotifications.EXTRA_ALERT_ID)
        val deadlineMs =
            intent.getLongExtra(
                GuardianNotifications.EXTRA_DEADLINE_ELAPSED_MS,
                SystemClock.elapsedRealtime() + GuardianSampleApp.CANCEL_WINDOW_MS,
            )
        setContent {
            MaterialTheme {
                Surface(Modifier.fillMaxSize()) {
                    AlertScreen(
                        deadlineElapsedMs = deadlineMs,
                        closedMessage = monitor.ui.collectAsState().value.let { ui -> if (ui.alert == null && alertId != null) ui.lastMessage else null },
                        onOk = {
                            GuardianMonitorService.cancelAlert(this, alertId)
                            finish()
                        },
                        onHelp = { GuardianMonitorService.confirmAlert(this, alertId) },
                        onDone = { finish() },
                    )
                }
            }
        }
    }
}

@Composable
private fun AlertScreen(
    deadlineElapsedMs: Long,
    closedMessage: String?,
    onOk: () -> Unit,
    onHelp: () -> Unit,
    onDone: () -> Unit,
) {
    var now by remember { mutableLongStateOf(SystemClock.elapsedRealtime()) }
    LaunchedEffect(Unit) {
        while (true) {
            now = SystemClock.elapsedRealtime()
            delay(250)
        }
    }
    val left = ((deadlineElapsedMs - now + 999) / 1000).coerceAtLeast(0)
    Column(
        Modifier.fillMaxSize().padding(24.dp),
        verticalArrangement = Arrangement.spacedBy(24.dp, Alignment.CenterVertically),
        horizontalAlignment = Alignment.CenterHorizontally,
    ) {
        Text("A fall was detected", style = MaterialTheme.typography.headlineMedium)
        when {
            closedMessage != null -> {
                Text(closedMessage, textAlign = TextAlign.Center)
                Button(onClick = onDone) { Text("Close") }
            }
            left == 0L -> Text("Nobody answered: calling for help…", textAlign = TextAlign.Center)
            else -> {
                Text("$left", fontSize = 96.sp)
                Text("Help is called when the countdown ends.", textAlign = TextAlign.Center)
                Button(onClick = onOk, modifier = Modifier.fillMaxWidth().height(72.dp)) { Text("I'm OK", fontSize = 24.sp) }
                Button(
                    onClick = onHelp,
                    modifier = Modifier.fillMaxWidth().height(72.dp),
                    colors = ButtonDefaults.buttonColors(containerColor = MaterialTheme.colorScheme.error),
                ) { Text("I need help", fontSize = 24.sp) }
            }
        }
    }
}
