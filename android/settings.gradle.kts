// The Android build: the Guardian library (AAR) and the sample app, one Gradle build.
// Open android/ in Android Studio. Native libraries come from scripts/build-android.sh.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google() // com.google.ai.edge.litert:litert, AGP, androidx (Compose) for the sample
        mavenCentral() // JNA, kotlinx-coroutines, Robolectric
    }
}

rootProject.name = "guardian-android"

include(":guardian")

// The sample app lives outside this folder; same build, same version catalog.
include(":sample")
project(":sample").projectDir = file("../sample-apps/android-guardian/app")
