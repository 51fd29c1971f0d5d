//! Compiling a model for LiteRT's CPU accelerator (XNNPACK): the environment, the compilation
//! options, the compiled model and its input and output buffers.

use std::ffi::{c_int, c_void, CString};
use std::ptr;

use crate::error::{check, non_null, RuntimeError};
use crate::ffi::{self, Api, Handle};

/// Creates the environment into `env` (null before), registering only the CPU accelerator: no
/// probing for GPU/NPU plug-in libraries (and none of the warnings that probing prints).
/// LiteRT 2.1.4 still logs a few INFO lines per environment on stderr: it ignores
/// kLiteRtEnvOptionTagMinLoggerSeverity and exports no logger control.
pub(crate) fn create_environment(api: &Api, env: &mut Handle) -> Result<(), RuntimeError> {
    let env_options = [ffi::EnvOption {
        tag: ffi::ENV_OPTION_AUTO_REGISTER_ACCELERATORS,
        value: ffi::AnyInt {
            any_type: ffi::ANY_TYPE_INT,
            int_value: ffi::HW_ACCELERATOR_CPU.into(),
        },
    }];
    // SAFETY: the 2.1.4 prototype (checked at load); `env_options` is a live array of the
    // length passed, in the 2.1.4 layout (asserted in `ffi`); `env` is a writable handle.
    let status =
        unsafe { (api.create_environment)(env_options.len() as c_int, env_options.as_ptr(), env) };
    check(status, "LiteRtCreateEnvironment")
}

/// Compiles `model` in `env` for the CPU accelerator, XNNPACK with `num_threads` threads.
pub(crate) fn compile(
    api: &Api,
    env: Handle,
    model: Handle,
    num_threads: u32,
) -> Result<Handle, RuntimeError> {
    let options = cpu_options(api, num_threads)?;
    let mut compiled: Handle = ptr::null_mut();
    // SAFETY: the 2.1.4 prototype; `env`, `model` and the options are live handles of this
    // library; the out-pointer is a local.
    let st = unsafe { (api.create_compiled_model)(env, model, options.handle, &mut compiled) };
    if st != ffi::STATUS_OK {
        return Err(RuntimeError::Compile {
            status: Some(st),
            reason: "LiteRtCreateCompiledModel (CPU accelerator, XNNPACK)".into(),
        });
    }
    non_null(compiled, "LiteRtCreateCompiledModel")
}

/// Whether LiteRT runs every op of `compiled` in the XNNPACK delegate.
pub(crate) fn is_fully_accelerated(api: &Api, compiled: Handle) -> Result<bool, RuntimeError> {
    let mut fully = false;
    // SAFETY: the 2.1.4 prototype; `compiled` is live; the out-pointer is a local.
    let st = unsafe { (api.compiled_model_is_fully_accelerated)(compiled, &mut fully) };
    check(st, "LiteRtCompiledModelIsFullyAccelerated")?;
    Ok(fully)
}

/// Compilation options, destroyed when dropped (LiteRtCreateCompiledModel does not keep them).
struct Options<'a> {
    api: &'a Api,
    handle: Handle,
}

impl Drop for Options<'_> {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            // SAFETY: a live options object owned by this guard alone, destroyed once here.
            unsafe { (self.api.destroy_options)(self.handle) }
        }
    }
}

/// Options selecting the CPU accelerator, with XNNPACK's own options attached.
fn cpu_options(api: &Api, num_threads: u32) -> Result<Options<'_>, RuntimeError> {
    let mut options = Options {
        api,
        handle: ptr::null_mut(),
    };
    // SAFETY: the 2.1.4 prototype; the out-pointer is the guard's field, so the options are
    // destroyed whatever happens next.
    let st = unsafe { (api.create_options)(&mut options.handle) };
    check(st, "LiteRtCreateOptions")?;
    // SAFETY: the 2.1.4 prototype; `options.handle` is live.
    let st =
        unsafe { (api.set_options_hardware_accelerators)(options.handle, ffi::HW_ACCELERATOR_CPU) };
    check(st, "LiteRtSetOptionsHardwareAccelerators")?;
    let opaque = xnnpack_options(api, num_threads)?;
    // SAFETY: the 2.1.4 prototype; both handles are live; on success `options` owns `opaque`.
    let st = unsafe { (api.add_opaque_options)(options.handle, opaque) };
    if st != ffi::STATUS_OK {
        // SAFETY: adding failed, so `opaque` is still live and ours alone; destroyed once.
        unsafe { (api.destroy_opaque_options)(opaque) };
        return Err(RuntimeError::LiteRt {
            call: "LiteRtAddOpaqueOptions",
            status: st,
        });
    }
    Ok(options)
}

/// XNNPACK's opaque options: the TOML text 2.1.4's CPU accelerator parses
/// (`num_threads = N`), under the identifier "xnnpack". On success LiteRT owns the text and
/// frees it with [`free_cpu_options_payload`].
fn xnnpack_options(api: &Api, num_threads: u32) -> Result<Handle, RuntimeError> {
    let payload = CString::new(format!("num_threads = {num_threads}\n"))
        .map_err(|_| RuntimeError::InvalidSpec("bad CPU options".into()))?
        .into_raw();
    let mut opaque: Handle = ptr::null_mut();
    // SAFETY: the 2.1.4 prototype; the identifier is a static C string; `payload` is a live C
    // string and `free_cpu_options_payload` its matching deleter; the out-pointer is a local.
    let st = unsafe {
        (api.create_opaque_options)(
            ffi::CPU_OPTIONS_IDENTIFIER.as_ptr(),
            payload.cast(),
            Some(free_cpu_options_payload),
            &mut opaque,
        )
    };
    if st != ffi::STATUS_OK {
        // SAFETY: LiteRT refused the payload, so it is still ours: freed once, here.
        unsafe { free_cpu_options_payload(payload.cast()) };
        return Err(RuntimeError::LiteRt {
            call: "LiteRtCreateOpaqueOptions",
            status: st,
        });
    }
    Ok(opaque)
}

/// Deleter for the CPU options payload (a `CString` leaked into LiteRT).
///
/// # Safety
/// `payload` must be null or come from `CString::into_raw`, and be freed only this once.
unsafe extern "C" fn free_cpu_options_payload(payload: *mut c_void) {
    if !payload.is_null() {
        // SAFETY: per the function contract (`xnnpack_options` made it with
        // `CString::into_raw`; LiteRT calls the deleter exactly once).
        drop(unsafe { CString::from_raw(payload.cast()) });
    }
}

/// Which tensor of signature 0 a buffer is for.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Input,
    Output,
}

/// Creates the managed host-memory buffer LiteRT asks for, for tensor 0 of signature 0.
pub(crate) fn create_buffer(
    api: &Api,
    env: Handle,
    compiled: Handle,
    direction: Direction,
    tensor_type: &ffi::RankedTensorType,
) -> Result<Handle, RuntimeError> {
    let mut requirements: Handle = ptr::null_mut();
    // SAFETY: the 2.1.4 prototypes; `compiled` is live and signature 0 has one input and one
    // output (validated); the out-pointer is a local. The requirements object is owned by the
    // compiled model and used only before this function returns.
    let (st, call) = unsafe {
        match direction {
            Direction::Input => (
                (api.get_compiled_model_input_buffer_requirements)(
                    compiled,
                    0,
                    0,
                    &mut requirements,
                ),
                "LiteRtGetCompiledModelInputBufferRequirements",
            ),
            Direction::Output => (
                (api.get_compiled_model_output_buffer_requirements)(
                    compiled,
                    0,
                    0,
                    &mut requirements,
                ),
                "LiteRtGetCompiledModelOutputBufferRequirements",
            ),
        }
    };
    check(st, call)?;
    let mut buffer: Handle = ptr::null_mut();
    // SAFETY: the 2.1.4 prototype; `env` and `requirements` are live; `tensor_type` is the
    // tensor's type as LiteRT reported it; the out-pointer is a local.
    let st = unsafe {
        (api.create_managed_tensor_buffer_from_requirements)(
            env,
            tensor_type,
            requirements,
            &mut buffer,
        )
    };
    check(st, "LiteRtCreateManagedTensorBufferFromRequirements")?;
    non_null(buffer, "LiteRtCreateManagedTensorBufferFromRequirements")
}

/// Checks that the input buffer holds the `input_len` bytes of a window and the output buffer
/// at least the one byte of the score.
pub(crate) fn check_buffer_sizes(
    api: &Api,
    input: Handle,
    output: Handle,
    input_len: usize,
) -> Result<(), RuntimeError> {
    let size = buffer_size(api, input)?;
    if size < input_len {
        return Err(RuntimeError::Compile {
            status: None,
            reason: format!("input buffer of {size} bytes for {input_len} values"),
        });
    }
    if buffer_size(api, output)? < 1 {
        return Err(RuntimeError::Compile {
            status: None,
            reason: "empty output buffer".into(),
        });
    }
    Ok(())
}

/// The size of a tensor buffer, bytes.
fn buffer_size(api: &Api, buffer: Handle) -> Result<usize, RuntimeError> {
    let mut size = 0usize;
    // SAFETY: the 2.1.4 prototype; `buffer` is live; the out-pointer is a local.
    let st = unsafe { (api.get_tensor_buffer_size)(buffer, &mut size) };
    check(st, "LiteRtGetTensorBufferSize")?;
    Ok(size)
}
