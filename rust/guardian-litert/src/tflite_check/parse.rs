//! Reads the parts of a TFLite flatbuffer that the checks need into plain Rust values
//! (field ids from TFLite's `schema.fbs`). Everything is read through the bounds-checked
//! [`Fb`]; what cannot be read is a `malformed flatbuffer` error.

use super::reader::{Fb, Table, Vector};

/// The model, as far as the checks look at it.
pub(super) struct Model<'a> {
    /// `Model.version` (TFLite schema version).
    pub version: u32,
    pub opcodes: Vec<OpCode>,
    /// Each buffer's inline data (empty for none).
    pub buffers: Vec<&'a [u8]>,
    pub graph: Graph,
}

/// One entry of `Model.operator_codes`.
pub(super) struct OpCode {
    pub deprecated_code: i8,
    pub code: i32,
    pub custom: bool,
}

/// The model's only subgraph.
pub(super) struct Graph {
    pub tensors: Vec<Tensor>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub ops: Vec<Op>,
}

/// One tensor of the subgraph.
pub(super) struct Tensor {
    pub shape: Vec<i32>,
    pub signature: Option<Vec<i32>>,
    pub ty: u8,
    pub buffer: u32,
    pub quant: Option<Quant>,
    /// `is_variable`, `sparsity` or `variant_tensors` present: features no shipped op uses.
    pub unusual: bool,
}

/// A tensor's quantization parameters.
pub(super) struct Quant {
    pub scales: Vec<f32>,
    pub zero_points: Vec<i64>,
    pub dim: i32,
    /// Custom quantization `details` present.
    pub details: bool,
}

/// One operator of the subgraph.
pub(super) struct Op {
    pub opcode: u32,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub options_type: u8,
    pub options: Option<Options>,
    /// Custom options, mutating variable inputs, intermediates or a second options table.
    pub unusual: bool,
}

/// A builtin options table, read by `builtin_options_type` (union ids of `schema.fbs`).
pub(super) enum Options {
    /// `Conv2DOptions` (1).
    Conv(Conv),
    /// `Pool2DOptions` (5).
    Pool(Pool),
    /// `FullyConnectedOptions` (8).
    Fc(Fc),
    /// `ReshapeOptions` (17): `new_shape`.
    Reshape(Option<Vec<i32>>),
    /// Any other options table (its op's check refuses it unless the op takes none).
    Other,
}

/// `Conv2DOptions`.
pub(super) struct Conv {
    pub padding: u8,
    pub stride: [i32; 2],
    pub activation: u8,
    pub dilation: [i32; 2],
}

/// `Pool2DOptions`.
pub(super) struct Pool {
    pub padding: u8,
    pub stride: [i32; 2],
    pub filter: [i32; 2],
    pub activation: u8,
}

/// `FullyConnectedOptions`.
pub(super) struct Fc {
    pub activation: u8,
    pub weights_format: u8,
    pub keep_num_dims: bool,
}

fn bad(what: &str) -> String {
    format!("malformed flatbuffer: {what}")
}

/// Reads the model, or says which part is unreadable.
pub(super) fn model<'a>(fb: &Fb<'a>) -> Result<Model<'a>, String> {
    let root = fb
        .deref(0)
        .and_then(|p| fb.table(p))
        .ok_or_else(|| bad("root table"))?;
    // Model: version(0), operator_codes(1), subgraphs(2), description(3), buffers(4).
    let version = fb.u32_field(root, 0, 0).ok_or_else(|| bad("version"))?;
    fb.string_ok(root, 3).ok_or_else(|| bad("description"))?;
    let opcodes = table_vec(fb, root, 1, "operator_codes", opcode)?;
    let buffers = table_vec(fb, root, 4, "buffers", buffer)?;
    let subgraphs = fb.vector(root, 2, 4).ok_or_else(|| bad("subgraphs"))?;
    if subgraphs.len != 1 {
        return Err(format!("model has {} subgraphs, expected 1", subgraphs.len));
    }
    let sg = fb.table_elem(subgraphs, 0).ok_or_else(|| bad("subgraph"))?;
    Ok(Model {
        version,
        opcodes,
        buffers,
        graph: graph(fb, sg)?,
    })
}

/// Reads every table of the vector field `id` of `t` with `read`.
fn table_vec<'a, T>(
    fb: &Fb<'a>,
    t: Table,
    id: usize,
    what: &str,
    read: impl Fn(&Fb<'a>, Table) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let v: Vector = fb.vector(t, id, 4).ok_or_else(|| bad(what))?;
    (0..v.len)
        .map(|i| read(fb, fb.table_elem(v, i).ok_or_else(|| bad(what))?))
        .collect()
}

fn opcode(fb: &Fb<'_>, t: Table) -> Result<OpCode, String> {
    // OperatorCode: deprecated_builtin_code(0) byte, custom_code(1), version(2), builtin_code(3).
    let read = || {
        fb.string_ok(t, 1)?;
        Some(OpCode {
            deprecated_code: fb.u8_field(t, 0, 0)? as i8,
            code: fb.i32_field(t, 3, 0)?,
            custom: fb.field(t, 1)?.is_some(),
        })
    };
    read().ok_or_else(|| bad("operator code"))
}

fn buffer<'a>(fb: &Fb<'a>, t: Table) -> Result<&'a [u8], String> {
    // Buffer: data(0), offset(1), size(2): offset/size place the data outside the
    // flatbuffer (models over 2 GB), which Guardian's models never do.
    let data = fb.bytes(t, 0).ok_or_else(|| bad("buffer data"))?;
    let offset = fb.u64_field(t, 1).ok_or_else(|| bad("buffer offset"))?;
    let size = fb.u64_field(t, 2).ok_or_else(|| bad("buffer size"))?;
    if offset != 0 || size != 0 {
        return Err("a buffer lies outside the flatbuffer (not supported)".into());
    }
    Ok(data)
}

fn graph(fb: &Fb<'_>, sg: Table) -> Result<Graph, String> {
    // SubGraph: tensors(0), inputs(1), outputs(2), operators(3), name(4).
    fb.string_ok(sg, 4).ok_or_else(|| bad("subgraph name"))?;
    let ints = |id: usize, what: &str| -> Result<Vec<i32>, String> {
        Ok(fb
            .i32_vec(sg, id)
            .ok_or_else(|| bad(what))?
            .unwrap_or_default())
    };
    Ok(Graph {
        tensors: table_vec(fb, sg, 0, "tensors", tensor)?,
        inputs: ints(1, "subgraph inputs")?,
        outputs: ints(2, "subgraph outputs")?,
        ops: table_vec(fb, sg, 3, "operators", op)?,
    })
}

fn tensor(fb: &Fb<'_>, t: Table) -> Result<Tensor, String> {
    // Tensor: shape(0), type(1), buffer(2), name(3), quantization(4), is_variable(5),
    // sparsity(6), shape_signature(7), has_rank(8), variant_tensors(9).
    let read = || {
        fb.string_ok(t, 3)?;
        let quant = match fb.table_field(t, 4)? {
            Some(q) => Some(quant(fb, q)?),
            None => None,
        };
        Some(Tensor {
            shape: fb.i32_vec(t, 0)?.unwrap_or_default(),
            signature: fb.i32_vec(t, 7)?,
            ty: fb.u8_field(t, 1, 0)?,
            buffer: fb.u32_field(t, 2, 0)?,
            quant,
            unusual: fb.u8_field(t, 5, 0)? != 0
                || fb.field(t, 6)?.is_some()
                || fb.field(t, 9)?.is_some(),
        })
    };
    read().ok_or_else(|| bad("tensor"))
}

fn quant(fb: &Fb<'_>, q: Table) -> Option<Quant> {
    // QuantizationParameters: min(0), max(1), scale(2), zero_point(3), details_type(4),
    // details(5), quantized_dimension(6).
    fb.f32_vec(q, 0)?;
    fb.f32_vec(q, 1)?;
    Some(Quant {
        scales: fb.f32_vec(q, 2)?,
        zero_points: fb.i64_vec(q, 3)?,
        dim: fb.i32_field(q, 6, 0)?,
        details: fb.u8_field(q, 4, 0)? != 0 || fb.field(q, 5)?.is_some(),
    })
}

fn op(fb: &Fb<'_>, t: Table) -> Result<Op, String> {
    // Operator: opcode_index(0), inputs(1), outputs(2), builtin_options_type(3),
    // builtin_options(4), custom_options(5), custom_options_format(6),
    // mutating_variable_inputs(7), intermediates(8), large_custom_options_offset(9) and
    // size(10), builtin_options_2_type(11), builtin_options_2(12).
    let read = || {
        let options_type = fb.u8_field(t, 3, 0)?;
        let options = match fb.table_field(t, 4)? {
            Some(table) => Some(options(fb, options_type, table)?),
            None => None,
        };
        let unusual = [5, 7, 8, 9, 10, 12]
            .into_iter()
            .map(|id| fb.field(t, id))
            .collect::<Option<Vec<_>>>()?
            .iter()
            .any(Option::is_some)
            || fb.u8_field(t, 11, 0)? != 0;
        Some(Op {
            opcode: fb.u32_field(t, 0, 0)?,
            inputs: fb.i32_vec(t, 1)?.unwrap_or_default(),
            outputs: fb.i32_vec(t, 2)?.unwrap_or_default(),
            options_type,
            options,
            unusual,
        })
    };
    read().ok_or_else(|| bad("operator"))
}

/// The options table `t` of union type `ty` (strides and sizes as `[h, w]`).
fn options(fb: &Fb<'_>, ty: u8, t: Table) -> Option<Options> {
    let int = |id, default| fb.i32_field(t, id, default);
    let byte = |id| fb.u8_field(t, id, 0);
    Some(match ty {
        // Conv2DOptions: padding(0), stride_w(1), stride_h(2), fused_activation_function(3),
        // dilation_w_factor(4), dilation_h_factor(5).
        1 => Options::Conv(Conv {
            padding: byte(0)?,
            stride: [int(2, 0)?, int(1, 0)?],
            activation: byte(3)?,
            dilation: [int(5, 1)?, int(4, 1)?],
        }),
        // Pool2DOptions: padding(0), stride_w(1), stride_h(2), filter_width(3),
        // filter_height(4), fused_activation_function(5).
        5 => Options::Pool(Pool {
            padding: byte(0)?,
            stride: [int(2, 0)?, int(1, 0)?],
            filter: [int(4, 0)?, int(3, 0)?],
            activation: byte(5)?,
        }),
        // FullyConnectedOptions: fused_activation_function(0), weights_format(1),
        // keep_num_dims(2).
        8 => Options::Fc(Fc {
            activation: byte(0)?,
            weights_format: byte(1)?,
            keep_num_dims: byte(2)? != 0,
        }),
        // ReshapeOptions: new_shape(0).
        17 => Options::Reshape(fb.i32_vec(t, 0)?),
        _ => Options::Other,
    })
}
