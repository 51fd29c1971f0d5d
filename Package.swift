// swift-tools-version:5.9
// Guardian for iOS as a Swift package. The manifest sits at the repository root because Swift
// Package Manager adds a package by repository URL only from there; the sources are under ios/.
// ios/README.md explains the two forms of the binary target and how an app adds the runtime.

import Foundation
import PackageDescription

// MARK: - The XCFramework (Rust staticlib + UniFFI header and module map)

// Development: the XCFramework scripts/build-ios.sh writes (ignored by git).
let guardianFFIPath = "ios/build/GuardianFFI.xcframework"

// Release: the `release` job of .github/workflows/ios.yml rewrites the next line, on the commit
// it tags, to `= (url: "https://github.com/<owner>/<repo>/releases/download/<tag>/GuardianFFI.xcframework.zip",
// checksum: "<swift package compute-checksum of that zip>")`. Keep it on one line.
let guardianFFIRelease: (url: String, checksum: String)? = nil

// Or both environment variables, to try a zipped XCFramework before a release.
let environment = Context.environment
let guardianFFIFromEnvironment: (url: String, checksum: String)? = {
    guard let url = environment["GUARDIAN_FFI_URL"], !url.isEmpty,
          let checksum = environment["GUARDIAN_FFI_CHECKSUM"], !checksum.isEmpty
    else { return nil }
    return (url: url, checksum: checksum)
}()

let guardianFFI: Target = {
    if let remote = guardianFFIFromEnvironment ?? guardianFFIRelease {
        return .binaryTarget(name: "GuardianFFI", url: remote.url, checksum: remote.checksum)
    }
    return .binaryTarget(name: "GuardianFFI", path: guardianFFIPath)
}()

// MARK: - The runtime, for this package's own tests only

// The Rust staticlib calls the classic TensorFlow Lite C API (`TfLiteModelCreate`, ...), which
// the final link must supply. An app supplies it (CocoaPods `TensorFlowLiteC`, or a binary
// target): see ios/README.md. This package's test bundle is such a final link, so it takes
// TensorFlowLiteC.xcframework from ios/build/ when ios/fetch-tensorflowlitec.sh has put it
// there (the workflow does). A package that depends on Guardian never sees this target.
let tensorFlowLiteCPath = "ios/build/TensorFlowLiteC.xcframework"
let hasTensorFlowLiteC = FileManager.default.fileExists(atPath: Context.packageDirectory + "/" + tensorFlowLiteCPath)

var targets: [Target] = [
    guardianFFI,
    .target(
        name: "Guardian",
        dependencies: ["GuardianFFI"],
        path: "ios/Sources/Guardian",
        linkerSettings: [.linkedFramework("CoreMotion", .when(platforms: [.iOS]))]
    ),
    .testTarget(
        name: "GuardianTests",
        dependencies: ["Guardian"] + (hasTensorFlowLiteC ? ["TensorFlowLiteC"] : []),
        path: "ios/Tests/GuardianTests",
        // TensorFlowLiteC is C++ inside: its podspec links libc++ the same way.
        linkerSettings: [.linkedLibrary("c++")]
    ),
]
if hasTensorFlowLiteC {
    targets.append(.binaryTarget(name: "TensorFlowLiteC", path: tensorFlowLiteCPath))
}

let package = Package(
    name: "Guardian",
    // iOS only: the XCFramework has device and simulator slices, and TensorFlowLiteC exists
    // for iOS only, so nothing links on macOS (`swift build` on a Mac host is not a target).
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "Guardian", targets: ["Guardian"]),
    ],
    targets: targets
)
