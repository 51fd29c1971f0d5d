//! Hand-written, minimal FFI for the LiteRT **2.1.4** C API, resolved at run time.
//!
//! Only the functions Guardian calls are declared. Every signature and struct layout below was
//! copied from the v2.1.4 headers (`litert/c/*.h`, as shipped by `litert-sys 0.2.1`) and checked
//! against its bindgen output for `x86_64-unknown-linux-gnu`.
//!
//! The API is pinned because it is not stable across patch releases: from 2.1.6 on,
//! `LiteRtCreateModelFromFile` and `LiteRtCreateModelFromBuffer` take a `LiteRtEnvironment`
//! as a new first argument. Calling a 2.1.6+ library through these declarations would pass the
//! buffer pointer where the environment is expected, so [`Api::load`] checks the library's
//! symbol fingerprint ([`FINGERPRINT_PRESENT`], [`FINGERPRINT_ABSENT`]) and refuses anything that
//! is not 2.1.4 before a single function is called. LiteRT 2.1.4 exports no runtime version
//! getter (`LiteRtGetVersion` does not exist; `LiteRtCompareApiVersion` only compares two
//! caller-supplied structs and is not even exported by 2.1.4), hence the fingerprint.

use std::ffi::{c_char, c_int, c_void};

use libloading::Library;

use crate::library::PINNED_LITERT_VERSION;

/// `LiteRtStatus` (a C enum, `int`-sized); `0` is `kLiteRtStatusOk`.
pub(crate) type Status = c_int;
/// Every LiteRT object is an opaque pointer (`LITERT_DEFINE_HANDLE`).
pub(crate) type Handle = *mut c_void;
/// `LiteRtParamIndex` (`size_t`).
pub(crate) type ParamIndex = usize;

pub(crate) const STATUS_OK: Status = 0;

/// `kLiteRtRankedTensorType` (`LiteRtTensorTypeId`).
pub(crate) const TENSOR_TYPE_RANKED: c_int = 0;
/// `kLiteRtQuantizationPerTensor` (`LiteRtQuantizationTypeId`).
pub(crate) const QUANTIZATION_PER_TENSOR: c_int = 1;
/// `kLiteRtHwAcceleratorCpu` (`LiteRtHwAccelerators`).
pub(crate) const HW_ACCELERATOR_CPU: c_int = 1;
/// `kLiteRtTensorBufferLockModeRead`.
pub(crate) const LOCK_MODE_READ: c_int = 0;
/// `kLiteRtTensorBufferLockModeWrite`.
pub(crate) const LOCK_MODE_WRITE: c_int = 1;
/// `LITERT_TENSOR_MAX_RANK`.
pub(crate) const MAX_RANK: usize = 8;

/// Identifier of the CPU (XNNPACK) accelerator's opaque options in 2.1.4
/// (`LrtGetCpuOptionsIdentifier()` returns `"xnnpack"`; later versions renamed it).
pub(crate) const CPU_OPTIONS_IDENTIFIER: &std::ffi::CStr = c"xnnpack";

/// `kLiteRtElementTypeInt8`, equal to the classic API's `kTfLiteInt8`: the only element type
/// Guardian's models use.
pub const ELEMENT_TYPE_INT8: i32 = 9;

/// The name of an element type (`LiteRtElementType` / `TfLiteType` numbering).
pub fn element_type_name(t: i32) -> &'static str {
    match t {
        0 => "none",
        1 => "float32",
        2 => "int32",
        3 => "uint8",
        4 => "int64",
        5 => "string",
        6 => "bool",
        7 => "int16",
        8 => "complex64",
        9 => "int8",
        10 => "float16",
        11 => "float64",
        12 => "complex128",
        13 => "uint64",
        16 => "uint32",
        17 => "uint16",
        18 => "int4",
        19 => "bfloat16",
        20 => "int2",
        _ => "unknown",
    }
}

/// The name of a `LiteRtQuantizationTypeId` other than per-tensor (`1`), for messages.
pub(crate) fn quantization_type_name(q_type: c_int) -> &'static str {
    match q_type {
        0 => "no quantization",
        2 => "per-channel quantization",
        3 => "block-wise quantization",
        _ => "unknown quantization",
    }
}

/// `LiteRtLayout`: `unsigned rank : 7; bool has_strides : 1; int32_t dimensions[8];
/// uint32_t strides[8];` (68 bytes, `dimensions` at offset 4).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Layout {
    /// Bit-field byte: bits 0-6 are the rank, bit 7 `has_strides` (GCC/Clang allocate bit-fields
    /// from the least significant bit on little-endian targets).
    pub rank_bits: u8,
    _pad: [u8; 3],
    /// Dimensions, valid up to `rank`; negative means dynamic.
    pub dimensions: [i32; MAX_RANK],
    /// Strides, used only if `has_strides`.
    pub strides: [u32; MAX_RANK],
}

impl Layout {
    /// The rank (number of valid entries in `dimensions`).
    pub(crate) fn rank(&self) -> usize {
        usize::from(self.rank_bits & 0x7f)
    }

    /// The valid dimensions.
    pub(crate) fn dims(&self) -> &[i32] {
        &self.dimensions[..self.rank().min(MAX_RANK)]
    }
}

/// `LiteRtRankedTensorType`: `LiteRtElementType element_type; LiteRtLayout layout;` (72 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct RankedTensorType {
    /// `LiteRtElementType`.
    pub element_type: c_int,
    /// Shape.
    pub layout: Layout,
}

impl RankedTensorType {
    pub(crate) fn zeroed() -> Self {
        RankedTensorType {
            element_type: 0,
            layout: Layout {
                rank_bits: 0,
                _pad: [0; 3],
                dimensions: [0; MAX_RANK],
                strides: [0; MAX_RANK],
            },
        }
    }
}

/// `LiteRtAny` restricted to the integer member: `LiteRtAnyType type;` then a union whose
/// `int64_t int_value` sits at offset 8 (16 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct AnyInt {
    /// `kLiteRtAnyTypeInt` (2).
    pub any_type: c_int,
    /// `int_value`.
    pub int_value: i64,
}

/// `LiteRtEnvOption`: `LiteRtEnvOptionTag tag; LiteRtAny value;` (24 bytes, `value` at 8).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct EnvOption {
    /// `LiteRtEnvOptionTag`.
    pub tag: c_int,
    /// The value (integer options only here).
    pub value: AnyInt,
}

/// `kLiteRtAnyTypeInt`.
pub(crate) const ANY_TYPE_INT: c_int = 2;
/// `kLiteRtEnvOptionTagAutoRegisterAccelerators`: bitmask of accelerators to register.
pub(crate) const ENV_OPTION_AUTO_REGISTER_ACCELERATORS: c_int = 24;

/// `LiteRtQuantizationPerTensor`: `float scale; int64_t zero_point;` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct QuantizationPerTensor {
    pub scale: f32,
    pub zero_point: i64,
}

// The headers static_assert these sizes on 64-bit targets; mirror them so a mistake in the
// declarations above fails the build instead of corrupting memory.
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(std::mem::size_of::<Layout>() == 68);
    assert!(std::mem::offset_of!(Layout, dimensions) == 4);
    assert!(std::mem::offset_of!(Layout, strides) == 36);
    assert!(std::mem::size_of::<RankedTensorType>() == 72);
    assert!(std::mem::offset_of!(RankedTensorType, layout) == 4);
    assert!(std::mem::size_of::<QuantizationPerTensor>() == 16);
    assert!(std::mem::size_of::<AnyInt>() == 16);
    assert!(std::mem::size_of::<EnvOption>() == 24);
    assert!(std::mem::offset_of!(EnvOption, value) == 8);
};

/// Symbols whose presence identifies a 2.1.4 library: `LiteRtGetCustomEvent` appeared in 2.1.4
/// (absent from 2.1.3), `LiteRtIsSameLayout` was removed in 2.1.5.
pub(crate) const FINGERPRINT_PRESENT: &[&str] = &["LiteRtGetCustomEvent", "LiteRtIsSameLayout"];
/// Symbols whose presence identifies a newer, incompatible library: `LiteRtCreateModelFromFd`
/// arrived in 2.1.6 together with the environment argument of `LiteRtCreateModelFrom*`;
/// `LiteRtEnvironmentSupportsFP16` arrived in 2.1.5.
pub(crate) const FINGERPRINT_ABSENT: &[&str] =
    &["LiteRtCreateModelFromFd", "LiteRtEnvironmentSupportsFP16"];

/// Why [`Api::load`] refused a library.
pub(crate) enum ApiError {
    /// A function Guardian calls is not exported.
    MissingSymbol(&'static str),
    /// The symbol fingerprint says this is not LiteRT 2.1.4.
    WrongVersion(String),
}

macro_rules! api {
    ($( $field:ident = $sym:literal : fn($($arg:ty),*) $(-> $ret:ty)? ; )*) => {
        /// Function pointers into a loaded `libLiteRt.so` 2.1.4.
        ///
        /// Declared `"C-unwind"`: LiteRT 2.1.4 can throw C++ exceptions through its C API, so
        /// every call is made inside [`guard`], which catches them.
        ///
        /// Valid only while the [`Library`] they were resolved from stays loaded; the crate never
        /// unloads it (see `LiteRtLibrary`).
        pub(crate) struct Api {
            $( pub $field: unsafe extern "C-unwind" fn($($arg),*) $(-> $ret)?, )*
        }

        impl Api {
            /// Resolves every function, after checking the 2.1.4 fingerprint.
            pub(crate) fn load(lib: &Library) -> Result<Api, ApiError> {
                let has = |name: &str| {
                    // SAFETY: only the symbol's address is looked up; it is never called.
                    unsafe { lib.get::<*const c_void>(name.as_bytes()).is_ok() }
                };
                let missing: Vec<&str> =
                    FINGERPRINT_PRESENT.iter().copied().filter(|s| !has(s)).collect();
                let extra: Vec<&str> =
                    FINGERPRINT_ABSENT.iter().copied().filter(|s| has(s)).collect();
                if !missing.is_empty() || !extra.is_empty() {
                    let mut why = Vec::new();
                    if !missing.is_empty() {
                        why.push(format!(
                            "lacks {} (older or newer than {PINNED_LITERT_VERSION})",
                            missing.join(", ")
                        ));
                    }
                    if !extra.is_empty() {
                        why.push(format!(
                            "exports {} (2.1.5 or newer; from 2.1.6 on \
                             LiteRtCreateModelFromBuffer takes an environment argument)",
                            extra.join(", ")
                        ));
                    }
                    return Err(ApiError::WrongVersion(why.join("; ")));
                }
                Ok(Api {
                    $( $field: {
                        // SAFETY: the declared type is the 2.1.4 header's prototype for this
                        // symbol (see the module docs), and the fingerprint above established
                        // that the library is 2.1.4.
                        let sym = unsafe {
                            lib.get::<unsafe extern "C-unwind" fn($($arg),*) $(-> $ret)?>(
                                concat!($sym, "\0").as_bytes(),
                            )
                        };
                        *sym.map_err(|_| ApiError::MissingSymbol($sym))?
                    }, )*
                })
            }
        }
    };
}

api! {
    create_environment = "LiteRtCreateEnvironment":
        fn(c_int, *const EnvOption, *mut Handle) -> Status;
    destroy_environment = "LiteRtDestroyEnvironment": fn(Handle);

    // 2.1.4 prototype: (const void* buffer_addr, size_t buffer_size, LiteRtModel* model).
    // 2.1.6+ prepends a LiteRtEnvironment: never call this on such a library.
    create_model_from_buffer = "LiteRtCreateModelFromBuffer":
        fn(*const c_void, usize, *mut Handle) -> Status;
    destroy_model = "LiteRtDestroyModel": fn(Handle);
    get_num_model_signatures = "LiteRtGetNumModelSignatures":
        fn(Handle, *mut ParamIndex) -> Status;
    get_model_signature = "LiteRtGetModelSignature":
        fn(Handle, ParamIndex, *mut Handle) -> Status;
    get_num_signature_inputs = "LiteRtGetNumSignatureInputs":
        fn(Handle, *mut ParamIndex) -> Status;
    get_num_signature_outputs = "LiteRtGetNumSignatureOutputs":
        fn(Handle, *mut ParamIndex) -> Status;
    get_signature_input_tensor_by_index = "LiteRtGetSignatureInputTensorByIndex":
        fn(Handle, ParamIndex, *mut Handle) -> Status;
    get_signature_output_tensor_by_index = "LiteRtGetSignatureOutputTensorByIndex":
        fn(Handle, ParamIndex, *mut Handle) -> Status;
    get_tensor_type_id = "LiteRtGetTensorTypeId": fn(Handle, *mut c_int) -> Status;
    get_ranked_tensor_type = "LiteRtGetRankedTensorType":
        fn(Handle, *mut RankedTensorType) -> Status;
    get_quantization_type_id = "LiteRtGetQuantizationTypeId":
        fn(Handle, *mut c_int) -> Status;
    get_per_tensor_quantization = "LiteRtGetPerTensorQuantization":
        fn(Handle, *mut QuantizationPerTensor) -> Status;

    create_options = "LiteRtCreateOptions": fn(*mut Handle) -> Status;
    destroy_options = "LiteRtDestroyOptions": fn(Handle);
    set_options_hardware_accelerators = "LiteRtSetOptionsHardwareAccelerators":
        fn(Handle, c_int) -> Status;
    add_opaque_options = "LiteRtAddOpaqueOptions": fn(Handle, Handle) -> Status;
    create_opaque_options = "LiteRtCreateOpaqueOptions":
        fn(*const c_char, *mut c_void, Option<unsafe extern "C" fn(*mut c_void)>, *mut Handle)
            -> Status;
    destroy_opaque_options = "LiteRtDestroyOpaqueOptions": fn(Handle);

    create_compiled_model = "LiteRtCreateCompiledModel":
        fn(Handle, Handle, Handle, *mut Handle) -> Status;
    destroy_compiled_model = "LiteRtDestroyCompiledModel": fn(Handle);
    compiled_model_is_fully_accelerated = "LiteRtCompiledModelIsFullyAccelerated":
        fn(Handle, *mut bool) -> Status;
    get_compiled_model_input_buffer_requirements =
        "LiteRtGetCompiledModelInputBufferRequirements":
        fn(Handle, ParamIndex, ParamIndex, *mut Handle) -> Status;
    get_compiled_model_output_buffer_requirements =
        "LiteRtGetCompiledModelOutputBufferRequirements":
        fn(Handle, ParamIndex, ParamIndex, *mut Handle) -> Status;
    run_compiled_model = "LiteRtRunCompiledModel":
        fn(Handle, ParamIndex, usize, *mut Handle, usize, *mut Handle) -> Status;

    create_managed_tensor_buffer_from_requirements =
        "LiteRtCreateManagedTensorBufferFromRequirements":
        fn(Handle, *const RankedTensorType, Handle, *mut Handle) -> Status;
    get_tensor_buffer_size = "LiteRtGetTensorBufferSize": fn(Handle, *mut usize) -> Status;
    lock_tensor_buffer = "LiteRtLockTensorBuffer":
        fn(Handle, *mut *mut c_void, c_int) -> Status;
    unlock_tensor_buffer = "LiteRtUnlockTensorBuffer": fn(Handle) -> Status;
    destroy_tensor_buffer = "LiteRtDestroyTensorBuffer": fn(Handle);
}

/// The name of a `LiteRtStatus` code (2.1.4 does not export `LiteRtGetStatusString`).
pub(crate) fn status_name(status: Status) -> &'static str {
    match status {
        0 => "kLiteRtStatusOk",
        1 => "kLiteRtStatusErrorInvalidArgument",
        2 => "kLiteRtStatusErrorMemoryAllocationFailure",
        3 => "kLiteRtStatusErrorRuntimeFailure",
        4 => "kLiteRtStatusErrorMissingInputTensor",
        5 => "kLiteRtStatusErrorUnsupported",
        6 => "kLiteRtStatusErrorNotFound",
        7 => "kLiteRtStatusErrorTimeoutExpired",
        8 => "kLiteRtStatusErrorWrongVersion",
        9 => "kLiteRtStatusErrorUnknown",
        10 => "kLiteRtStatusErrorAlreadyExists",
        100 => "kLiteRtStatusCancelled",
        500 => "kLiteRtStatusErrorFileIO",
        501 => "kLiteRtStatusErrorInvalidFlatbuffer",
        502 => "kLiteRtStatusErrorDynamicLoading",
        503 => "kLiteRtStatusErrorSerialization",
        504 => "kLiteRtStatusErrorCompilation",
        1000 => "kLiteRtStatusErrorIndexOOB",
        1001 => "kLiteRtStatusErrorInvalidIrType",
        1002 => "kLiteRtStatusErrorInvalidGraphInvariant",
        1003 => "kLiteRtStatusErrorGraphModification",
        1500 => "kLiteRtStatusErrorInvalidToolConfig",
        2000 => "kLiteRtStatusLegalizeNoMatch",
        2001 => "kLiteRtStatusErrorInvalidLegalization",
        3000 => "kLiteRtStatusPatternNoMatch",
        3001 => "kLiteRtStatusInvalidTransformation",
        4000 => "kLiteRtStatusErrorUnsupportedRuntimeVersion",
        4001 => "kLiteRtStatusErrorUnsupportedCompilerVersion",
        4002 => "kLiteRtStatusErrorIncompatibleByteCodeVersion",
        5000 => "kLiteRtStatusErrorUnsupportedOpShapeInferer",
        5001 => "kLiteRtStatusErrorShapeInferenceFailed",
        _ => "unknown LiteRtStatus",
    }
}

// Defined in src/guard.cc (compiled by build.rs): calls `body(ctx)` inside
// `try { } catch (...)`; returns 0, or 1 after copying the exception's `what()` into `what`.
extern "C-unwind" {
    fn guardian_litert_guard(
        body: unsafe extern "C-unwind" fn(*mut c_void),
        ctx: *mut c_void,
        what: *mut c_char,
        what_len: usize,
    ) -> c_int;
}

/// Runs `f` (a block of LiteRT calls, or of any C API calls declared `"C-unwind"`: the classic
/// TensorFlow Lite backend uses it too) so that a C++ exception thrown by the library is caught
/// (by `guard.cc`) and returned as `Err(message)` instead of aborting the process. Rust values
/// owned by `f` are dropped while the exception unwinds. Allocates only if an exception was
/// caught.
///
/// `f` must not panic: a Rust panic unwinding into C++ would be caught there as a foreign
/// exception (everything `f` does here is FFI calls and plain arithmetic).
pub fn guard<R, F: FnOnce() -> R>(f: F) -> Result<R, String> {
    struct Slot<F, R> {
        f: Option<F>,
        out: Option<R>,
    }
    unsafe extern "C-unwind" fn body<R, F: FnOnce() -> R>(ctx: *mut c_void) {
        // SAFETY: `ctx` is the `Slot<F, R>` below, alive and exclusively ours for this call.
        let slot = unsafe { &mut *ctx.cast::<Slot<F, R>>() };
        if let Some(f) = slot.f.take() {
            slot.out = Some(f());
        }
    }
    let mut slot = Slot {
        f: Some(f),
        out: None,
    };
    let mut what: [c_char; 256] = [0; 256];
    // SAFETY: `body::<R, F>` matches the `Slot<F, R>` passed as `ctx`; `what` is writable for
    // its length.
    let caught = unsafe {
        guardian_litert_guard(
            body::<R, F>,
            (&mut slot as *mut Slot<F, R>).cast::<c_void>(),
            what.as_mut_ptr(),
            what.len(),
        )
    };
    match (caught, slot.out) {
        (0, Some(out)) => Ok(out),
        _ => {
            let bytes: Vec<u8> = what
                .iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as u8)
                .collect();
            Err(format!(
                "LiteRT threw a C++ exception: {}",
                String::from_utf8_lossy(&bytes)
            ))
        }
    }
}
