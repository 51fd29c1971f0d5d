//! [`LiteRtScorer`]: one Guardian model compiled for LiteRT's CPU (XNNPACK) accelerator.

use std::ffi::c_void;
use std::path::Path;
use std::ptr;

use guardian_core::{ModelSpec, QuantParams, ScoreError, Scorer};

use crate::card_check::{check_model_bytes, ExpectedModel};
use crate::compile::{
    check_buffer_sizes, compile, create_buffer, create_environment, is_fully_accelerated, Direction,
};
use crate::error::{check, RuntimeError};
use crate::ffi::{self, Api, Handle};
use crate::library::LiteRtLibrary;
use crate::model::{load_model, validate_model};
use crate::model_bytes::AlignedBytes;

/// How to compile a model. `Default` gives one XNNPACK thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorerOptions {
    /// Number of threads XNNPACK may use for one invoke (>= 1). Guardian's models are tiny and
    /// run once per window, so the default of 1 is also the fastest on a phone.
    pub num_threads: u32,
}

impl Default for ScorerOptions {
    fn default() -> Self {
        ScorerOptions { num_threads: 1 }
    }
}

/// A Guardian model loaded into LiteRT 2.1.4, validated against its model card and compiled
/// for the CPU accelerator (XNNPACK), with its input and output buffers allocated once.
///
/// Invariants established by the constructors, before the first window:
/// - the model has exactly one signature, with exactly one input and one output tensor;
/// - input: int8, shape `[1, window_frames, 1, channels]`, per-tensor quantization equal to the
///   card's (`scale` within [`SCALE_RELATIVE_TOLERANCE`](crate::SCALE_RELATIVE_TOLERANCE) relative, `zero_point` exact);
/// - output: int8, shape `[1, 1]`, per-tensor quantization equal to the card's.
///
/// [`invoke_raw`](Self::invoke_raw) then copies a window into the (reused) input buffer, runs
/// the model and reads the single int8 output: no allocation per invoke on the Rust side.
///
/// Dropping the scorer releases, in order: the tensor buffers, the compiled model, the model,
/// the environment, and finally the model bytes LiteRT was reading from.
pub struct LiteRtScorer {
    lib: LiteRtLibrary,
    env: Handle,
    model: Handle,
    compiled: Handle,
    input_buffer: Handle,
    output_buffer: Handle,
    input_len: usize,
    input_quant: QuantParams,
    output_quant: QuantParams,
    fully_accelerated: bool,
    num_threads: u32,
    // LiteRtCreateModelFromBuffer does not copy: "the caller must ensure that the buffer
    // remains valid for the lifetime of the model". Declared last so it is dropped after
    // `Drop::drop` has destroyed the model.
    model_bytes: AlignedBytes,
}

// SAFETY: the raw pointers are LiteRT objects owned exclusively by this value (created in the
// constructor, destroyed in `Drop`, never handed out), so moving the value moves their sole
// owner. LiteRT's CPU path keeps no thread-affine state in them (no thread-local storage, no
// GL/GPU context; XNNPACK with `num_threads > 1` owns its own pool), and every method that
// touches them takes `&mut self`, so they are never used from two threads at once. The
// library handle behind `lib` is `Send + Sync`. `LiteRtScorer` is deliberately not `Sync`.
unsafe impl Send for LiteRtScorer {}

const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<LiteRtScorer>();
};

impl std::fmt::Debug for LiteRtScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiteRtScorer")
            .field("library", &self.lib.path())
            .field("model_bytes", &self.model_bytes.len())
            .field("input_len", &self.input_len)
            .field("input_quant", &self.input_quant)
            .field("output_quant", &self.output_quant)
            .field("fully_accelerated", &self.fully_accelerated)
            .field("num_threads", &self.num_threads)
            .finish()
    }
}

impl LiteRtScorer {
    /// Reads a `.tflite` file and builds a scorer from its bytes (see [`Self::from_bytes`]).
    ///
    /// The file is read into memory rather than handed to `LiteRtCreateModelFromFile`, so the
    /// same pre-checks apply to files and to bytes, and a file replaced on disk later cannot
    /// change a running model.
    pub fn from_file(
        lib: &LiteRtLibrary,
        path: impl AsRef<Path>,
        spec: &ModelSpec,
        window_frames: usize,
    ) -> Result<Self, RuntimeError> {
        Self::from_file_with_options(lib, path, spec, window_frames, &ScorerOptions::default())
    }

    /// [`Self::from_file`] with explicit compilation options.
    pub fn from_file_with_options(
        lib: &LiteRtLibrary,
        path: impl AsRef<Path>,
        spec: &ModelSpec,
        window_frames: usize,
        options: &ScorerOptions,
    ) -> Result<Self, RuntimeError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| RuntimeError::ModelIo {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes_with_options(lib, &bytes, spec, window_frames, options)
    }

    /// Builds a scorer from the bytes of a `.tflite` model, checking it against `spec` (one
    /// model of the card) and the card's `window_frames`.
    ///
    /// The bytes are copied into a 64-byte-aligned buffer owned by the scorer, which LiteRT
    /// reads from for as long as the model lives. Steps: check the spec itself, pre-check the
    /// bytes ([`check_tflite_model`]: minimum size, `TFL3` identifier, flatbuffer
    /// cross-references), load them with LiteRT, validate signature,
    /// shapes, types and quantization, compile for the CPU accelerator, allocate buffers.
    pub fn from_bytes(
        lib: &LiteRtLibrary,
        bytes: &[u8],
        spec: &ModelSpec,
        window_frames: usize,
    ) -> Result<Self, RuntimeError> {
        Self::from_bytes_with_options(lib, bytes, spec, window_frames, &ScorerOptions::default())
    }

    /// [`Self::from_bytes`] with explicit compilation options.
    pub fn from_bytes_with_options(
        lib: &LiteRtLibrary,
        bytes: &[u8],
        spec: &ModelSpec,
        window_frames: usize,
        options: &ScorerOptions,
    ) -> Result<Self, RuntimeError> {
        let expected = ExpectedModel::from_spec(spec, window_frames)?;
        if options.num_threads == 0 || options.num_threads > 64 {
            return Err(RuntimeError::InvalidSpec(format!(
                "num_threads must be in 1..=64, got {}",
                options.num_threads
            )));
        }
        check_model_bytes(bytes, spec)?;
        let model_bytes = AlignedBytes::copy_from(bytes);
        // Every LiteRT call runs inside `guard`: LiteRT 2.1.4 can throw C++ exceptions through
        // its C API on damaged models. If it does, the partially built scorer is dropped
        // (releasing what was created) while the exception unwinds.
        ffi::guard(move || Self::build(lib, model_bytes, &expected, options)).unwrap_or_else(
            |what| {
                Err(RuntimeError::CorruptModel {
                    status: None,
                    reason: format!("while loading and compiling the model, {what}"),
                })
            },
        )
    }

    /// The LiteRT part of the constructors (runs inside `ffi::guard`): environment, model,
    /// checks against the card, compilation, buffers. Each handle is stored in the scorer as
    /// soon as it exists, so that `Drop` releases whatever was created if a later step fails.
    fn build(
        lib: &LiteRtLibrary,
        model_bytes: AlignedBytes,
        expected: &ExpectedModel,
        options: &ScorerOptions,
    ) -> Result<Self, RuntimeError> {
        let mut s = LiteRtScorer {
            lib: lib.clone(),
            env: ptr::null_mut(),
            model: ptr::null_mut(),
            compiled: ptr::null_mut(),
            input_buffer: ptr::null_mut(),
            output_buffer: ptr::null_mut(),
            input_len: expected.input_len,
            input_quant: expected.input_quant,
            output_quant: expected.output_quant,
            fully_accelerated: false,
            num_threads: options.num_threads,
            model_bytes,
        };
        let api = s.lib.api();
        create_environment(api, &mut s.env)?;
        load_model(api, &s.model_bytes, &mut s.model)?;
        let (input, output) = validate_model(api, s.model, expected)?;
        s.input_quant = input.quant;
        s.output_quant = output.quant;
        s.compiled = compile(api, s.env, s.model, options.num_threads)?;
        s.fully_accelerated = is_fully_accelerated(api, s.compiled)?;
        let (env, compiled) = (s.env, s.compiled);
        s.input_buffer = create_buffer(api, env, compiled, Direction::Input, &input.tensor_type)?;
        s.output_buffer =
            create_buffer(api, env, compiled, Direction::Output, &output.tensor_type)?;
        check_buffer_sizes(api, s.input_buffer, s.output_buffer, s.input_len)?;
        Ok(s)
    }

    /// The bare invoke path: copies `input` (`window_frames * channels` int8 values,
    /// time-major, already quantized with [`Self::input_quant`]) into the locked input buffer,
    /// runs the model, and returns the raw int8 output (dequantize with
    /// [`Self::output_quant`]: `score = (q - zero_point) * scale`).
    ///
    /// Allocates nothing on the Rust side. Errors: [`RuntimeError::InputLength`] for a window of
    /// the wrong size, [`RuntimeError::Invoke`] if LiteRT fails, [`RuntimeError::LiteRt`] if a
    /// buffer cannot be locked.
    pub fn invoke_raw(&mut self, input: &[i8]) -> Result<i8, RuntimeError> {
        if input.len() != self.input_len {
            return Err(RuntimeError::InputLength {
                expected: self.input_len,
                found: input.len(),
            });
        }
        let api = self.lib.api();
        let (input_buffer, output_buffer, compiled) =
            (self.input_buffer, self.output_buffer, self.compiled);
        let body = || {
            // SAFETY: `input_buffer` is a live host-memory buffer of at least `input_len` bytes
            // (checked at construction), and `input` holds `input_len` values (checked above).
            unsafe { write_buffer(api, input_buffer, input) }?;
            // SAFETY: the compiled model and both buffers are live and were made for
            // signature 0's one input and one output.
            unsafe { run(api, compiled, input_buffer, output_buffer) }?;
            // SAFETY: `output_buffer` is a live host-memory buffer of at least 1 byte (checked
            // at construction).
            unsafe { read_first(api, output_buffer) }
        };
        ffi::guard(body).unwrap_or_else(|what| {
            Err(RuntimeError::Invoke {
                status: None,
                reason: what,
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

    /// Whether LiteRT reports the compiled model as fully accelerated, i.e. every op runs in
    /// the XNNPACK delegate (`LiteRtCompiledModelIsFullyAccelerated`); `false` means some ops
    /// fall back to LiteRT's built-in kernels.
    pub fn fully_accelerated(&self) -> bool {
        self.fully_accelerated
    }

    /// Number of int8 values one window must have: `window_frames * channels`.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Number of XNNPACK threads the model was compiled with.
    pub fn num_threads(&self) -> u32 {
        self.num_threads
    }

    /// The library this scorer runs on.
    pub fn library(&self) -> &LiteRtLibrary {
        &self.lib
    }
}

impl Scorer for LiteRtScorer {
    fn score(&mut self, input: &[i8]) -> Result<i8, ScoreError> {
        self.invoke_raw(input).map_err(ScoreError::from)
    }
}

impl Drop for LiteRtScorer {
    fn drop(&mut self) {
        let api = self.lib.api();
        // SAFETY: each handle was created by this library, is owned by this value only, and is
        // destroyed once (then nulled). Order: buffers and compiled model before the model
        // they were made from, everything before the environment; the model bytes (a field)
        // are dropped after this function returns.
        let _ = ffi::guard(|| unsafe {
            for buffer in [&mut self.input_buffer, &mut self.output_buffer] {
                if !buffer.is_null() {
                    (api.destroy_tensor_buffer)(*buffer);
                    *buffer = ptr::null_mut();
                }
            }
            if !self.compiled.is_null() {
                (api.destroy_compiled_model)(self.compiled);
                self.compiled = ptr::null_mut();
            }
            if !self.model.is_null() {
                (api.destroy_model)(self.model);
                self.model = ptr::null_mut();
            }
            if !self.env.is_null() {
                (api.destroy_environment)(self.env);
                self.env = ptr::null_mut();
            }
        });
    }
}

/// Copies `input` into `buffer`, locked for writing meanwhile.
///
/// # Safety
/// `buffer` must be a live host-memory tensor buffer of at least `input.len()` bytes.
unsafe fn write_buffer(api: &Api, buffer: Handle, input: &[i8]) -> Result<(), RuntimeError> {
    let mut dst: *mut c_void = ptr::null_mut();
    // SAFETY: the 2.1.4 prototype; `buffer` is live (the function contract); the out-pointer
    // is a local.
    let st = unsafe { (api.lock_tensor_buffer)(buffer, &mut dst, ffi::LOCK_MODE_WRITE) };
    check(st, "LiteRtLockTensorBuffer")?;
    if dst.is_null() {
        // SAFETY: `buffer` is live and locked.
        let _ = unsafe { (api.unlock_tensor_buffer)(buffer) };
        return Err(RuntimeError::NullPointer {
            call: "LiteRtLockTensorBuffer",
        });
    }
    // SAFETY: `dst` is the locked buffer's memory, at least `input.len()` bytes (the function
    // contract), owned by LiteRT and so disjoint from `input`.
    unsafe { ptr::copy_nonoverlapping(input.as_ptr(), dst.cast::<i8>(), input.len()) };
    // SAFETY: `buffer` is live and locked; `dst` is not used after this.
    let st = unsafe { (api.unlock_tensor_buffer)(buffer) };
    check(st, "LiteRtUnlockTensorBuffer")
}

/// Runs `compiled` (signature 0) from `input` into `output`.
///
/// # Safety
/// `compiled`, `input` and `output` must be live, the buffers made for signature 0's one input
/// and one output.
unsafe fn run(
    api: &Api,
    compiled: Handle,
    input: Handle,
    output: Handle,
) -> Result<(), RuntimeError> {
    let mut inputs = [input];
    let mut outputs = [output];
    // SAFETY: the 2.1.4 prototype; the handles are live (the function contract); each array
    // holds exactly the one handle its length says.
    let status = unsafe {
        (api.run_compiled_model)(
            compiled,
            0,
            inputs.len(),
            inputs.as_mut_ptr(),
            outputs.len(),
            outputs.as_mut_ptr(),
        )
    };
    if status != ffi::STATUS_OK {
        return Err(RuntimeError::Invoke {
            status: Some(status),
            reason: "LiteRtRunCompiledModel".into(),
        });
    }
    Ok(())
}

/// The first int8 value of `buffer`, locked for reading meanwhile.
///
/// # Safety
/// `buffer` must be a live host-memory tensor buffer of at least one byte.
unsafe fn read_first(api: &Api, buffer: Handle) -> Result<i8, RuntimeError> {
    let mut src: *mut c_void = ptr::null_mut();
    // SAFETY: the 2.1.4 prototype; `buffer` is live (the function contract); the out-pointer
    // is a local.
    let st = unsafe { (api.lock_tensor_buffer)(buffer, &mut src, ffi::LOCK_MODE_READ) };
    check(st, "LiteRtLockTensorBuffer")?;
    if src.is_null() {
        // SAFETY: `buffer` is live and locked.
        let _ = unsafe { (api.unlock_tensor_buffer)(buffer) };
        return Err(RuntimeError::NullPointer {
            call: "LiteRtLockTensorBuffer",
        });
    }
    // SAFETY: `src` is the locked buffer's memory, at least one byte (the function contract).
    let out = unsafe { src.cast::<i8>().read() };
    // SAFETY: `buffer` is live and locked; `src` is not used after this.
    let st = unsafe { (api.unlock_tensor_buffer)(buffer) };
    check(st, "LiteRtUnlockTensorBuffer")?;
    Ok(out)
}
