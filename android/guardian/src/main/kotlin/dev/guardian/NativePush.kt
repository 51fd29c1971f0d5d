package dev.guardian

import com.sun.jna.NativeLibrary
import com.sun.jna.Platform
import dev.guardian.ffi.GuardianException
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

// api-mirror: android-only (JNI)
/**
 * The JNI fast path for pushes, beside the UniFFI API: one plain JNI call into the same
 * native library, instead of a UniFFI method call through JNA (which costs tens of
 * microseconds of fixed work per call and allocates). [SampleBatch.pushTo] uses it by itself
 * when it is available and falls back to the UniFFI `FallDetector.pushPacked` when it is not;
 * apps normally never call this object directly.
 *
 * The native side must be the very library file JNA loaded for the generated bindings (a
 * detector is found by the id `FallDetector.fastPathId()` registered in THAT library's
 * memory). One rule, in [load], decides the file, the way the generated code does:
 * - `-Duniffi.component.guardian.libraryOverride=<file>` (host JVM, tests): that file;
 * - Android: `System.loadLibrary("guardian_ffi")` (the APK's `libguardian_ffi.so`);
 * - otherwise (host JVM without the override): the file JNA resolved for `guardian_ffi`.
 *
 * The library is loaded and probed on first use. If anything fails (an old library without
 * the entry point, a second class loader in the same process as under Robolectric, a
 * `SecurityException`), [isAvailable] is false, [unavailableReason] says why (also printed once
 * on stderr, which is logcat on Android) and pushes go through UniFFI, with the same results
 * and errors. `-Dguardian.fastPath=false` turns the fast path off.
 */
object NativePush {
    /** The library name the generated bindings use (`lib<name>.so`). */
    const val LIBRARY_NAME: String = "guardian_ffi"

    /** The system property the generated bindings read for an explicit library file. */
    const val LIBRARY_OVERRIDE_PROPERTY: String = "uniffi.component.guardian.libraryOverride"

    /** `-Dguardian.fastPath=false` disables the fast path (pushes go through UniFFI). */
    const val ENABLE_PROPERTY: String = "guardian.fastPath"

    private val failure: String? by lazy { load() }

    /** True when the JNI entry point is loaded from the bindings' library and answers. */
    val isAvailable: Boolean get() = failure == null

    /** Why the fast path is not used (the library tried and the cause), or null if it is. */
    val unavailableReason: String? get() = failure

    /**
     * Pushes the first [length] bytes of [buffer] (a DIRECT buffer in the packed layout of
     * [SampleBatch], read from its start whatever its position) to the detector whose
     * `fastPathId()` is [id]. Nothing is copied.
     *
     * @throws GuardianException.InvalidBatch a bad header or length, a heap buffer, a
     *   non-finite value or a timestamp the detector cannot take; nothing was consumed.
     * @throws GuardianException.NotRunning the detector is not started, or no longer exists.
     * @throws UnsatisfiedLinkError the library is not loaded: check [isAvailable] first.
     */
    @JvmStatic
    external fun pushPacked(id: Long, buffer: ByteBuffer, length: Int)

    /** Loads the library and probes the entry point; returns null, or why it is unusable. */
    private fun load(): String? {
        if (System.getProperty(ENABLE_PROPERTY)?.trim()?.equals("false", ignoreCase = true) == true) {
            return "disabled by -D$ENABLE_PROPERTY=false"
        }
        val override = System.getProperty(LIBRARY_OVERRIDE_PROPERTY)?.takeIf { it.isNotBlank() }
        var what = "the Guardian library"
        var loaded = false
        val reason =
            try {
                what = loadLibrary(override)
                loaded = true
                probe()
                null
            } catch (e: UnsatisfiedLinkError) {
                if (loaded) {
                    "$what: no entry point ${e.message} (a library built before the fast path?)"
                } else {
                    "$what failed: ${e.message}"
                }
            } catch (e: LinkageError) {
                "$what: ${e::class.java.name}: ${e.message}"
            } catch (e: Exception) {
                "$what: ${e::class.java.name}: ${e.message}"
            }
        if (reason != null) {
            System.err.println("guardian: the JNI push fast path is unavailable, pushes use UniFFI: $reason")
        }
        return reason
    }

    /** Loads the library JNA uses for the bindings with System.load/loadLibrary; returns what was loaded. */
    private fun loadLibrary(override: String?): String {
        if (override != null) {
            // The generated code hands the override to JNA as is: a path, or a library name.
            val file = File(override)
            return if (file.isAbsolute || override.contains(File.separatorChar)) {
                val path = file.absolutePath
                System.load(path)
                "System.load($path) (from -D$LIBRARY_OVERRIDE_PROPERTY)"
            } else {
                System.loadLibrary(override)
                "System.loadLibrary($override) (from -D$LIBRARY_OVERRIDE_PROPERTY)"
            }
        }
        if (Platform.isAndroid()) {
            System.loadLibrary(LIBRARY_NAME)
            return "System.loadLibrary($LIBRARY_NAME)"
        }
        // Host JVM: ask JNA which file it loads for the name (jna.library.path, the system's
        // paths, or a copy extracted from the class path) and load exactly that one.
        val file: File? = NativeLibrary.getInstance(LIBRARY_NAME).file
        return if (file != null && file.isAbsolute) {
            System.load(file.path)
            "System.load(${file.path}) (the file JNA loaded)"
        } else {
            System.loadLibrary(LIBRARY_NAME)
            "System.loadLibrary($LIBRARY_NAME)"
        }
    }

    /** One call with an id that is never registered: a bound, working entry point says NotRunning. */
    private fun probe() {
        val header = ByteBuffer.allocateDirect(SampleBatch.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN)
        try {
            pushPacked(0L, header, SampleBatch.HEADER_BYTES)
        } catch (_: GuardianException.NotRunning) {
            return
        }
        error("the probe push with id 0 did not fail with NotRunning")
    }
}
