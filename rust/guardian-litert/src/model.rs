//! The model as LiteRT reads it: loading the bytes, then checking its signature and tensors
//! against the card (with the checks shared by every backend, [`check_tensor`]).

use std::ffi::{c_int, c_void};
use std::ptr;

use guardian_core::QuantParams;

use crate::card_check::{check_tensor, ExpectedModel, FoundQuant, OUTPUT_SHAPE};
use crate::error::{non_null, RuntimeError};
use crate::ffi::{self, Api, Handle};
use crate::model_bytes::AlignedBytes;

/// A validated tensor: its type (needed to allocate buffers) and quantization.
pub(crate) struct TensorInfo {
    /// The ranked type LiteRT reported.
    pub tensor_type: ffi::RankedTensorType,
    /// The quantization read from the model (equal to the card's).
    pub quant: QuantParams,
}

/// Loads `bytes` into a LiteRT model, stored in `model` (which must be null) as soon as LiteRT
/// returns it, so that the caller releases it whatever happens next.
pub(crate) fn load_model(
    api: &Api,
    bytes: &AlignedBytes,
    model: &mut Handle,
) -> Result<(), RuntimeError> {
    // SAFETY: the 2.1.4 prototype (checked at load); `bytes` is valid for its length and
    // outlives the model (the scorer owns both and drops the bytes last); `model` is writable.
    let status = unsafe {
        (api.create_model_from_buffer)(bytes.as_ptr().cast::<c_void>(), bytes.len(), model)
    };
    if status != ffi::STATUS_OK {
        *model = ptr::null_mut();
        return Err(RuntimeError::CorruptModel {
            status: Some(status),
            reason: "LiteRT rejected the model (LiteRtCreateModelFromBuffer)".into(),
        });
    }
    non_null(*model, "LiteRtCreateModelFromBuffer").map(|_| ())
}

/// Checks the model's signature and tensors against the card; returns input and output info.
pub(crate) fn validate_model(
    api: &Api,
    model: Handle,
    expected: &ExpectedModel,
) -> Result<(TensorInfo, TensorInfo), RuntimeError> {
    let signature = single_signature(api, model)?;
    let (input, output) = signature_tensors(api, signature)?;
    // SAFETY: `input` is a non-null tensor of `model`, which is live.
    let input = unsafe {
        validate_tensor(
            api,
            input,
            "input",
            &expected.input_shape,
            expected.input_quant,
        )
    }?;
    // SAFETY: `output` is a non-null tensor of `model`, which is live.
    let output =
        unsafe { validate_tensor(api, output, "output", &OUTPUT_SHAPE, expected.output_quant) }?;
    Ok((input, output))
}

/// A status other than OK while reading the model's `what`.
fn unreadable(status: ffi::Status, what: &str) -> RuntimeError {
    RuntimeError::CorruptModel {
        status: Some(status),
        reason: format!("cannot read the model's {what}"),
    }
}

/// The model's only signature; [`RuntimeError::SignatureMismatch`] if it has another count.
fn single_signature(api: &Api, model: Handle) -> Result<Handle, RuntimeError> {
    let mut count = 0usize;
    // SAFETY: the 2.1.4 prototype; `model` is live; the out-pointer is a local.
    let st = unsafe { (api.get_num_model_signatures)(model, &mut count) };
    if st != ffi::STATUS_OK {
        return Err(unreadable(st, "signatures"));
    }
    if count != 1 {
        return Err(RuntimeError::SignatureMismatch {
            expected: "1 signature".into(),
            found: format!("{count} signatures"),
        });
    }
    let mut signature: Handle = ptr::null_mut();
    // SAFETY: the 2.1.4 prototype; `model` is live and has one signature (index 0 exists);
    // the out-pointer is a local.
    let st = unsafe { (api.get_model_signature)(model, 0, &mut signature) };
    if st != ffi::STATUS_OK {
        return Err(unreadable(st, "signature"));
    }
    non_null(signature, "LiteRtGetModelSignature")
}

/// The input and output tensor of `signature`; [`RuntimeError::SignatureMismatch`] unless it
/// has exactly one of each.
fn signature_tensors(api: &Api, signature: Handle) -> Result<(Handle, Handle), RuntimeError> {
    let (mut n_in, mut n_out) = (0usize, 0usize);
    // SAFETY: the 2.1.4 prototype; `signature` belongs to a live model; out-pointers are locals.
    let st = unsafe { (api.get_num_signature_inputs)(signature, &mut n_in) };
    if st != ffi::STATUS_OK {
        return Err(unreadable(st, "signature inputs"));
    }
    // SAFETY: the 2.1.4 prototype; `signature` belongs to a live model; the out-pointer is a
    // local.
    let st = unsafe { (api.get_num_signature_outputs)(signature, &mut n_out) };
    if st != ffi::STATUS_OK {
        return Err(unreadable(st, "signature outputs"));
    }
    if (n_in, n_out) != (1, 1) {
        return Err(RuntimeError::SignatureMismatch {
            expected: "1 input and 1 output tensor".into(),
            found: format!("{n_in} input(s) and {n_out} output(s)"),
        });
    }
    let mut input: Handle = ptr::null_mut();
    // SAFETY: the 2.1.4 prototype; `signature` belongs to a live model and has one input
    // (index 0 exists); the out-pointer is a local.
    let st = unsafe { (api.get_signature_input_tensor_by_index)(signature, 0, &mut input) };
    if st != ffi::STATUS_OK {
        return Err(unreadable(st, "input tensor"));
    }
    let input = non_null(input, "LiteRtGetSignatureInputTensorByIndex")?;
    let mut output: Handle = ptr::null_mut();
    // SAFETY: the 2.1.4 prototype; `signature` belongs to a live model and has one output
    // (index 0 exists); the out-pointer is a local.
    let st = unsafe { (api.get_signature_output_tensor_by_index)(signature, 0, &mut output) };
    if st != ffi::STATUS_OK {
        return Err(unreadable(st, "output tensor"));
    }
    let output = non_null(output, "LiteRtGetSignatureOutputTensorByIndex")?;
    Ok((input, output))
}

/// A status other than OK while reading the `name` tensor's `what`.
fn unreadable_tensor(name: &str, status: ffi::Status, what: &str) -> RuntimeError {
    RuntimeError::CorruptModel {
        status: Some(status),
        reason: format!("cannot read the {name} tensor's {what}"),
    }
}

/// Checks one tensor (`"input"` or `"output"`) against the card's `shape` and `quant`; the
/// quantization is read only once type and shape are right.
///
/// # Safety
/// `tensor` must be a live tensor of a live model.
unsafe fn validate_tensor(
    api: &Api,
    tensor: Handle,
    name: &'static str,
    shape: &[usize],
    quant: QuantParams,
) -> Result<TensorInfo, RuntimeError> {
    // SAFETY: `tensor` is a live tensor of a live model (the function contract).
    let ranked = unsafe { ranked_type(api, tensor, name) }?;
    let tensor_type = ranked.unwrap_or_else(ffi::RankedTensorType::zeroed);
    let dims: Vec<i64> = tensor_type
        .layout
        .dims()
        .iter()
        .map(|&d| i64::from(d))
        .collect();
    let quant = check_tensor(
        name,
        tensor_type.element_type,
        ranked.is_some().then_some(&dims[..]),
        // SAFETY: `tensor` is a live tensor of a live model (the function contract), and
        // `check_tensor` calls this before returning.
        || unsafe { found_quant(api, tensor, name) },
        shape,
        quant,
    )?;
    Ok(TensorInfo { tensor_type, quant })
}

/// The tensor's ranked type (element type and shape), `None` if it is not ranked.
///
/// # Safety
/// `tensor` must be a live tensor of a live model.
unsafe fn ranked_type(
    api: &Api,
    tensor: Handle,
    name: &str,
) -> Result<Option<ffi::RankedTensorType>, RuntimeError> {
    let mut type_id: c_int = -1;
    // SAFETY: the 2.1.4 prototype; `tensor` per the function contract; out-pointer is a local.
    let st = unsafe { (api.get_tensor_type_id)(tensor, &mut type_id) };
    if st != ffi::STATUS_OK {
        return Err(unreadable_tensor(name, st, "type id"));
    }
    if type_id != ffi::TENSOR_TYPE_RANKED {
        return Ok(None);
    }
    let mut ranked = ffi::RankedTensorType::zeroed();
    // SAFETY: the 2.1.4 prototype; `tensor` per the function contract; `ranked` is a local in
    // the 2.1.4 layout (size asserted in `ffi`).
    let st = unsafe { (api.get_ranked_tensor_type)(tensor, &mut ranked) };
    if st != ffi::STATUS_OK {
        return Err(unreadable_tensor(name, st, "shape"));
    }
    Ok(Some(ranked))
}

/// The tensor's quantization: per-tensor scale and zero point, or the name of another kind.
///
/// # Safety
/// `tensor` must be a live tensor of a live model.
unsafe fn found_quant(api: &Api, tensor: Handle, name: &str) -> Result<FoundQuant, RuntimeError> {
    let mut q_type: c_int = -1;
    // SAFETY: the 2.1.4 prototype; `tensor` per the function contract; out-pointer is a local.
    let st = unsafe { (api.get_quantization_type_id)(tensor, &mut q_type) };
    if st != ffi::STATUS_OK {
        return Err(unreadable_tensor(name, st, "quantization type"));
    }
    if q_type != ffi::QUANTIZATION_PER_TENSOR {
        return Ok(FoundQuant::Other(ffi::quantization_type_name(q_type)));
    }
    let mut q = ffi::QuantizationPerTensor::default();
    // SAFETY: the 2.1.4 prototype; `tensor` per the function contract; `q` is a local in the
    // 2.1.4 layout (size asserted in `ffi`).
    let st = unsafe { (api.get_per_tensor_quantization)(tensor, &mut q) };
    if st != ffi::STATUS_OK {
        return Err(unreadable_tensor(name, st, "quantization parameters"));
    }
    Ok(FoundQuant::PerTensor {
        scale: q.scale,
        zero_point: q.zero_point,
    })
}
