//! Loading `libLiteRt.so` at run time.

use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libloading::Library;

use crate::error::RuntimeError;
use crate::ffi::{Api, ApiError};

/// Environment variable naming the library file to use (takes precedence over every other
/// place; if it is set, nothing else is tried).
pub const LIBRARY_ENV_VAR: &str = "GUARDIAN_LITERT_LIB";

/// Where `scripts/fetch_litert.sh` puts the library, relative to the repository root.
pub const CACHE_RELATIVE_PATH: &str = ".cache/litert/libLiteRt.so";

/// [`PINNED_LITERT_VERSION`] as a literal, for `concat!` in constants.
macro_rules! pinned_litert_version {
    () => {
        "2.1.4"
    };
}
pub(crate) use pinned_litert_version;

/// The LiteRT version whose C API this crate binds.
pub const PINNED_LITERT_VERSION: &str = pinned_litert_version!();

/// A loaded LiteRT 2.1.4 runtime library (`libLiteRt.so`).
///
/// Cheap to clone (reference counted) and shareable between threads; every
/// [`LiteRtScorer`](crate::LiteRtScorer) holds a clone, so the functions it calls stay valid.
///
/// The library is loaded with `dlopen` rather than linked, so an app can ship its own copy
/// (Android: the LiteRT AAR's `libLiteRt.so`) and pass its path to [`LiteRtLibrary::load`].
/// It is never unloaded, even when the last clone is dropped: LiteRT's C++ runtime (XNNPACK
/// thread pools, static registries) is not safe to `dlclose`, and a second `load` of the same
/// file returns the same mapping anyway.
#[derive(Clone)]
pub struct LiteRtLibrary {
    inner: Arc<Inner>,
}

struct Inner {
    api: Api,
    path: PathBuf,
    // Kept only to document ownership: it is never dropped, so the function pointers in `api`
    // stay valid for the rest of the process.
    _lib: ManuallyDrop<Library>,
}

impl std::fmt::Debug for LiteRtLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiteRtLibrary")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl LiteRtLibrary {
    /// Loads the library at `path` (a file path, or a bare file name for the system search
    /// path), checks that it is LiteRT 2.1.4 and resolves the C functions this crate calls.
    ///
    /// Errors: [`RuntimeError::LibraryNotFound`] if `path` contains a directory separator and
    /// no file is there, [`RuntimeError::LibraryLoad`] if it is a directory or the dynamic
    /// loader refuses it,
    /// [`RuntimeError::VersionMismatch`] if its symbols are not those of 2.1.4 (checked before
    /// any LiteRT function is called), [`RuntimeError::MissingSymbol`] if a needed function is
    /// absent.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, RuntimeError> {
        let path = path.as_ref();
        let lib = open_library(path).map_err(|e| match e {
            OpenError::NotFound => RuntimeError::LibraryNotFound {
                tried: vec![path.to_path_buf()],
            },
            OpenError::Load(reason) => RuntimeError::LibraryLoad {
                path: path.to_path_buf(),
                reason,
            },
        })?;
        let api = Api::load(&lib).map_err(|e| match e {
            ApiError::MissingSymbol(symbol) => RuntimeError::MissingSymbol {
                path: path.to_path_buf(),
                symbol,
            },
            ApiError::WrongVersion(reason) => RuntimeError::VersionMismatch {
                path: path.to_path_buf(),
                reason,
            },
        })?;
        Ok(LiteRtLibrary {
            inner: Arc::new(Inner {
                api,
                path: path.to_path_buf(),
                _lib: ManuallyDrop::new(lib),
            }),
        })
    }

    /// Finds and loads the library, trying in order:
    ///
    /// 1. the file named by the environment variable `GUARDIAN_LITERT_LIB` (if set and not
    ///    empty, it is the only candidate: a wrong value is an error, not a fallback);
    /// 2. `.cache/litert/libLiteRt.so` in the current directory or any of its ancestors;
    /// 3. the same, walking up from the directory of the running executable;
    /// 4. the plain name `libLiteRt.so` through the dynamic loader's search path
    ///    (`LD_LIBRARY_PATH`, the app's native library folder on Android, ...).
    ///
    /// A candidate that exists but cannot be loaded, or is not 2.1.4, stops the search with
    /// that error. If nothing is found: [`RuntimeError::LibraryNotFound`], listing every path
    /// tried, whose message says how to get the library.
    pub fn locate() -> Result<Self, RuntimeError> {
        if let Some(value) = std::env::var_os(LIBRARY_ENV_VAR).filter(|v| !v.is_empty()) {
            return Self::load(PathBuf::from(value));
        }
        let mut tried = Vec::new();
        for candidate in cache_candidates(CACHE_RELATIVE_PATH) {
            if candidate.is_file() {
                return Self::load(candidate);
            }
            tried.push(candidate);
        }
        let bare = PathBuf::from(libloading::library_filename("LiteRt"));
        match Self::load(&bare) {
            Err(RuntimeError::LibraryNotFound { .. }) => {
                tried.push(bare);
                Err(RuntimeError::LibraryNotFound { tried })
            }
            other => other,
        }
    }

    /// The path (or bare name) the library was loaded from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub(crate) fn api(&self) -> &Api {
        &self.inner.api
    }
}

/// Why [`open_library`] could not open a library.
#[derive(Debug)]
pub enum OpenError {
    /// No file at the path, or the loader's search found nothing usable by that bare name.
    NotFound,
    /// Something is at the path but cannot be loaded (a directory, or the loader refused it):
    /// why.
    Load(String),
}

/// Opens the runtime library at `path` (a file path, or a bare file name for the dynamic
/// loader's search path), as every Guardian backend does: a directory is refused with a
/// message saying so, a path with no file there is [`OpenError::NotFound`], and so is a bare
/// name the loader cannot find or load.
pub fn open_library(path: &Path) -> Result<Library, OpenError> {
    let is_bare_name = path.components().count() == 1 && !path.is_absolute();
    if path.is_dir() {
        return Err(OpenError::Load(
            "it is a directory; give the path of the library file itself".into(),
        ));
    }
    if !is_bare_name && !path.is_file() {
        return Err(OpenError::NotFound);
    }
    open(path).map_err(|e| {
        if is_bare_name {
            // The system search found nothing by that name (or something unloadable).
            OpenError::NotFound
        } else {
            OpenError::Load(e.to_string())
        }
    })
}

#[cfg(unix)]
fn open(path: &Path) -> Result<Library, libloading::Error> {
    use libloading::os::unix::{Library as UnixLibrary, RTLD_LOCAL, RTLD_NOW};
    // RTLD_NOW: an incomplete library fails here, not in the middle of an invoke.
    // SAFETY: loading runs the library's initialisers; those of the runtimes Guardian loads
    // (libLiteRt.so, the TensorFlow Lite C library) only register built-in kernels, ops and
    // accelerators.
    unsafe { UnixLibrary::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map(Library::from)
}

#[cfg(not(unix))]
fn open(path: &Path) -> Result<Library, libloading::Error> {
    // SAFETY: loading runs the library's initialisers, which only register built-in kernels,
    // ops and accelerators (as for the unix `open` above).
    unsafe { Library::new(path) }
}

/// `relative` joined to the working directory and each of its ancestors, then to the running
/// executable's directory and each of its ancestors, without repeats: where a runtime library
/// fetched into the repository's `.cache/` is looked for.
pub fn cache_candidates(relative: &str) -> Vec<PathBuf> {
    let starts = [
        std::env::current_dir().ok(),
        std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf)),
    ];
    let mut out: Vec<PathBuf> = Vec::new();
    for start in starts.iter().flatten() {
        for dir in start.ancestors() {
            let candidate = dir.join(relative);
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}
