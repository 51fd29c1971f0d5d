//! Hand-written, minimal FFI for the classic TensorFlow Lite C API (`tensorflow/lite/c/c_api.h`
//! and `delegates/xnnpack/xnnpack_delegate.h`).
//!
//! Only the functions Guardian calls are declared, and only those whose signatures have been
//! the same from TF 2.4 to 2.16 (the host's 2.6.0 `libtensorflowlite_c.so`, the 2.16.1 Android
//! `libtensorflowlite_jni.so`, iOS `TensorFlowLiteC`): opaque pointers, `int32_t`, `size_t`, the
//! `int`-sized `TfLiteStatus` / `TfLiteType` enums and the 8-byte `TfLiteQuantizationParams`.
//! `TfLiteXNNPackDelegateOptions` is deliberately not declared: its layout grew from one
//! `int32_t` (2.4) to several fields and pointers (2.16), so `TfLiteXNNPackDelegateOptionsDefault`
//! (which returns it by value) cannot be called through one prototype. The delegate is created
//! with `TfLiteXNNPackDelegateCreate(NULL)`, which every version documents as "use the default
//! options" (no thread pool: XNNPACK runs on the calling thread).
//!
//! Two ways to resolve the functions, one table ([`Api`]):
//! - [`Api::load`]: `dlsym` in a library opened at run time (Android, the host);
//! - `Api::linked` (feature `static`): the same names declared `extern`, resolved when the
//!   app is linked (iOS: the `TensorFlowLiteC` framework).
//!
//! All are declared `"C-unwind"` and called inside `guardian_litert::guard`, so a C++ exception
//! escaping the C API (the classic API reports failures as status codes or null pointers, but
//! its C++ internals may still throw, e.g. `std::bad_alloc`) is caught instead of aborting.

use std::ffi::{c_char, c_int, c_void};

use libloading::Library;

/// `TfLiteStatus`; `0` is `kTfLiteOk`.
pub(crate) type Status = c_int;
/// `kTfLiteOk`.
pub(crate) const STATUS_OK: Status = 0;

/// Opaque `TfLiteModel*`, `TfLiteInterpreterOptions*`, `TfLiteInterpreter*`, `TfLiteDelegate*`,
/// `TfLiteTensor*`.
pub(crate) type Ptr = *mut c_void;

/// `TfLiteQuantizationParams` (`float scale; int32_t zero_point;`): the legacy per-tensor
/// parameters. For a tensor that is not per-tensor quantized TF Lite reports `{0, 0}`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct QuantizationParams {
    pub scale: f32,
    pub zero_point: i32,
}

/// Declares the function table, its run-time loader and (feature `static`) its link-time twin.
macro_rules! api {
    ($( $field:ident = $sym:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)? ; )*) => {
        /// The classic C API functions Guardian calls.
        pub(crate) struct Api {
            $( pub $field: unsafe extern "C-unwind" fn($($ty),*) $(-> $ret)?, )*
        }

        impl Api {
            /// Resolves every function in `lib`; `Err(name)` names the first one missing.
            pub(crate) fn load(lib: &Library) -> Result<Api, &'static str> {
                Ok(Api {
                    $( $field: {
                        // SAFETY: the symbol is used with the prototype of the C API headers
                        // (identical in every version this crate supports, see the module doc).
                        let f = unsafe {
                            lib.get::<unsafe extern "C-unwind" fn($($ty),*) $(-> $ret)?>(
                                concat!(stringify!($sym), "\0").as_bytes(),
                            )
                        }
                        .map_err(|_| stringify!($sym))?;
                        *f
                    }, )*
                })
            }

            /// The functions resolved at the app's link time (iOS `TensorFlowLiteC`).
            #[cfg(feature = "static")]
            pub(crate) fn linked() -> Api {
                Api { $( $field: linked::$sym, )* }
            }
        }

        #[cfg(feature = "static")]
        #[allow(non_snake_case)]
        mod linked {
            use super::*;
            extern "C-unwind" {
                $( pub(super) fn $sym($($arg: $ty),*) $(-> $ret)?; )*
            }
        }
    };
}

api! {
    version = TfLiteVersion() -> *const c_char;
    model_create = TfLiteModelCreate(model_data: *const c_void, model_size: usize) -> Ptr;
    model_delete = TfLiteModelDelete(model: Ptr);
    options_create = TfLiteInterpreterOptionsCreate() -> Ptr;
    options_delete = TfLiteInterpreterOptionsDelete(options: Ptr);
    options_set_num_threads = TfLiteInterpreterOptionsSetNumThreads(options: Ptr, num_threads: i32);
    options_add_delegate = TfLiteInterpreterOptionsAddDelegate(options: Ptr, delegate: Ptr);
    xnnpack_create = TfLiteXNNPackDelegateCreate(options: *const c_void) -> Ptr;
    xnnpack_delete = TfLiteXNNPackDelegateDelete(delegate: Ptr);
    interpreter_create = TfLiteInterpreterCreate(model: Ptr, options: Ptr) -> Ptr;
    interpreter_delete = TfLiteInterpreterDelete(interpreter: Ptr);
    input_count = TfLiteInterpreterGetInputTensorCount(interpreter: Ptr) -> i32;
    output_count = TfLiteInterpreterGetOutputTensorCount(interpreter: Ptr) -> i32;
    input_tensor = TfLiteInterpreterGetInputTensor(interpreter: Ptr, index: i32) -> Ptr;
    output_tensor = TfLiteInterpreterGetOutputTensor(interpreter: Ptr, index: i32) -> Ptr;
    allocate_tensors = TfLiteInterpreterAllocateTensors(interpreter: Ptr) -> Status;
    invoke = TfLiteInterpreterInvoke(interpreter: Ptr) -> Status;
    tensor_type = TfLiteTensorType(tensor: Ptr) -> c_int;
    tensor_num_dims = TfLiteTensorNumDims(tensor: Ptr) -> i32;
    tensor_dim = TfLiteTensorDim(tensor: Ptr, dim_index: i32) -> i32;
    tensor_byte_size = TfLiteTensorByteSize(tensor: Ptr) -> usize;
    tensor_quantization = TfLiteTensorQuantizationParams(tensor: Ptr) -> QuantizationParams;
    copy_from_buffer = TfLiteTensorCopyFromBuffer(tensor: Ptr, input_data: *const c_void, input_data_size: usize) -> Status;
    copy_to_buffer = TfLiteTensorCopyToBuffer(tensor: Ptr, output_data: *mut c_void, output_data_size: usize) -> Status;
}

/// The name of a `TfLiteStatus`.
pub(crate) fn status_name(status: Status) -> &'static str {
    match status {
        0 => "kTfLiteOk",
        1 => "kTfLiteError",
        2 => "kTfLiteDelegateError",
        3 => "kTfLiteApplicationError",
        4 => "kTfLiteDelegateDataNotFound",
        5 => "kTfLiteDelegateDataWriteError",
        6 => "kTfLiteDelegateDataReadError",
        7 => "kTfLiteUnresolvedOps",
        8 => "kTfLiteCancelled",
        _ => "unknown status",
    }
}
