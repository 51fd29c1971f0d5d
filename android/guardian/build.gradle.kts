// The Guardian Android library (AAR): the UniFFI bindings and the Kotlin wrapper (src/main/kotlin,
// pure Kotlin), the Android parts (src/android/kotlin: GuardianSensorSource, GuardianMonitorService),
// the facade's native libraries per ABI (src/main/jniLibs, from scripts/build-android.sh).
// The Maven build android/robolectric compiles the same two source roots and runs the same tests.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    `maven-publish`
}

group = "dev.guardian"
version = "0.1.0"

android {
    namespace = "dev.guardian"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets {
        getByName("main") {
            kotlin.srcDirs("src/main/kotlin", "src/android/kotlin")
            jniLibs.srcDirs("src/main/jniLibs")
        }
        getByName("test") {
            // The Robolectric tests (host JVM, the host build of the facade) and the synthetic day
            // they replay, streamed from `guardian demo` (dev.guardian.testing).
            kotlin.srcDirs("../robolectric/src/test/kotlin", "../testfixtures/kotlin")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = false // a library: the app's R8 run applies consumer-rules.pro
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        jniLibs {
            // Stored uncompressed and page aligned in the APK, loaded in place (16 KB pages).
            useLegacyPackaging = false
        }
    }

    // The AAR with a POM that lists JNA (@aar), coroutines and LiteRT: apps add ONE dependency.
    publishing {
        singleVariant("release") {
            withSourcesJar()
        }
    }

    testOptions {
        unitTests {
            isReturnDefaultValues = false
            all { test ->
                // The same properties as android/robolectric/pom.xml; pass -Pguardian.lib=... etc.
                fun prop(name: String) = providers.gradleProperty(name).orNull
                prop("guardian.lib")?.let { test.systemProperty("uniffi.component.guardian.libraryOverride", it) }
                prop("guardian.litert")?.let { test.systemProperty("guardian.litert", it) }
                prop("guardian.bin")?.let { test.systemProperty("guardian.bin", it) }
                test.maxHeapSize = "2g"
            }
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    // JNA's Android artifact carries libjnidispatch.so per ABI; the plain jar has none for Android.
    // `api`: the generated bindings' public types extend JNA classes, the wrapper returns Flows.
    api("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    api(libs.kotlinx.coroutines.android)
    // The runtime the facade dlopens (libtensorflowlite_jni.so, classic C API, 16 KB aligned).
    implementation(libs.litert)

    testImplementation(libs.junit)
    testImplementation(libs.robolectric)
    // Host unit tests load the host facade through the JNA jar (its desktop dispatch libraries).
    testImplementation(libs.jna)
}

// ./gradlew :guardian:publishToMavenLocal (or a repository of your own) -> dev.guardian:guardian:0.1.0
afterEvaluate {
    publishing {
        publications {
            create<MavenPublication>("release") {
                groupId = "dev.guardian"
                artifactId = "guardian"
                version = project.version.toString()
                from(components["release"])
            }
        }
    }
}
