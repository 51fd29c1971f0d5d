// The sample's views: they read MonitorModel and call its intents, nothing else.

import Guardian
import SwiftUI

struct ContentView: View {
    @ObservedObject var model: MonitorModel

    var body: some View {
        NavigationView {
            List {
                Section("Monitoring") {
                    StatusRow(state: model.state, usesGyroscope: model.usesGyroscope)
                    if model.state.monitoring == .running || model.state.monitoring == .pausedInBackground {
                        Button("Stop monitoring", role: .destructive) { model.stopMonitoring() }
                    } else {
                        Button("Start monitoring") { model.startMonitoring() }
                    }
                    Text("Monitoring runs while Guardian is open on screen. iOS suspends apps in the background; the screen is kept on while monitoring.")
                        .font(.footnote)
                        .foregroundColor(.secondary)
                }
                Section("Acceleration |a| (g), last 10 s") {
                    AccelerationPlot(points: model.plot.points)
                        .frame(height: 120)
                }
                if !model.state.notes.isEmpty {
                    Section("Sensors") {
                        ForEach(Array(model.state.notes.enumerated()), id: \.offset) { _, note in
                            Text(note).font(.footnote)
                        }
                    }
                }
                if let error = model.errorMessage {
                    Section("Error") {
                        Text(error).foregroundColor(.red)
                    }
                }
                Section("Alert history") {
                    if model.history.isEmpty {
                        Text("No alerts yet.").foregroundColor(.secondary)
                    }
                    ForEach(model.history, id: \.alert.alertId) { record in
                        HistoryRow(record: record)
                    }
                }
            }
            .navigationTitle("Guardian")
        }
        .fullScreenCover(isPresented: Binding(get: { model.state.alert != nil }, set: { _ in })) {
            if let alert = model.state.alert {
                AlertView(alert: alert, secondsLeft: model.secondsLeft, imOK: model.imOK, needHelp: model.needHelp)
            }
        }
    }
}

struct StatusRow: View {
    let state: MonitorState
    let usesGyroscope: Bool

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            Text(title).font(.headline)
            Text(detail).font(.subheadline).foregroundColor(.secondary)
        }
    }

    private var title: String {
        switch state.monitoring {
        case .stopped: return "Stopped"
        case .running: return "Monitoring"
        case .pausedInBackground: return "Paused: app in the background"
        case let .failed(message): return "Cannot monitor: \(message)"
        }
    }

    private var detail: String {
        let sensors = usesGyroscope ? "accelerometer + gyroscope" : "accelerometer only (no gyroscope)"
        switch state.model {
        case .some(.full): return "Model: full, \(sensors)"
        case .some(.accOnly): return "Model: accelerometer-only, \(sensors)"
        case .none: return sensors
        }
    }
}

/// |a| over the last points; 1 g (the phone at rest) as a dashed line.
struct AccelerationPlot: View {
    let points: [Double]
    var maxG: Double = 4

    var body: some View {
        GeometryReader { geo in
            let w = geo.size.width
            let h = geo.size.height
            let y = { (g: Double) in h - CGFloat(min(g, maxG) / maxG) * h }
            ZStack {
                Path { p in
                    p.move(to: CGPoint(x: 0, y: y(1)))
                    p.addLine(to: CGPoint(x: w, y: y(1)))
                }
                .stroke(Color.secondary, style: StrokeStyle(lineWidth: 1, dash: [4, 4]))
                Path { p in
                    guard points.count > 1 else { return }
                    let step = w / CGFloat(points.count - 1)
                    p.move(to: CGPoint(x: 0, y: y(points[0])))
                    for (i, g) in points.enumerated().dropFirst() {
                        p.addLine(to: CGPoint(x: CGFloat(i) * step, y: y(g)))
                    }
                }
                .stroke(Color.accentColor, lineWidth: 2)
            }
        }
    }
}

struct AlertView: View {
    let alert: ActiveAlert
    let secondsLeft: Int?
    let imOK: () -> Void
    let needHelp: () -> Void

    var body: some View {
        VStack(spacing: 24) {
            Spacer()
            Text("Did you fall?").font(.largeTitle.bold())
            if alert.replay {
                Text("This alert was raised before Guardian restarted.")
                    .foregroundColor(.secondary)
            }
            Text("\(secondsLeft ?? 0)")
                .font(.system(size: 96, weight: .bold, design: .rounded))
                .monospacedDigit()
            Text("Help is requested when the countdown ends.")
                .foregroundColor(.secondary)
            Spacer()
            Button(action: imOK) {
                Text("I'm OK").font(.title2.bold()).frame(maxWidth: .infinity, minHeight: 64)
            }
            .buttonStyle(.borderedProminent)
            .tint(.green)
            Button(action: needHelp) {
                Text("I need help").font(.title2.bold()).frame(maxWidth: .infinity, minHeight: 64)
            }
            .buttonStyle(.borderedProminent)
            .tint(.red)
        }
        .padding(24)
    }
}

struct HistoryRow: View {
    let record: AlertRecord

    var body: some View {
        VStack(alignment: .leading, spacing: 2) {
            Text(outcome).font(.body)
            Text("score \(String(format: "%.2f", record.alert.score)), peak \(String(format: "%.1f", record.alert.peakG)) g, \(record.acknowledged ? "handled" : "not handled yet")")
                .font(.caption)
                .foregroundColor(.secondary)
        }
    }

    private var outcome: String {
        switch record.outcome {
        case .some(.cancelled): return "Fall: answered \"I'm OK\""
        case .some(.escalatedByTimeout): return "Fall: nobody answered, help requested"
        case .some(.escalatedByUser): return "Fall: \"I need help\""
        case .none: return "Fall: open"
        }
    }
}
