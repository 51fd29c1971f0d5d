//! [`ClassicScorer`]: one Guardian model in a classic TensorFlow Lite interpreter with the
//! XNNPACK delegate.

use std::ffi::c_void;
use std::path::Path;
use std::ptr;

use guardian_core::{ModelSpec, QuantParams, ScoreError, Scorer};
use guardian_litert::{
    check_model_bytes, check_tensor, AlignedBytes, ExpectedModel, FoundQuant, RuntimeError,
    OUTPUT_SHAPE,
};

use crate::error::{exception, ClassicError};
use crate::ffi::{self, Api, Ptr};
use crate::library::ClassicLibrary;

/// Threads of the interpreter's own kernels. XNNPACK gets its default options
/// (`TfLiteXNNPackDelegateCreate(NULL)`: no thread pool, it runs on the calling thread), so one
/// invoke uses one thread, as the LiteRT backend does by default.
pub const NUM_THREADS: i32 = 1;

/// A Guardian model in a classic TensorFlow Lite interpreter (XNNPACK delegate, one thread),
/// validated against its model card exactly as `guardian_litert::LiteRtScorer` validates it,
/// with its tensors allocated once.
///
/// Invariants established by the constructors, before the first window:
/// - the bytes have the card's SHA-256 and pass the shared flatbuffer pre-check
///   (`guardian_litert::check_model_bytes`), then TF Lite's own verifier;
/// - the interpreter has exactly one input and one output tensor;
/// - input: int8, shape `[1, window_frames, 1, channels]`, per-tensor quantization equal to the
///   card's; output: int8, shape `[1, 1]`, likewise (`guardian_litert::check_tensor`).
///
/// [`invoke_raw`](Self::invoke_raw) copies a window into the input tensor
/// (`TfLiteTensorCopyFromBuffer`), invokes, and copies the int8 output out: no allocation.
///
/// Dropping the scorer deletes, in order: the interpreter, the XNNPACK delegate (which must
/// outlive the interpreter), the model, and then the model bytes TF Lite was reading from.
pub struct ClassicScorer {
    lib: ClassicLibrary,
    model: Ptr,
    options: Ptr,
    delegate: Ptr,
    interpreter: Ptr,
    input: Ptr,
    output: Ptr,
    input_len: usize,
    input_quant: QuantParams,
    output_quant: QuantParams,
    // TfLiteModelCreate does not copy: the bytes must outlive the model and every interpreter
    // made from it. Declared last so it is dropped after `Drop::drop` deleted them.
    model_bytes: AlignedBytes,
}

// SAFETY: the raw pointers are TF Lite objects owned exclusively by this value (created in the
// constructor, deleted in `Drop`, never handed out), so moving the value moves their sole owner.
// A TF Lite interpreter may be used from any thread, one thread at a time; every method that
// touches them takes `&mut self` (or only reads fields), so they are never used from two threads
// at once. `ClassicLibrary` is `Send + Sync`. `ClassicScorer` is deliberately not `Sync`.
unsafe impl Send for ClassicScorer {}

const _: () = {
    const fn assert_send<T: Send>() {}
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send::<ClassicScorer>();
    assert_send_sync::<ClassicLibrary>();
};

impl std::fmt::Debug for ClassicScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassicScorer")
            .field("library", &self.lib.describe())
            .field("model_bytes", &self.model_bytes.len())
            .field("input_len", &self.input_len)
            .field("input_quant", &self.input_quant)
            .field("output_quant", &self.output_quant)
            .finish()
    }
}

/// The classic interpreter's `call` failed (with its status, when it returns one).
fn interp_err<T>(call: &'static str, status: Option<i32>) -> Result<T, ClassicError> {
    Err(ClassicError::Interpreter { call, status })
}

impl ClassicScorer {
    /// Reads a `.tflite` file and builds a scorer from its bytes (see [`Self::from_bytes`]).
    pub fn from_file(
        lib: &ClassicLibrary,
        path: impl AsRef<Path>,
        spec: &ModelSpec,
        window_frames: usize,
    ) -> Result<Self, ClassicError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| RuntimeError::ModelIo {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(lib, &bytes, spec, window_frames)
    }

    /// Builds a scorer from the bytes of a `.tflite` model, checking it against `spec` (one
    /// model of the card) and the card's `window_frames`.
    ///
    /// Steps: check the spec ([`ExpectedModel::from_spec`]), the checksum and structure
    /// ([`check_model_bytes`]) before TF Lite sees the bytes; copy them into 64-byte-aligned
    /// memory owned by the scorer; `TfLiteModelCreate`; interpreter options with one thread and
    /// the XNNPACK delegate; `TfLiteInterpreterCreate`; check the input and output tensors
    /// against the card; `TfLiteInterpreterAllocateTensors`.
    pub fn from_bytes(
        lib: &ClassicLibrary,
        bytes: &[u8],
        spec: &ModelSpec,
        window_frames: usize,
    ) -> Result<Self, ClassicError> {
        let expected = ExpectedModel::from_spec(spec, window_frames)?;
        check_model_bytes(bytes, spec)?;
        let model_bytes = AlignedBytes::copy_from(bytes);
        // If TF Lite throws, the partially built scorer is dropped while the exception unwinds,
        // deleting what was created.
        guardian_litert::guard(move || Self::build(lib, model_bytes, &expected))
            .unwrap_or_else(|what| Err(exception("loading the model", what)))
    }

    /// The TF Lite part of the constructor (runs inside `guard`).
    fn build(
        lib: &ClassicLibrary,
        model_bytes: AlignedBytes,
        expected: &ExpectedModel,
    ) -> Result<Self, ClassicError> {
        // Partially built scorer: `Drop` deletes whatever was created if a later step fails.
        let mut s = ClassicScorer {
            lib: lib.clone(),
            model: ptr::null_mut(),
            options: ptr::null_mut(),
            delegate: ptr::null_mut(),
            interpreter: ptr::null_mut(),
            input: ptr::null_mut(),
            output: ptr::null_mut(),
            input_len: expected.input_len,
            input_quant: expected.input_quant,
            output_quant: expected.output_quant,
            model_bytes,
        };
        s.create_interpreter()?;
        s.bind_tensors(expected)?;
        s.allocate()?;
        Ok(s)
    }

    /// Creates the model (reading the bytes in place), the options with XNNPACK, and the
    /// interpreter; every call uses the C API's prototype (see `ffi`) and passes only pointers
    /// this library returned and that are still alive.
    fn create_interpreter(&mut self) -> Result<(), ClassicError> {
        let api = self.lib.api();
        // SAFETY: the bytes are valid for their length and outlive the model (the scorer owns
        // both and drops the bytes last); TF Lite reads them in place.
        self.model = unsafe {
            (api.model_create)(
                self.model_bytes.as_ptr().cast::<c_void>(),
                self.model_bytes.len(),
            )
        };
        if self.model.is_null() {
            return Err(RuntimeError::CorruptModel {
                status: None,
                reason: "TensorFlow Lite rejected the model (TfLiteModelCreate: the flatbuffer \
                         verifier or the model loader refused it)"
                    .into(),
            }
            .into());
        }
        // SAFETY: takes nothing; the result is checked for null before use.
        self.options = unsafe { (api.options_create)() };
        if self.options.is_null() {
            return interp_err("TfLiteInterpreterOptionsCreate", None);
        }
        // SAFETY: `self.options` is live (checked non-null above).
        unsafe { (api.options_set_num_threads)(self.options, NUM_THREADS) };
        // SAFETY: NULL options are allowed and mean the defaults of whatever version this is
        // (see `ffi`); the result is checked for null before use.
        self.delegate = unsafe { (api.xnnpack_create)(ptr::null()) };
        if self.delegate.is_null() {
            return interp_err("TfLiteXNNPackDelegateCreate", None);
        }
        // SAFETY: options and delegate are live; the delegate outlives the interpreter (`Drop`
        // deletes the interpreter first).
        unsafe { (api.options_add_delegate)(self.options, self.delegate) };
        // SAFETY: model and options are live; the result is checked for null before use.
        self.interpreter = unsafe { (api.interpreter_create)(self.model, self.options) };
        if self.interpreter.is_null() {
            return interp_err("TfLiteInterpreterCreate", None);
        }
        // SAFETY: the caller may delete the options once the interpreter exists (the delegate
        // must outlive the interpreter, and does: it is deleted after it); nulled right after,
        // so `Drop` does not delete them again.
        unsafe { (api.options_delete)(self.options) };
        self.options = ptr::null_mut();
        Ok(())
    }

    /// Checks the interpreter has one input and one output tensor of the card's shapes,
    /// types and quantization, and keeps the quantization TF Lite reports.
    fn bind_tensors(&mut self, expected: &ExpectedModel) -> Result<(), ClassicError> {
        let api = self.lib.api();
        // SAFETY: the interpreter is live (checked non-null above).
        let (n_in, n_out) = unsafe {
            (
                (api.input_count)(self.interpreter),
                (api.output_count)(self.interpreter),
            )
        };
        if (n_in, n_out) != (1, 1) {
            return Err(RuntimeError::SignatureMismatch {
                expected: "1 input and 1 output tensor".into(),
                found: format!("{n_in} input(s) and {n_out} output(s)"),
            }
            .into());
        }
        // SAFETY: the interpreter is live and has one input (index 0 exists).
        self.input = unsafe { (api.input_tensor)(self.interpreter, 0) };
        // SAFETY: the interpreter is live and has one output (index 0 exists).
        self.output = unsafe { (api.output_tensor)(self.interpreter, 0) };
        if self.input.is_null() || self.output.is_null() {
            return interp_err("TfLiteInterpreterGet{Input,Output}Tensor", None);
        }
        // SAFETY: `self.input` is a live tensor (non-null) of the live interpreter.
        self.input_quant = unsafe {
            validate_tensor(
                api,
                self.input,
                "input",
                &expected.input_shape,
                expected.input_quant,
            )
        }?;
        // SAFETY: `self.output` is a live tensor (non-null) of the live interpreter.
        self.output_quant = unsafe {
            validate_tensor(
                api,
                self.output,
                "output",
                &OUTPUT_SHAPE,
                expected.output_quant,
            )
        }?;
        Ok(())
    }

    /// Allocates the tensors and checks their byte sizes.
    fn allocate(&mut self) -> Result<(), ClassicError> {
        let api = self.lib.api();
        // SAFETY: the interpreter is live.
        let status = unsafe { (api.allocate_tensors)(self.interpreter) };
        if status != ffi::STATUS_OK {
            return interp_err("TfLiteInterpreterAllocateTensors", Some(status));
        }
        // Tensor pointers stay valid after allocation (TF Lite keeps its tensor array), but read
        // them again rather than rely on it.
        // SAFETY: the interpreter is live and has one input (index 0 exists).
        self.input = unsafe { (api.input_tensor)(self.interpreter, 0) };
        // SAFETY: the interpreter is live and has one output (index 0 exists).
        self.output = unsafe { (api.output_tensor)(self.interpreter, 0) };
        // SAFETY: both tensors are read only if non-null, as tensors of the live interpreter.
        let sizes = unsafe {
            (!self.input.is_null() && !self.output.is_null()).then(|| {
                (
                    (api.tensor_byte_size)(self.input),
                    (api.tensor_byte_size)(self.output),
                )
            })
        };
        if sizes != Some((self.input_len, 1)) {
            return interp_err("TfLiteTensorByteSize (tensor sizes after allocation)", None);
        }
        Ok(())
    }

    /// The bare invoke path: copies `input` (`window_frames * channels` int8 values,
    /// time-major, quantized with [`Self::input_quant`]) into the input tensor, invokes, and
    /// returns the raw int8 output (`score = (q - zero_point) * scale` with
    /// [`Self::output_quant`]).
    ///
    /// Allocates nothing. Errors: `ClassicError::Model(RuntimeError::InputLength)` for a window
    /// of the wrong size, [`ClassicError::Invoke`] if TF Lite fails or throws.
    pub fn invoke_raw(&mut self, input: &[i8]) -> Result<i8, ClassicError> {
        if input.len() != self.input_len {
            return Err(RuntimeError::InputLength {
                expected: self.input_len,
                found: input.len(),
            }
            .into());
        }
        let api = self.lib.api();
        let (interpreter, in_tensor, out_tensor) = (self.interpreter, self.input, self.output);
        let invoke_err = |status: i32, call: &str| ClassicError::Invoke {
            status: Some(status),
            reason: call.to_owned(),
        };
        // SAFETY: live interpreter and tensors; the input tensor holds exactly `input_len` bytes
        // and the output 1 (checked at construction; CopyFrom/ToBuffer check the sizes again).
        let body = || unsafe {
            let st = (api.copy_from_buffer)(in_tensor, input.as_ptr().cast(), input.len());
            if st != ffi::STATUS_OK {
                return Err(invoke_err(st, "TfLiteTensorCopyFromBuffer"));
            }
            let st = (api.invoke)(interpreter);
            if st != ffi::STATUS_OK {
                return Err(invoke_err(st, "TfLiteInterpreterInvoke"));
            }
            let mut out = 0i8;
            let st = (api.copy_to_buffer)(out_tensor, (&mut out as *mut i8).cast(), 1);
            if st != ffi::STATUS_OK {
                return Err(invoke_err(st, "TfLiteTensorCopyToBuffer"));
            }
            Ok(out)
        };
        guardian_litert::guard(body).unwrap_or_else(|what| {
            Err(ClassicError::Invoke {
                status: None,
                reason: match exception("invoking", what) {
                    ClassicError::Exception { what, .. } => format!("C++ exception: {what}"),
                    other => other.to_string(),
                },
            })
        })
    }

    /// Quantization of the input tensor, as read from the model (equal to the card's).
    pub fn input_quant(&self) -> QuantParams {
        self.input_quant
    }

    /// Quantization of the output tensor, as read from the model (equal to the card's).
    pub fn output_quant(&self) -> QuantParams {
        self.output_quant
    }

    /// Number of int8 values one window must have: `window_frames * channels`.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// The library this scorer runs on.
    pub fn library(&self) -> &ClassicLibrary {
        &self.lib
    }
}

impl Scorer for ClassicScorer {
    fn score(&mut self, input: &[i8]) -> Result<i8, ScoreError> {
        self.invoke_raw(input).map_err(ScoreError::from)
    }
}

impl Drop for ClassicScorer {
    fn drop(&mut self) {
        let api = self.lib.api();
        // SAFETY: each object was created by this library, is owned by this value only, and is
        // deleted once (then nulled). Order: the interpreter, then the delegate it used, the
        // options (only still alive if construction failed before the interpreter existed), the
        // model; the bytes (a field) are dropped after this function returns.
        let _ = guardian_litert::guard(|| unsafe {
            if !self.interpreter.is_null() {
                (api.interpreter_delete)(self.interpreter);
                self.interpreter = ptr::null_mut();
            }
            self.input = ptr::null_mut();
            self.output = ptr::null_mut();
            if !self.options.is_null() {
                (api.options_delete)(self.options);
                self.options = ptr::null_mut();
            }
            if !self.delegate.is_null() {
                (api.xnnpack_delete)(self.delegate);
                self.delegate = ptr::null_mut();
            }
            if !self.model.is_null() {
                (api.model_delete)(self.model);
                self.model = ptr::null_mut();
            }
        });
    }
}

/// Checks one tensor against the card with the check shared with the LiteRT backend.
///
/// # Safety
/// `tensor` must be a live tensor of a live interpreter of this library.
unsafe fn validate_tensor(
    api: &Api,
    tensor: Ptr,
    name: &'static str,
    shape: &[usize],
    quant: QuantParams,
) -> Result<QuantParams, ClassicError> {
    // SAFETY: `tensor` is a live tensor of a live interpreter (the function contract).
    let (element_type, rank) =
        unsafe { ((api.tensor_type)(tensor), (api.tensor_num_dims)(tensor)) };
    // A negative rank: TF Lite has no dims for the tensor (reported as "no ranked shape").
    let dims: Option<Vec<i64>> = (0..=8).contains(&rank).then(|| {
        (0..rank)
            // SAFETY: `tensor` is live (the function contract) and `d < rank`.
            .map(|d| i64::from(unsafe { (api.tensor_dim)(tensor, d) }))
            .collect()
    });
    let found_quant = || {
        // SAFETY: `tensor` is a live tensor of a live interpreter (the function contract), and
        // `check_tensor` calls this before returning.
        let q = unsafe { (api.tensor_quantization)(tensor) };
        // TF Lite reports {0, 0} for a tensor without (or with per-channel) quantization.
        Ok(if q.scale == 0.0 && q.zero_point == 0 {
            FoundQuant::Other("no per-tensor quantization")
        } else {
            FoundQuant::PerTensor {
                scale: q.scale,
                zero_point: i64::from(q.zero_point),
            }
        })
    };
    Ok(check_tensor(
        name,
        element_type,
        dims.as_deref(),
        found_quant,
        shape,
        quant,
    )?)
}
