//! Loading the classic TensorFlow Lite C library: at run time (`dlopen`), or linked into the app
//! (feature `static`).

use std::ffi::CStr;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use guardian_litert::{open_library, OpenError};
use libloading::Library;

use crate::error::{exception, ClassicError};
use crate::ffi::Api;

/// Environment variable naming the library file to use (takes precedence over every other
/// place; if it is set, nothing else is tried).
pub const LIBRARY_ENV_VAR: &str = "GUARDIAN_TFLITE_LIB";

/// Where `scripts/fetch_tflite_classic.sh` puts the host library, relative to the repository
/// root.
pub const CACHE_RELATIVE_PATH: &str = ".cache/tflite-classic/libtensorflowlite_c.so";

/// The file name looked up through the dynamic loader's search path: on Android the library of
/// the TensorFlow Lite / LiteRT AAR (`libtensorflowlite_jni.so`, which exports the C API), on
/// other systems the C API library (`libtensorflowlite_c.so`, `.dylib` on macOS).
pub fn default_library_name() -> PathBuf {
    if cfg!(target_os = "android") {
        PathBuf::from("libtensorflowlite_jni.so")
    } else {
        PathBuf::from(libloading::library_filename("tensorflowlite_c"))
    }
}

/// A classic TensorFlow Lite C API, loaded (or linked) and checked.
///
/// Cheap to clone (reference counted) and shareable between threads; every
/// [`ClassicScorer`](crate::ClassicScorer) holds a clone, so the functions it calls stay valid. A
/// library opened at run time is never unloaded (TF Lite's C++ runtime, XNNPACK included, is not
/// safe to `dlclose`; a second `load` of the same file returns the same mapping anyway).
#[derive(Clone)]
pub struct ClassicLibrary {
    inner: Arc<Inner>,
}

struct Inner {
    api: Api,
    /// The file, or `None` when linked into the program.
    path: Option<PathBuf>,
    version: String,
    // Never dropped, so the function pointers in `api` stay valid for the rest of the process.
    _lib: Option<ManuallyDrop<Library>>,
}

impl std::fmt::Debug for ClassicLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassicLibrary")
            .field("path", &self.inner.path)
            .field("version", &self.inner.version)
            .finish()
    }
}

impl ClassicLibrary {
    /// Loads the library at `path` (a file path, or a bare file name for the system search
    /// path, e.g. `libtensorflowlite_jni.so` inside an Android app), resolves the C functions
    /// this crate calls and checks `TfLiteVersion()` is 2.x.
    ///
    /// Errors: [`ClassicError::LibraryNotFound`] if `path` names a file that is not there (or a
    /// bare name the loader cannot find), [`ClassicError::LibraryLoad`] if it is a directory or
    /// the loader refuses it, [`ClassicError::MissingSymbol`],
    /// [`ClassicError::UnsupportedVersion`] (the same opening as LiteRT's,
    /// [`guardian_litert::open_library`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ClassicError> {
        let path = path.as_ref();
        let lib = open_library(path).map_err(|e| match e {
            OpenError::NotFound => ClassicError::LibraryNotFound {
                tried: vec![path.to_path_buf()],
            },
            OpenError::Load(reason) => ClassicError::LibraryLoad {
                path: path.to_path_buf(),
                reason,
            },
        })?;
        let api = Api::load(&lib).map_err(|symbol| ClassicError::MissingSymbol {
            path: path.to_path_buf(),
            symbol,
        })?;
        Self::checked(api, Some(path.to_path_buf()), Some(lib))
    }

    /// The C API linked into the program (feature `static`: iOS apps link `TensorFlowLiteC`;
    /// the `TfLite*` symbols are resolved at the app's link time).
    #[cfg(feature = "static")]
    pub fn linked() -> Result<Self, ClassicError> {
        Self::checked(Api::linked(), None, None)
    }

    /// Finds and loads the library.
    ///
    /// With the feature `static`, the linked C API ([`Self::linked`]). Otherwise, in order:
    /// 1. the file named by `GUARDIAN_TFLITE_LIB` (if set and not empty, the only candidate);
    /// 2. `.cache/tflite-classic/libtensorflowlite_c.so` in the current directory or any of its
    ///    ancestors, then the same walking up from the running executable's directory;
    /// 3. [`default_library_name`] through the dynamic loader's search path (on Android, the
    ///    app's native library folder).
    ///
    /// A candidate that exists but cannot be used stops the search with that error.
    pub fn locate() -> Result<Self, ClassicError> {
        #[cfg(feature = "static")]
        {
            Self::linked()
        }
        #[cfg(not(feature = "static"))]
        {
            Self::search()
        }
    }

    #[cfg(not(feature = "static"))]
    fn search() -> Result<Self, ClassicError> {
        if let Some(value) = std::env::var_os(LIBRARY_ENV_VAR).filter(|v| !v.is_empty()) {
            return Self::load(PathBuf::from(value));
        }
        let mut tried = Vec::new();
        for candidate in guardian_litert::cache_candidates(CACHE_RELATIVE_PATH) {
            if candidate.is_file() {
                return Self::load(candidate);
            }
            tried.push(candidate);
        }
        let bare = default_library_name();
        match Self::load(&bare) {
            Err(ClassicError::LibraryNotFound { .. }) => {
                tried.push(bare);
                Err(ClassicError::LibraryNotFound { tried })
            }
            other => other,
        }
    }

    fn checked(
        api: Api,
        path: Option<PathBuf>,
        lib: Option<Library>,
    ) -> Result<Self, ClassicError> {
        let shown = || path.clone().unwrap_or_else(|| PathBuf::from(LINKED));
        let version = guardian_litert::guard(|| {
            // SAFETY: `TfLiteVersion` takes nothing and returns a static NUL-terminated string.
            let p = unsafe { (api.version)() };
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: non-null, NUL-terminated, static (per the C API).
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        })
        .map_err(|what| exception("asking TfLiteVersion()", what))?;
        if !version.starts_with("2.") {
            return Err(ClassicError::UnsupportedVersion {
                path: shown(),
                version,
            });
        }
        Ok(ClassicLibrary {
            inner: Arc::new(Inner {
                api,
                path,
                version,
                _lib: lib.map(ManuallyDrop::new),
            }),
        })
    }

    /// The file the library was loaded from (or the bare name given), `None` if linked.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Where the C API comes from, for messages: the path, or that it is linked in.
    pub fn describe(&self) -> String {
        match &self.inner.path {
            Some(p) => format!("{} (TensorFlow Lite {})", p.display(), self.inner.version),
            None => format!("{LINKED} (TensorFlow Lite {})", self.inner.version),
        }
    }

    /// What `TfLiteVersion()` returned, e.g. `2.6.0`.
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    pub(crate) fn api(&self) -> &Api {
        &self.inner.api
    }
}

const LINKED: &str = "linked into the app";
