// The Guardian sample app (Jetpack Compose). Part of the Gradle build in android/ (project
// ":sample"); its state logic (src/main/kotlin/dev/guardian/sample/state) is plain Kotlin, unit-
// tested here by the shared tests in android/robolectric/src/sampleTest (also run by Maven).
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "dev.guardian.sample"
    compileSdk = 35

    defaultConfig {
        applicationId = "dev.guardian.sample"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }

    sourceSets {
        getByName("main") { kotlin.srcDirs("src/main/kotlin") }
        getByName("test") { kotlin.srcDirs("../../../android/robolectric/src/sampleTest/kotlin") }
        getByName("androidTest") {
            kotlin.srcDirs("src/androidTest/kotlin")
            // The emulator smoke test's recording (a cut of `guardian demo --seed 42` around a
            // fall), written by the CI workflow before the build; not committed.
            assets.srcDirs("src/androidTest/assets")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"))
            signingConfig = signingConfigs.getByName("debug") // sample only: installable from CI
        }
    }

    buildFeatures { compose = true }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging { jniLibs { useLegacyPackaging = false } }
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

dependencies {
    // An app outside this build adds the AAR instead (android/README.md); JNA and coroutines come with it.
    implementation(project(":guardian"))
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.ui)
    implementation(libs.compose.foundation)
    implementation(libs.compose.material3)
    implementation(libs.activity.compose)

    testImplementation(libs.junit)
    testImplementation(libs.jna) // the state tests construct binding records (no native call)

    androidTestImplementation(libs.androidx.test.runner)
    androidTestImplementation(libs.androidx.test.core)
    androidTestImplementation(libs.androidx.test.ext.junit)
}
