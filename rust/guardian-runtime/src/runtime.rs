//! Which inference runtime runs the models: LiteRT 2.1.4 or the classic TensorFlow Lite C API.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use guardian_litert::LiteRtLibrary;
use guardian_tflite::ClassicLibrary;

use crate::SetupError;

/// A runtime backend, by name (`litert` or `classic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimeKind {
    /// LiteRT 2.1.4's C API (`libLiteRt.so`), see `guardian_litert`.
    LiteRt,
    /// The classic TensorFlow Lite C API (`libtensorflowlite_jni.so` on Android,
    /// `TensorFlowLiteC` on iOS, `libtensorflowlite_c.so` on a host), see `guardian_tflite`.
    Classic,
}

impl RuntimeKind {
    /// The runtime a phone has: classic on Android and in builds with the `classic-static`
    /// feature (iOS), LiteRT elsewhere (the host).
    pub const fn platform_default() -> Self {
        if cfg!(any(target_os = "android", feature = "classic-static")) {
            RuntimeKind::Classic
        } else {
            RuntimeKind::LiteRt
        }
    }

    /// `"litert"` or `"classic"`.
    pub const fn name(self) -> &'static str {
        match self {
            RuntimeKind::LiteRt => "litert",
            RuntimeKind::Classic => "classic",
        }
    }
}

impl Default for RuntimeKind {
    fn default() -> Self {
        Self::platform_default()
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuntimeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "litert" => Ok(RuntimeKind::LiteRt),
            "classic" => Ok(RuntimeKind::Classic),
            other => Err(format!(
                "unknown runtime {other:?}: expected litert or classic"
            )),
        }
    }
}

/// A loaded runtime library of either backend. Cheap to clone, `Send + Sync`.
#[derive(Debug, Clone)]
pub enum Runtime {
    /// LiteRT 2.1.4.
    LiteRt(LiteRtLibrary),
    /// The classic TensorFlow Lite C API.
    Classic(ClassicLibrary),
}

impl Runtime {
    /// Which backend this is.
    pub fn kind(&self) -> RuntimeKind {
        match self {
            Runtime::LiteRt(_) => RuntimeKind::LiteRt,
            Runtime::Classic(_) => RuntimeKind::Classic,
        }
    }

    /// Where the library comes from, for messages.
    pub fn describe(&self) -> String {
        match self {
            Runtime::LiteRt(lib) => format!(
                "{} (LiteRT {})",
                lib.path().display(),
                guardian_litert::PINNED_LITERT_VERSION
            ),
            Runtime::Classic(lib) => lib.describe(),
        }
    }
}

/// Loads the runtime library of `kind` from `path`, or finds it (`LiteRtLibrary::locate`,
/// `ClassicLibrary::locate`). Errors: [`SetupError::Runtime`] (LiteRT) or
/// [`SetupError::Classic`] (classic), whose library kinds say the library is missing or wrong.
pub fn load_runtime(kind: RuntimeKind, path: Option<&Path>) -> Result<Runtime, SetupError> {
    Ok(match kind {
        RuntimeKind::LiteRt => Runtime::LiteRt(match path {
            Some(p) => LiteRtLibrary::load(p),
            None => LiteRtLibrary::locate(),
        }?),
        RuntimeKind::Classic => Runtime::Classic(match path {
            Some(p) => ClassicLibrary::load(p),
            None => ClassicLibrary::locate(),
        }?),
    })
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Runtime>();
};
