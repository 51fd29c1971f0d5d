package dev.guardian.sample

import android.Manifest
import android.content.Intent
import android.net.Uri
import android.os.Build
import android.os.Bundle
import android.provider.Settings
import androidx.activity.ComponentActivity
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.Canvas
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.unit.dp
import dev.guardian.android.MonitorStatus

/** Start/stop, live state, the |a| plot, the alert history. */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val monitor = (application as GuardianSampleApp).monitor
        setContent {
            MaterialTheme {
                Surface(Modifier.fillMaxSize()) {
                    MainScreen(monitor)
                }
            }
        }
    }
}

@Composable
private fun MainScreen(monitor: SampleMonitor) {
    val ui by monitor.ui.collectAsState()
    var error by remember { mutableStateOf<String?>(null) }
    val requestNotifications =
        rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
            error = if (granted) monitor.start() else "Without notifications Guardian cannot show a fall alert."
        }
    LaunchedEffect(Unit) { monitor.refreshHistory() }
    val running = ui.status is MonitorStatus.Running

    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text("Guardian", style = MaterialTheme.typography.headlineMedium)
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(enabled = !running, onClick = {
                if (Build.VERSION.SDK_INT >= 33) {
                    requestNotifications.launch(Manifest.permission.POST_NOTIFICATIONS)
                } else {
                    error = monitor.start()
                }
            }) { Text("Start monitoring") }
            OutlinedButton(enabled = running, onClick = { monitor.stop() }) { Text("Stop") }
        }
        Text(
            when (val s = ui.status) {
                is MonitorStatus.Running ->
                    "Monitoring" + (if (s.usesGyroscope) "" else " (no gyroscope: accelerometer-only model)") +
                        (ui.model?.let { ", model $it" } ?: "")
                is MonitorStatus.Failed -> "Not monitoring: ${s.message}"
                else -> "Not monitoring"
            },
        )
        val status = ui.status
        if (status is MonitorStatus.Running && !status.fullScreenIntentAllowed) {
            FullScreenIntentHint()
        }
        error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        ui.alert?.let { a ->
            Button(onClick = { monitor.openAlertScreen() }) { Text("Fall alert open: ${ui.secondsLeft ?: 0} s left") }
        }
        ui.lastMessage?.let { Text(it) }
        Text("|a| over the last 10 s (g)", style = MaterialTheme.typography.labelMedium)
        Plot(ui.plot)
        ui.notes.forEach { Text(it, style = MaterialTheme.typography.bodySmall) }
        Text("Alert history", style = MaterialTheme.typography.titleMedium)
        LazyColumn {
            items(ui.history, key = { it.alertId }) { row ->
                Column(Modifier.padding(vertical = 4.dp)) {
                    Text(row.title)
                    Text(row.detail, style = MaterialTheme.typography.bodySmall)
                }
            }
        }
    }
}

/** Android 14+: full-screen alerts need the user's grant unless the app is a calling/alarm app. */
@Composable
private fun FullScreenIntentHint() {
    val context = androidx.compose.ui.platform.LocalContext.current
    Text("Alerts will show as notifications, not full screen.", style = MaterialTheme.typography.bodySmall)
    OutlinedButton(onClick = {
        if (Build.VERSION.SDK_INT >= 34) {
            context.startActivity(
                Intent(Settings.ACTION_MANAGE_APP_USE_FULL_SCREEN_INTENT, Uri.parse("package:${context.packageName}")),
            )
        }
    }) { Text("Allow full-screen alerts") }
}

@Composable
private fun Plot(points: FloatArray) {
    Canvas(Modifier.fillMaxWidth().height(120.dp)) {
        if (points.size < 2) return@Canvas
        val maxG = 4f
        val dx = size.width / (points.size - 1)
        fun y(g: Float) = size.height * (1f - (g.coerceIn(0f, maxG) / maxG))
        drawLine(Color.LightGray, Offset(0f, y(1f)), Offset(size.width, y(1f)))
        for (i in 1 until points.size) {
            drawLine(Color(0xFF1565C0), Offset((i - 1) * dx, y(points[i - 1])), Offset(i * dx, y(points[i])), strokeWidth = 3f)
        }
    }
}
