//! Per-operator checks: what each builtin kernel (and XNNPACK) relies on about its tensors.

use super::graph::{
    elements, AVERAGE_POOL_2D, CONV_2D, DEQUANTIZE, FLOAT32, FULLY_CONNECTED, INT32, INT8,
    LOGISTIC, MAX_POOL_2D, QUANTIZE, RESHAPE,
};
use super::parse::{Model, Op, Options, Tensor};

/// Runs the check of every operator's builtin op.
pub(super) fn check(model: &Model<'_>) -> Result<(), String> {
    for (k, op) in model.graph.ops.iter().enumerate() {
        let code = model.opcodes[op.opcode as usize].code;
        let c = Ctx { model, op };
        let (name, result) = match code {
            CONV_2D => ("CONV_2D", conv2d(&c)),
            MAX_POOL_2D => ("MAX_POOL_2D", pool2d(&c)),
            AVERAGE_POOL_2D => ("AVERAGE_POOL_2D", pool2d(&c)),
            RESHAPE => ("RESHAPE", reshape(&c)),
            FULLY_CONNECTED => ("FULLY_CONNECTED", fully_connected(&c)),
            LOGISTIC => ("LOGISTIC", logistic(&c)),
            QUANTIZE => ("QUANTIZE", quantize(&c)),
            DEQUANTIZE => ("DEQUANTIZE", dequantize(&c)),
            _ => (
                "?",
                Err(format!("builtin operator {code} is not supported")),
            ),
        };
        result.map_err(|e| format!("operator {k} ({name}): {e}"))?;
    }
    Ok(())
}

/// One operator and its model.
struct Ctx<'m, 'a> {
    model: &'m Model<'a>,
    op: &'m Op,
}

type Check = Result<(), String>;

impl<'m> Ctx<'m, '_> {
    /// Input/output counts: `inputs` within the range, exactly one output.
    fn arity(&self, inputs: std::ops::RangeInclusive<usize>) -> Check {
        if !inputs.contains(&self.op.inputs.len()) || self.op.outputs.len() != 1 {
            return Err(format!(
                "{} inputs and {} outputs",
                self.op.inputs.len(),
                self.op.outputs.len()
            ));
        }
        Ok(())
    }

    /// Input `i`, absent if omitted (`-1`) or beyond the list.
    fn opt_input(&self, i: usize) -> Option<&'m Tensor> {
        let t = *self.op.inputs.get(i)?;
        self.model.graph.tensors.get(usize::try_from(t).ok()?)
    }

    fn input(&self, i: usize) -> Result<&'m Tensor, String> {
        self.opt_input(i)
            .ok_or_else(|| format!("required input {i} is missing"))
    }

    fn output(&self) -> Result<&'m Tensor, String> {
        let t = self.op.outputs.first().copied().unwrap_or(-1);
        usize::try_from(t)
            .ok()
            .and_then(|t| self.model.graph.tensors.get(t))
            .ok_or_else(|| "output is missing".to_string())
    }

    /// The constant data of `t` (empty if not constant).
    fn data(&self, t: &Tensor) -> &'m [u8] {
        self.model
            .buffers
            .get(t.buffer as usize)
            .copied()
            .unwrap_or(&[])
    }

    fn constant(&self, t: &Tensor, what: &str) -> Check {
        match self.data(t).is_empty() {
            true => Err(format!("{what} is not a constant")),
            false => Ok(()),
        }
    }

    /// The options table, which must be of union type `ty` (0: none or any table ignored).
    fn options(&self, ty: u8) -> Result<Option<&'m Options>, String> {
        if self.op.options_type != ty && !(ty != 0 && self.op.options_type == 0) {
            return Err(format!(
                "options of type {}, expected {ty}",
                self.op.options_type
            ));
        }
        Ok(self.op.options.as_ref())
    }
}

fn rank(t: &Tensor, r: usize, what: &str) -> Check {
    match t.shape.len() == r {
        true => Ok(()),
        false => Err(format!("{what} has rank {}, expected {r}", t.shape.len())),
    }
}

fn types(ts: &[(&Tensor, u8)]) -> Check {
    match ts.iter().find(|(t, ty)| t.ty != *ty) {
        Some((t, ty)) => Err(format!("tensor type {} where {ty} is expected", t.ty)),
        None => Ok(()),
    }
}

/// The single scale and zero point of a per-tensor quantized tensor.
fn per_tensor(t: &Tensor) -> Result<(f64, i64), String> {
    match &t.quant {
        Some(q) if q.scales.len() == 1 && q.zero_points.len() == 1 => {
            Ok((f64::from(q.scales[0]), q.zero_points[0]))
        }
        _ => Err("an activation is not quantized per tensor".into()),
    }
}

fn scales(t: &Tensor) -> &[f32] {
    t.quant.as_ref().map_or(&[], |q| &q.scales)
}

/// Scale `c` of a per-tensor or per-channel tensor.
fn scale_at(t: &Tensor, c: usize) -> f64 {
    let s = scales(t);
    f64::from(if s.len() == 1 { s[0] } else { s[c] })
}

fn activation(a: u8) -> Check {
    // NONE, RELU, RELU_N1_TO_1, RELU6.
    match a <= 3 {
        true => Ok(()),
        false => Err(format!("fused activation {a} is not supported")),
    }
}

/// Output size along one spatial axis (TFLite's `ComputeOutSize`), `None` if it has none.
fn out_size(padding: u8, input: i32, filter: i32, stride: i32, dilation: i32) -> Option<i64> {
    let (input, stride) = (i64::from(input), i64::from(stride));
    let effective = (i64::from(filter) - 1) * i64::from(dilation) + 1;
    match padding {
        0 => Some((input + stride - 1) / stride),
        1 if input >= effective => Some((input - effective) / stride + 1),
        _ => None,
    }
}

/// Padding SAME/VALID; strides, dilations and filter sizes in [1, 2^16].
fn window_params(padding: u8, values: &[i32]) -> Check {
    if padding > 1 {
        return Err(format!("padding {padding} is not supported"));
    }
    match values.iter().all(|v| (1..=1 << 16).contains(v)) {
        true => Ok(()),
        false => Err(format!(
            "stride, dilation or filter size out of range: {values:?}"
        )),
    }
}

/// `output` is `[N, OH, OW, C]` for `input` `[N, H, W, _]` and the window `[kh, kw]`.
fn spatial_output(
    input: &Tensor,
    output: &Tensor,
    c: i32,
    padding: u8,
    window: ([i32; 2], [i32; 2], [i32; 2]),
) -> Check {
    let (filter, stride, dilation) = window;
    let mut expect = vec![i64::from(input.shape[0])];
    for a in 0..2 {
        let size = out_size(
            padding,
            input.shape[1 + a],
            filter[a],
            stride[a],
            dilation[a],
        );
        expect.push(size.ok_or("the filter is larger than the input")?);
    }
    expect.push(i64::from(c));
    let found: Vec<i64> = output.shape.iter().map(|&d| i64::from(d)).collect();
    match found == expect {
        true => Ok(()),
        false => Err(format!("output shape {found:?}, expected {expect:?}")),
    }
}

/// int8 kernels with weights: weights zero points 0, per-channel along dimension 0, bias
/// scales `input * weights` and requantization factors in XNNPACK's range [2^-32, 256).
fn int8_weights(input: &Tensor, weights: &Tensor, bias: Option<&Tensor>, output: &Tensor) -> Check {
    let (in_scale, _) = per_tensor(input)?;
    let (out_scale, _) = per_tensor(output)?;
    let q = weights
        .quant
        .as_ref()
        .ok_or("weights without quantization")?;
    if q.zero_points.iter().any(|&z| z != 0) || (q.scales.len() > 1 && q.dim != 0) {
        return Err("weights need zero points 0 and channels along dimension 0".into());
    }
    if let Some(b) = bias {
        if scales(b).len() != q.scales.len() {
            return Err(format!(
                "{} bias scales for {} weights scales",
                scales(b).len(),
                q.scales.len()
            ));
        }
    }
    for c in 0..q.scales.len() {
        let product = in_scale * scale_at(weights, c);
        if let Some(b) = bias {
            let bias_scale = scale_at(b, c);
            if (product - bias_scale).abs() > 1e-5 * product.min(bias_scale) {
                return Err(format!(
                    "bias scale {bias_scale} is not input * weights scale {product}"
                ));
            }
        }
        requantization(product / out_scale)?;
    }
    Ok(())
}

fn requantization(factor: f64) -> Check {
    match (2f64.powi(-32)..256.0).contains(&factor) {
        true => Ok(()),
        false => Err(format!(
            "requantization factor {factor} out of [2^-32, 256)"
        )),
    }
}

/// Element types of (input, weights, bias, output): all float32, or int8 with int32 bias.
fn weight_types(input: &Tensor, weights: &Tensor, bias: Option<&Tensor>, output: &Tensor) -> Check {
    let (act, bias_ty) = match input.ty {
        INT8 => (INT8, INT32),
        _ => (FLOAT32, FLOAT32),
    };
    types(&[(input, act), (weights, act), (output, act)])?;
    bias.map_or(Ok(()), |b| types(&[(b, bias_ty)]))
}

/// A constant bias of shape `[channels]`, if present.
fn bias_shape(c: &Ctx<'_, '_>, bias: Option<&Tensor>, channels: i32) -> Check {
    let Some(b) = bias else { return Ok(()) };
    c.constant(b, "bias")?;
    match b.shape == [channels] {
        true => Ok(()),
        false => Err(format!("bias shape {:?} for {channels} channels", b.shape)),
    }
}

fn conv2d(c: &Ctx<'_, '_>) -> Check {
    c.arity(2..=3)?;
    let (input, filter, bias, output) = (c.input(0)?, c.input(1)?, c.opt_input(2), c.output()?);
    let Some(Options::Conv(o)) = c.options(1)? else {
        return Err("Conv2DOptions missing".into());
    };
    activation(o.activation)?;
    window_params(
        o.padding,
        &[o.stride[0], o.stride[1], o.dilation[0], o.dilation[1]],
    )?;
    for (t, what) in [(input, "input"), (filter, "filter"), (output, "output")] {
        rank(t, 4, what)?;
    }
    c.constant(filter, "filter")?;
    // TFLite's conv.cc counts inputs, not tensors, for `has_bias`, and requires a bias for
    // int8: a third input must be a tensor, and int8 needs it.
    if (c.op.inputs.len() == 3 || input.ty == INT8) && bias.is_none() {
        return Err("the bias is missing".into());
    }
    if filter.shape[3] != input.shape[3] {
        return Err(format!(
            "filter depth {} for {} input channels",
            filter.shape[3], input.shape[3]
        ));
    }
    let (kernel, channels) = ([filter.shape[1], filter.shape[2]], filter.shape[0]);
    spatial_output(
        input,
        output,
        channels,
        o.padding,
        (kernel, o.stride, o.dilation),
    )?;
    bias_shape(c, bias, channels)?;
    weight_types(input, filter, bias, output)?;
    if input.ty == INT8 {
        int8_weights(input, filter, bias, output)?;
    }
    Ok(())
}

fn pool2d(c: &Ctx<'_, '_>) -> Check {
    c.arity(1..=1)?;
    let (input, output) = (c.input(0)?, c.output()?);
    let Some(Options::Pool(o)) = c.options(5)? else {
        return Err("Pool2DOptions missing".into());
    };
    activation(o.activation)?;
    window_params(
        o.padding,
        &[o.stride[0], o.stride[1], o.filter[0], o.filter[1]],
    )?;
    rank(input, 4, "input")?;
    rank(output, 4, "output")?;
    spatial_output(
        input,
        output,
        input.shape[3],
        o.padding,
        (o.filter, o.stride, [1, 1]),
    )?;
    same_type_and_quant(input, output)
}

/// Equal element types and, for int8, equal per-tensor quantization.
fn same_type_and_quant(input: &Tensor, output: &Tensor) -> Check {
    if input.ty != output.ty || !matches!(input.ty, INT8 | FLOAT32) {
        return Err(format!(
            "input type {} and output type {}",
            input.ty, output.ty
        ));
    }
    if input.ty == INT8 && per_tensor(input)? != per_tensor(output)? {
        return Err("input and output quantization differ".into());
    }
    Ok(())
}

fn reshape(c: &Ctx<'_, '_>) -> Check {
    c.arity(1..=2)?;
    let (input, output) = (c.input(0)?, c.output()?);
    same_type_and_quant(input, output)?;
    if elements(&input.shape) != elements(&output.shape) {
        return Err(format!(
            "input shape {:?} for output shape {:?}",
            input.shape, output.shape
        ));
    }
    if let Some(shape) = c.opt_input(1) {
        types(&[(shape, INT32)])?;
        rank(shape, 1, "shape")?;
        c.constant(shape, "shape")?;
        let values = c.data(shape).chunks_exact(4);
        let dims: Vec<i32> = values
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        new_shape_fits(&dims, &output.shape)?;
    }
    if let Some(Options::Reshape(Some(dims))) = c.options(17)? {
        new_shape_fits(dims, &output.shape)?;
    }
    Ok(())
}

/// A requested shape (at most one `-1`) names exactly the output's dimensions.
fn new_shape_fits(dims: &[i32], output: &[i32]) -> Check {
    let fits = dims.len() == output.len()
        && dims.iter().filter(|&&d| d == -1).count() <= 1
        && dims.iter().zip(output).all(|(&d, &o)| d == o || d == -1);
    match fits {
        true => Ok(()),
        false => Err(format!("new shape {dims:?} for output shape {output:?}")),
    }
}

fn fully_connected(c: &Ctx<'_, '_>) -> Check {
    c.arity(2..=3)?;
    let (input, weights, bias, output) = (c.input(0)?, c.input(1)?, c.opt_input(2), c.output()?);
    let Some(Options::Fc(o)) = c.options(8)? else {
        return Err("FullyConnectedOptions missing".into());
    };
    activation(o.activation)?;
    if o.weights_format != 0 {
        return Err(format!(
            "weights format {} is not supported",
            o.weights_format
        ));
    }
    rank(weights, 2, "weights")?;
    c.constant(weights, "weights")?;
    let (units, depth) = (weights.shape[0], weights.shape[1]);
    let n = elements(&input.shape);
    if input.shape.is_empty() || n % depth as u64 != 0 {
        return Err(format!("input shape {:?} for depth {depth}", input.shape));
    }
    let expect = match o.keep_num_dims {
        false => vec![(n / depth as u64) as i32, units],
        true => input.shape[..input.shape.len() - 1]
            .iter()
            .copied()
            .chain([units])
            .collect(),
    };
    if output.shape != expect || (o.keep_num_dims && input.shape.last() != Some(&depth)) {
        return Err(format!(
            "output shape {:?}, expected {expect:?}",
            output.shape
        ));
    }
    bias_shape(c, bias, units)?;
    weight_types(input, weights, bias, output)?;
    if input.ty == INT8 {
        int8_weights(input, weights, bias, output)?;
    }
    Ok(())
}

/// Input and output of the same shape (element-wise ops).
fn same_shape<'m>(c: &Ctx<'m, '_>) -> Result<(&'m Tensor, &'m Tensor), String> {
    c.arity(1..=1)?;
    let (input, output) = (c.input(0)?, c.output()?);
    match input.shape == output.shape {
        true => Ok((input, output)),
        false => Err(format!(
            "input shape {:?}, output shape {:?}",
            input.shape, output.shape
        )),
    }
}

fn logistic(c: &Ctx<'_, '_>) -> Check {
    let (input, output) = same_shape(c)?;
    c.options(0)?;
    if input.ty != output.ty || !matches!(input.ty, INT8 | FLOAT32) {
        return Err(format!(
            "input type {} and output type {}",
            input.ty, output.ty
        ));
    }
    if input.ty == INT8 {
        per_tensor(input)?;
        // TFLite's int8 LOGISTIC writes [0, 1) on a fixed grid.
        if per_tensor(output)? != (1.0 / 256.0, -128) {
            return Err("int8 output quantization must be scale 1/256, zero point -128".into());
        }
    }
    Ok(())
}

fn quantize(c: &Ctx<'_, '_>) -> Check {
    let (input, output) = same_shape(c)?;
    c.options(89)?;
    types(&[(output, INT8)])?;
    let (out_scale, _) = per_tensor(output)?;
    match input.ty {
        FLOAT32 => Ok(()),
        INT8 => requantization(per_tensor(input)?.0 / out_scale),
        ty => Err(format!("input type {ty}")),
    }
}

fn dequantize(c: &Ctx<'_, '_>) -> Check {
    let (input, output) = same_shape(c)?;
    c.options(38)?;
    types(&[(input, INT8), (output, FLOAT32)])?;
    per_tensor(input).map(|_| ())
}
