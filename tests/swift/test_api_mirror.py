"""scripts/api_mirror.py: the Swift wrapper's public API mirrors the Kotlin wrapper's."""

import textwrap

KOTLIN = textwrap.dedent(
    """\
    package dev.guardian

    import kotlinx.coroutines.flow.Flow

    /** Events. */
    fun FallDetector.events(): Flow<GuardianEvent> =
        callbackFlow {
            val listener = object : GuardianListener {
                override fun onEvent(event: GuardianEvent) { trySend(event) }
            }
            start(listener)
            awaitClose { stop() }
        }

    class SampleBatch(initialCapacity: Int = 128) {
        private var accT = LongArray(initialCapacity)
        var accelerometerCount: Int = 0
            private set
        val size: Int get() = accelerometerCount

        fun isEmpty(): Boolean = size == 0

        fun addAccelerometer(tNs: Long, x: Float, y: Float, z: Float): SampleBatch {
            return this
        }

        fun pushTo(detector: FallDetector) {
            if (isEmpty()) return
        }

        private fun grow() {}

        companion object {
            const val RECORD_BYTES: Int = 20
            fun packedSize(accCount: Int, gyroCount: Int): Int = 8 + RECORD_BYTES * (accCount + gyroCount)
        }
    }
    """
)

SWIFT = textwrap.dedent(
    """\
    import Foundation

    extension FallDetector {
        /// Events.
        public func events() throws -> AsyncStream<GuardianEvent> {
            let (stream, continuation) = AsyncStream.makeStream(of: GuardianEvent.self)
            return stream
        }
    }

    final class EventStreamListener: GuardianListener, @unchecked Sendable {
        func onEvent(event: GuardianEvent) {}
    }

    public final class SampleBatch {
        public static let recordBytes: Int = 20
        public static func packedSize(accCount: Int, gyroCount: Int) -> Int { 8 + recordBytes * (accCount + gyroCount) }
        private var bytes: [UInt8] = []
        public init(initialCapacity: Int = 128) {}
        public var accelerometerCount: Int { bytes.count / 20 }
        public var count: Int { accelerometerCount }
        public var isEmpty: Bool { bytes.isEmpty }

        @discardableResult
        public func addAccelerometer(tNs: Int64, x: Float, y: Float, z: Float) -> SampleBatch {
            return self
        }

        public func push(to detector: FallDetector) throws {
            if isEmpty { return }
        }

        // api-mirror: ios-only (CoreMotion types)
        /// A CoreMotion sample.
        public func addAccelerometer(_ data: CMAccelerometerData) throws -> SampleBatch { self }
    }
    """
)


def run(api_mirror, tmp_path, kotlin, swift):
    (tmp_path / "kt").mkdir(parents=True)
    (tmp_path / "swift").mkdir(parents=True)
    (tmp_path / "kt" / "Wrapper.kt").write_text(kotlin)
    (tmp_path / "swift" / "Wrapper.swift").write_text(swift)
    # The generated file is never compared.
    (tmp_path / "swift" / "GuardianFFI.swift").write_text(
        "public func onlyInGenerated() {}\n"
    )
    return api_mirror.main(
        ["--kotlin", str(tmp_path / "kt"), "--swift", str(tmp_path / "swift")]
    )


def test_mirrored_wrappers_pass(api_mirror, tmp_path, capsys):
    assert run(api_mirror, tmp_path, KOTLIN, SWIFT) == 0
    out = capsys.readouterr().out
    assert "api_mirror: OK: 10 Kotlin and 10 Swift public declarations" in out
    assert "1 marked platform-only" in out


def test_missing_swift_method_is_reported(api_mirror, tmp_path, capsys):
    swift = SWIFT.replace(
        "public func push(to detector: FallDetector)",
        "func push(to detector: FallDetector)",
    )
    assert run(api_mirror, tmp_path, KOTLIN, swift) == 1
    out = capsys.readouterr().out
    assert "only in Kotlin: SampleBatch.pushTo(detector)" in out
    assert "Wrapper.kt:27" in out
    assert "api_mirror: FAILED: 1 differences" in out


def test_missing_kotlin_extension_is_reported(api_mirror, tmp_path, capsys):
    kotlin = KOTLIN.replace(
        "fun FallDetector.events()", "internal fun FallDetector.events()"
    )
    assert run(api_mirror, tmp_path, kotlin, SWIFT) == 1
    assert "only in Swift:  FallDetector.events" in capsys.readouterr().out


def test_renamed_parameter_is_reported(api_mirror, tmp_path, capsys):
    swift = SWIFT.replace(
        "packedSize(accCount: Int, gyroCount: Int)",
        "packedSize(accCount: Int, gyroscopeCount: Int)",
    )
    assert run(api_mirror, tmp_path, KOTLIN, swift) == 1
    out = capsys.readouterr().out
    assert "only in Kotlin: static SampleBatch.packedSize(accCount, gyroCount)" in out
    assert (
        "only in Swift:  static SampleBatch.packedSize(accCount, gyroscopeCount)" in out
    )


def test_type_mismatch_is_reported(api_mirror, tmp_path, capsys):
    swift = SWIFT.replace(
        "addAccelerometer(tNs: Int64,", "addAccelerometer(tNs: Double,"
    )
    assert run(api_mirror, tmp_path, KOTLIN, swift) == 1
    assert "parameter tNs: Kotlin Int64 vs Swift Double" in capsys.readouterr().out


def test_unmarked_platform_only_method_is_reported(api_mirror, tmp_path, capsys):
    swift = SWIFT.replace("// api-mirror: ios-only (CoreMotion types)\n", "")
    assert run(api_mirror, tmp_path, KOTLIN, swift) == 1
    assert (
        "only in Swift:  SampleBatch.addAccelerometer(data)" in capsys.readouterr().out
    )


def test_real_wrappers_mirror(api_mirror, capsys):
    if not api_mirror.KOTLIN_DIR.is_dir() or not api_mirror.SWIFT_DIR.is_dir():
        return
    assert api_mirror.main([]) == 0, capsys.readouterr().out


def test_a_marked_extension_exempts_its_members(api_mirror, tmp_path, capsys):
    extra = (
        "\n// api-mirror: ios-only (Kotlin shows it as the exception message)\n"
        "extension GuardianError: LocalizedError {\n"
        "    public var errorDescription: String? { nil }\n"
        "}\n"
    )
    assert run(api_mirror, tmp_path, KOTLIN, SWIFT + extra) == 0
    assert "2 marked platform-only" in capsys.readouterr().out
    assert (
        run(
            api_mirror,
            tmp_path / "again",
            KOTLIN,
            SWIFT + extra.replace("// api-mirror: ios-only", "//"),
        )
        == 1
    )
