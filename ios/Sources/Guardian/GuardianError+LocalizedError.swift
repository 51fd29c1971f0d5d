// Hand-written: `localizedDescription` of a Guardian error is the Rust message, which says what
// to do (the text Kotlin shows as `e.message`).
//
// UniFFI's own conformance would answer `String(reflecting: self)`, i.e.
// `Guardian.GuardianError.NotRunning(message: "...")`; uniffi/uniffi.toml therefore sets
// `omit_localized_error_conformance = true` under [bindings.swift] and the conformance lives
// here. (Without that setting this file is a redundant conformance, a compile error.)

import Foundation

// api-mirror: ios-only (Kotlin shows the same text as the exception's message)
extension GuardianError: LocalizedError {
    /// The message the Rust facade wrote for this error, saying what to do.
    public var errorDescription: String? {
        switch self {
        case let .RuntimeLibraryMissing(message),
             let .ModelInvalid(message),
             let .CardInvalid(message),
             let .ConfigInvalid(message),
             let .InvalidBatch(message),
             let .NotRunning(message),
             let .AlreadyRunning(message),
             let .Journal(message),
             let .Model(message),
             let .Internal(message):
            return message
        }
    }
}

// api-mirror: ios-only (Kotlin shows the same text as the exception's message)
extension ListenerError: LocalizedError {
    /// The message the listener's failure carried.
    public var errorDescription: String? {
        switch self {
        case let .Failed(message):
            return message
        }
    }
}
