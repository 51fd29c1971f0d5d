//! Model-wide checks: operator codes, tensors (shape, type, buffer, quantization), indices and
//! the order in which data flows through the operators.

use super::parse::{Model, OpCode, Quant, Tensor};

/// TFLite `TensorType` values the checks know.
pub(super) const FLOAT32: u8 = 0;
pub(super) const INT32: u8 = 2;
pub(super) const INT8: u8 = 9;

/// Builtin operator codes the checks know (`BuiltinOperator` in `schema.fbs`).
pub(super) const AVERAGE_POOL_2D: i32 = 1;
pub(super) const CONV_2D: i32 = 3;
pub(super) const DEQUANTIZE: i32 = 6;
pub(super) const FULLY_CONNECTED: i32 = 9;
pub(super) const LOGISTIC: i32 = 14;
pub(super) const MAX_POOL_2D: i32 = 17;
pub(super) const RESHAPE: i32 = 22;
pub(super) const QUANTIZE: i32 = 114;
const KNOWN_OPS: [i32; 8] = [
    AVERAGE_POOL_2D,
    CONV_2D,
    DEQUANTIZE,
    FULLY_CONNECTED,
    LOGISTIC,
    MAX_POOL_2D,
    RESHAPE,
    QUANTIZE,
];

/// Largest rank accepted (XNNPACK's limit).
pub(super) const MAX_RANK: usize = 6;
/// Largest element count of one tensor (the shipped models' largest has 1,600).
pub(super) const MAX_ELEMENTS: u64 = 1 << 24;

/// Runs the model-wide checks.
pub(super) fn check(model: &Model<'_>) -> Result<(), String> {
    if model.version != 3 {
        return Err(format!(
            "TFLite schema version {}, expected 3",
            model.version
        ));
    }
    for (i, code) in model.opcodes.iter().enumerate() {
        opcode(code).map_err(|e| format!("operator code {i}: {e}"))?;
    }
    for (i, t) in model.graph.tensors.iter().enumerate() {
        tensor(model, t).map_err(|e| format!("tensor {i}: {e}"))?;
    }
    indices(model)?;
    dataflow(model)
}

/// A builtin op the checks know, with consistent old and new code fields.
fn opcode(code: &OpCode) -> Result<(), String> {
    if code.custom {
        return Err("custom operators are not supported".into());
    }
    // Codes below 127 are stored in both fields; larger ones only in `builtin_code`.
    let deprecated = i32::from(code.deprecated_code);
    let consistent = if code.code < 127 {
        deprecated == code.code
    } else {
        deprecated == 127
    };
    if !consistent {
        return Err(format!(
            "builtin code {} disagrees with deprecated code {deprecated}",
            code.code
        ));
    }
    if !KNOWN_OPS.contains(&code.code) {
        return Err(format!("builtin operator {} is not supported", code.code));
    }
    Ok(())
}

/// Bytes per element of a known type.
pub(super) fn type_size(ty: u8) -> Option<u64> {
    match ty {
        FLOAT32 | INT32 => Some(4),
        INT8 => Some(1),
        _ => None,
    }
}

/// Element count of a checked shape.
pub(super) fn elements(shape: &[i32]) -> u64 {
    shape.iter().map(|&d| d as u64).product()
}

fn tensor(model: &Model<'_>, t: &Tensor) -> Result<(), String> {
    if t.unusual {
        return Err("variable, sparse or variant tensors are not supported".into());
    }
    let size = type_size(t.ty).ok_or_else(|| format!("type {} is not supported", t.ty))?;
    shape(t)?;
    let Some(data) = model.buffers.get(t.buffer as usize) else {
        return Err(format!("buffer {} of {}", t.buffer, model.buffers.len()));
    };
    let bytes = elements(&t.shape) * size;
    if !data.is_empty() && data.len() as u64 != bytes {
        return Err(format!(
            "{} bytes of data for {bytes} bytes of shape {:?}",
            data.len(),
            t.shape
        ));
    }
    quantization(t)
}

/// Rank, dimensions, element count and shape signature.
fn shape(t: &Tensor) -> Result<(), String> {
    if t.shape.len() > MAX_RANK {
        return Err(format!("rank {} above {MAX_RANK}", t.shape.len()));
    }
    if t.shape.iter().any(|&d| d < 1) {
        return Err(format!("shape {:?} has a dimension below 1", t.shape));
    }
    let n = t.shape.iter().try_fold(1u64, |n, &d| {
        n.checked_mul(d as u64).filter(|&n| n <= MAX_ELEMENTS)
    });
    if n.is_none() {
        return Err(format!(
            "shape {:?} has over {MAX_ELEMENTS} elements",
            t.shape
        ));
    }
    if let Some(sig) = &t.signature {
        let same = sig.len() == t.shape.len()
            && sig.iter().zip(&t.shape).all(|(&s, &d)| s == d || s == -1);
        if !same {
            return Err(format!(
                "shape signature {sig:?} does not fit shape {:?}",
                t.shape
            ));
        }
    }
    Ok(())
}

fn quantization(t: &Tensor) -> Result<(), String> {
    let empty = Quant {
        scales: Vec::new(),
        zero_points: Vec::new(),
        dim: 0,
        details: false,
    };
    let q = t.quant.as_ref().unwrap_or(&empty);
    if q.details {
        return Err("custom quantization is not supported".into());
    }
    match t.ty {
        INT8 => int8_quant(t, q),
        INT32 if q.scales.is_empty() && q.zero_points.is_empty() => Ok(()),
        INT32 => {
            per_channel(t, q)?;
            match q.zero_points.iter().all(|&z| z == 0) {
                true => Ok(()),
                false => Err("int32 zero points must be 0".into()),
            }
        }
        _ if q.scales.is_empty() && q.zero_points.is_empty() => Ok(()),
        _ => Err("a float32 tensor has quantization parameters".into()),
    }
}

fn int8_quant(t: &Tensor, q: &Quant) -> Result<(), String> {
    if q.scales.is_empty() {
        return Err("int8 tensor without quantization scale".into());
    }
    per_channel(t, q)?;
    if let Some(z) = q.zero_points.iter().find(|z| !(-128..=127).contains(*z)) {
        return Err(format!("int8 zero point {z}"));
    }
    Ok(())
}

/// Scales finite, normal and positive, one zero point per scale, and more than one only along
/// a valid dimension with that many channels.
fn per_channel(t: &Tensor, q: &Quant) -> Result<(), String> {
    if let Some(s) = q.scales.iter().find(|s| !(s.is_normal() && **s > 0.0)) {
        return Err(format!("quantization scale {s}"));
    }
    if q.scales.len() != q.zero_points.len() {
        return Err(format!(
            "{} scales but {} zero points",
            q.scales.len(),
            q.zero_points.len()
        ));
    }
    if q.scales.len() > 1 {
        let channels = usize::try_from(q.dim)
            .ok()
            .and_then(|d| t.shape.get(d))
            .map(|&c| c as usize);
        if channels != Some(q.scales.len()) {
            return Err(format!(
                "{} scales along dimension {} of shape {:?}",
                q.scales.len(),
                q.dim,
                t.shape
            ));
        }
    }
    Ok(())
}

/// Graph inputs/outputs are valid tensor indices; operators use valid operator codes and
/// tensor indices (`-1`, an omitted optional input, only among operator inputs).
fn indices(model: &Model<'_>) -> Result<(), String> {
    let g = &model.graph;
    let n = g.tensors.len();
    let valid = |i: i32| i >= 0 && (i as usize) < n;
    if let Some(i) = g.inputs.iter().chain(&g.outputs).find(|&&i| !valid(i)) {
        return Err(format!("graph input or output {i} of {n} tensors"));
    }
    if g.inputs.is_empty() || g.outputs.is_empty() || g.ops.is_empty() {
        return Err("graph without inputs, outputs or operators".into());
    }
    for (k, op) in g.ops.iter().enumerate() {
        if op.opcode as usize >= model.opcodes.len() {
            return Err(format!("operator {k} uses operator code {}", op.opcode));
        }
        let bad_in = op.inputs.iter().find(|&&i| i != -1 && !valid(i));
        if let Some(i) = bad_in.or_else(|| op.outputs.iter().find(|&&i| !valid(i))) {
            return Err(format!("operator {k} uses tensor {i} of {n}"));
        }
        if op.unusual {
            return Err(format!(
                "operator {k} has custom options, variable inputs or intermediates"
            ));
        }
    }
    Ok(())
}

/// Operators run in order: each reads constants, graph inputs or earlier outputs; no
/// constant, graph input or earlier output is written; every graph output is written.
fn dataflow(model: &Model<'_>) -> Result<(), String> {
    let g = &model.graph;
    let constant = |t: &Tensor| {
        model
            .buffers
            .get(t.buffer as usize)
            .is_some_and(|d| !d.is_empty())
    };
    let mut ready: Vec<bool> = g.tensors.iter().map(constant).collect();
    for &i in &g.inputs {
        if std::mem::replace(&mut ready[i as usize], true) {
            return Err(format!("graph input {i} is a constant or listed twice"));
        }
    }
    for (k, op) in g.ops.iter().enumerate() {
        if let Some(i) = op.inputs.iter().find(|&&i| i >= 0 && !ready[i as usize]) {
            return Err(format!(
                "operator {k} reads tensor {i} before it is written"
            ));
        }
        for &o in &op.outputs {
            if std::mem::replace(&mut ready[o as usize], true) {
                return Err(format!(
                    "operator {k} writes tensor {o}, a constant or input or written before"
                ));
            }
        }
    }
    if let Some(o) = g.outputs.iter().find(|&&o| !ready[o as usize]) {
        return Err(format!("graph output {o} is never written"));
    }
    Ok(())
}
