// The Guardian sample app: start/stop monitoring, live state and an acceleration plot, the
// full-screen alert with a 30 s countdown, and the alert history from the journal.

import SwiftUI
import UserNotifications

@main
struct GuardianSampleApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var appDelegate
    @StateObject private var model = MonitorModel()
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            ContentView(model: model)
        }
        .onChange(of: scenePhase) { phase in
            switch phase {
            case .active:
                model.sceneBecameActive()
            case .background:
                model.sceneEnteredBackground()
            default:
                break
            }
        }
    }
}

/// Shows Guardian's notifications also while the app is in front (iOS hides them otherwise).
final class AppDelegate: NSObject, UIApplicationDelegate, UNUserNotificationCenterDelegate {
    func application(_ application: UIApplication, didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil) -> Bool {
        UNUserNotificationCenter.current().delegate = self
        return true
    }

    func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        willPresent notification: UNNotification,
        withCompletionHandler completionHandler: @escaping (UNNotificationPresentationOptions) -> Void
    ) {
        completionHandler([.banner, .sound, .list])
    }
}
