//! Structural pre-check of a TFLite flatbuffer, done in safe Rust before LiteRT sees the bytes.
//!
//! Why: LiteRT 2.1.4's `LiteRtCreateModelFromBuffer` lets C++ exceptions escape through the C
//! API on some inconsistent models (e.g. `std::out_of_range` for an operator input index that
//! points outside the subgraph's tensor list, found by the corruption test). A C++ exception
//! cannot be caught in Rust: it aborts the process. So every cross-reference LiteRT's loader
//! follows with `vector::at` is checked here first, and a model that fails is a
//! `CorruptModel` error instead of an abort.
//!
//! Checked (schema field ids from TFLite's `schema.fbs`): every offset, table, vtable, vector
//! and string read here lies inside the buffer, and every table's fields lie inside the table;
//! metadata entries and `metadata_buffer` name valid buffers; operator codes' custom code
//! strings are readable; `Model.operator_codes`, `subgraphs`, `buffers`
//! and `signature_defs` are readable; for every subgraph, its inputs and outputs and every
//! operator's inputs, outputs and intermediates are `-1` or valid tensor indices, every
//! `opcode_index` is a valid operator code, every tensor's `buffer` is a valid buffer index and
//! its shape has no dimension below -1, its quantization's scale and zero-point vectors
//! are readable; every signature names a valid subgraph and valid tensor indices of it; every
//! buffer's external `offset`/`size` (large models) lies inside the bytes; every signature's
//! input and output tensors are exactly its subgraph's inputs and outputs.

use crate::error::RuntimeError;

/// A bounds-checked little-endian reader over the model bytes. Every method returns `None`
/// when a read would leave the buffer, so malformed input can never read out of bounds.
struct Fb<'a> {
    b: &'a [u8],
}

#[derive(Clone, Copy)]
struct Table {
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

#[derive(Clone, Copy)]
struct Vector {
    /// Position of the first element.
    start: usize,
    len: usize,
}

impl<'a> Fb<'a> {
    fn u8_at(&self, pos: usize) -> Option<u8> {
        self.b.get(pos).copied()
    }
    fn u16_at(&self, pos: usize) -> Option<u16> {
        Some(u16::from_le_bytes(
            self.b.get(pos..pos.checked_add(2)?)?.try_into().ok()?,
        ))
    }
    fn u32_at(&self, pos: usize) -> Option<u32> {
        Some(u32::from_le_bytes(
            self.b.get(pos..pos.checked_add(4)?)?.try_into().ok()?,
        ))
    }
    fn i32_at(&self, pos: usize) -> Option<i32> {
        Some(i32::from_le_bytes(
            self.b.get(pos..pos.checked_add(4)?)?.try_into().ok()?,
        ))
    }
    fn u64_at(&self, pos: usize) -> Option<u64> {
        Some(u64::from_le_bytes(
            self.b.get(pos..pos.checked_add(8)?)?.try_into().ok()?,
        ))
    }

    /// Follows a `uoffset_t` stored at `pos`.
    fn deref(&self, pos: usize) -> Option<usize> {
        let target = pos.checked_add(self.u32_at(pos)? as usize)?;
        (target < self.b.len()).then_some(target)
    }

    fn table(&self, pos: usize) -> Option<Table> {
        let soffset = i64::from(self.i32_at(pos)?);
        let vtable = usize::try_from(pos as i64 - soffset).ok()?;
        let vtable_len = usize::from(self.u16_at(vtable)?);
        let table_len = usize::from(self.u16_at(vtable + 2)?);
        if vtable_len < 4 || vtable_len % 2 != 0 || vtable + vtable_len > self.b.len() {
            return None;
        }
        if table_len < 4 || pos.checked_add(table_len)? > self.b.len() {
            return None;
        }
        // Every present field starts inside the table (after its 4-byte vtable offset).
        for entry in (4..vtable_len).step_by(2) {
            let off = usize::from(self.u16_at(vtable + entry)?);
            if off != 0 && (off < 4 || off >= table_len) {
                return None;
            }
        }
        Some(Table {
            pos,
            vtable,
            vtable_len,
        })
    }

    /// Position of field `id` in `t`, or `Ok(None)` if absent.
    fn field(&self, t: Table, id: usize) -> Option<Option<usize>> {
        let entry = 4 + 2 * id;
        if entry + 2 > t.vtable_len {
            return Some(None);
        }
        let off = usize::from(self.u16_at(t.vtable + entry)?);
        Some(if off == 0 { None } else { Some(t.pos + off) })
    }

    /// A vector field with elements of `elem` bytes (absent = empty).
    fn vector(&self, t: Table, id: usize, elem: usize) -> Option<Vector> {
        let Some(field) = self.field(t, id)? else {
            return Some(Vector { start: 0, len: 0 });
        };
        let at = self.deref(field)?;
        let len = self.u32_at(at)? as usize;
        let start = at.checked_add(4)?;
        if start.checked_add(len.checked_mul(elem)?)? > self.b.len() {
            return None;
        }
        Some(Vector { start, len })
    }

    /// Element `i` of a vector of tables.
    fn table_elem(&self, v: Vector, i: usize) -> Option<Table> {
        self.table(self.deref(v.start + 4 * i)?)
    }

    /// A scalar `u32` field (absent = `default`).
    fn u32_field(&self, t: Table, id: usize, default: u32) -> Option<u32> {
        match self.field(t, id)? {
            Some(p) => self.u32_at(p),
            None => Some(default),
        }
    }

    /// A scalar `u64` field (absent = 0).
    fn u64_field(&self, t: Table, id: usize) -> Option<u64> {
        match self.field(t, id)? {
            Some(p) => self.u64_at(p),
            None => Some(0),
        }
    }

    /// A string field is readable (offset, length and terminator in bounds).
    fn string_ok(&self, t: Table, id: usize) -> Option<()> {
        let Some(field) = self.field(t, id)? else {
            return Some(());
        };
        let at = self.deref(field)?;
        let len = self.u32_at(at)? as usize;
        (self.u8_at(at.checked_add(4)?.checked_add(len)?)? == 0).then_some(())
    }

    /// A sub-table field, if present.
    fn table_field(&self, t: Table, id: usize) -> Option<Option<Table>> {
        match self.field(t, id)? {
            Some(p) => Some(Some(self.table(self.deref(p)?)?)),
            None => Some(None),
        }
    }
}

/// Runs the structural check; `Err` carries a human-readable reason.
pub(crate) fn check_structure(bytes: &[u8]) -> Result<(), String> {
    let fb = Fb { b: bytes };
    let bad = |what: &str| format!("malformed flatbuffer: {what}");
    let model = fb
        .deref(0)
        .and_then(|p| fb.table(p))
        .ok_or_else(|| bad("root table"))?;

    // Model: operator_codes(1), subgraphs(2), description(3), buffers(4), signature_defs(7).
    let opcodes = fb
        .vector(model, 1, 4)
        .ok_or_else(|| bad("operator_codes"))?;
    for i in 0..opcodes.len {
        let code = fb
            .table_elem(opcodes, i)
            .ok_or_else(|| bad("operator code"))?;
        // OperatorCode: custom_code(1).
        fb.string_ok(code, 1).ok_or_else(|| bad("custom code"))?;
    }
    let subgraphs = fb.vector(model, 2, 4).ok_or_else(|| bad("subgraphs"))?;
    if subgraphs.len == 0 {
        return Err("model has no subgraph".into());
    }
    fb.string_ok(model, 3).ok_or_else(|| bad("description"))?;
    let buffers = fb.vector(model, 4, 4).ok_or_else(|| bad("buffers"))?;
    for i in 0..buffers.len {
        let buffer = fb.table_elem(buffers, i).ok_or_else(|| bad("buffer"))?;
        fb.vector(buffer, 0, 1).ok_or_else(|| bad("buffer data"))?;
        let offset = fb
            .u64_field(buffer, 1)
            .ok_or_else(|| bad("buffer offset"))?;
        let size = fb.u64_field(buffer, 2).ok_or_else(|| bad("buffer size"))?;
        if offset > 1
            && offset
                .checked_add(size)
                .is_none_or(|end| end > bytes.len() as u64)
        {
            return Err(format!("buffer {i} lies outside the model bytes"));
        }
    }

    // Per subgraph: number of tensors, and its input and output index vectors.
    // Model: metadata_buffer(5) [int], metadata(6) [Metadata { name(0), buffer(1) }].
    let buffer_index_ok = |i: u32, what: &str| -> Result<(), String> {
        if i as usize >= buffers.len {
            return Err(format!("{what} refers to buffer {i} of {}", buffers.len));
        }
        Ok(())
    };
    let metadata_buffers = fb
        .vector(model, 5, 4)
        .ok_or_else(|| bad("metadata_buffer"))?;
    for k in 0..metadata_buffers.len {
        let i = fb
            .i32_at(metadata_buffers.start + 4 * k)
            .ok_or_else(|| bad("metadata buffer"))?;
        buffer_index_ok(i as u32, "metadata_buffer")?;
    }
    let metadata = fb.vector(model, 6, 4).ok_or_else(|| bad("metadata"))?;
    for k in 0..metadata.len {
        let entry = fb
            .table_elem(metadata, k)
            .ok_or_else(|| bad("metadata entry"))?;
        fb.string_ok(entry, 0).ok_or_else(|| bad("metadata name"))?;
        let i = fb
            .u32_field(entry, 1, 0)
            .ok_or_else(|| bad("metadata buffer"))?;
        buffer_index_ok(i, "metadata")?;
    }

    let mut graphs: Vec<(usize, Vector, Vector)> = Vec::with_capacity(subgraphs.len.min(1024));
    for s in 0..subgraphs.len {
        let sg = fb.table_elem(subgraphs, s).ok_or_else(|| bad("subgraph"))?;
        // SubGraph: tensors(0), inputs(1), outputs(2), operators(3), name(4).
        let tensors = fb.vector(sg, 0, 4).ok_or_else(|| bad("tensors"))?;
        let n_tensors = tensors.len;
        for t in 0..n_tensors {
            let tensor = fb.table_elem(tensors, t).ok_or_else(|| bad("tensor"))?;
            // Tensor: shape(0), type(1), buffer(2), name(3), quantization(4), shape_signature(7).
            for id in [0, 7] {
                let shape = fb
                    .vector(tensor, id, 4)
                    .ok_or_else(|| bad("tensor shape"))?;
                for k in 0..shape.len {
                    let d = fb
                        .i32_at(shape.start + 4 * k)
                        .ok_or_else(|| bad("dimension"))?;
                    if d < -1 {
                        return Err(format!("tensor {t} of subgraph {s} has dimension {d}"));
                    }
                }
            }
            let buffer = fb
                .u32_field(tensor, 2, 0)
                .ok_or_else(|| bad("tensor buffer"))?;
            if buffer as usize >= buffers.len.max(1) {
                return Err(format!(
                    "tensor {t} of subgraph {s} uses buffer {buffer} of {}",
                    buffers.len
                ));
            }
            fb.string_ok(tensor, 3).ok_or_else(|| bad("tensor name"))?;
            if let Some(q) = fb
                .table_field(tensor, 4)
                .ok_or_else(|| bad("quantization"))?
            {
                // QuantizationParameters: min(0), max(1), scale(2) [float], zero_point(3) [long].
                for (id, elem) in [(0, 4), (1, 4), (2, 4), (3, 8)] {
                    fb.vector(q, id, elem)
                        .ok_or_else(|| bad("quantization vector"))?;
                }
                let scales = fb.vector(q, 2, 4).map_or(0, |v| v.len);
                let zeros = fb.vector(q, 3, 8).map_or(0, |v| v.len);
                if scales != zeros {
                    return Err(format!(
                        "tensor {t} of subgraph {s} has {scales} scales but {zeros} zero points"
                    ));
                }
            }
        }
        let index_ok = |v: Vector, what: &str| -> Result<(), String> {
            for k in 0..v.len {
                let i = fb.i32_at(v.start + 4 * k).ok_or_else(|| bad(what))?;
                if i < -1 || i >= 0 && i as usize >= n_tensors {
                    return Err(format!(
                        "{what} of subgraph {s} refers to tensor {i} of {n_tensors}"
                    ));
                }
            }
            Ok(())
        };
        let inputs = fb.vector(sg, 1, 4).ok_or_else(|| bad("subgraph inputs"))?;
        let outputs = fb.vector(sg, 2, 4).ok_or_else(|| bad("subgraph outputs"))?;
        index_ok(inputs, "input")?;
        index_ok(outputs, "output")?;
        let ops = fb.vector(sg, 3, 4).ok_or_else(|| bad("operators"))?;
        for o in 0..ops.len {
            let op = fb.table_elem(ops, o).ok_or_else(|| bad("operator"))?;
            // Operator: opcode_index(0), inputs(1), outputs(2), intermediates(8).
            let code = fb.u32_field(op, 0, 0).ok_or_else(|| bad("opcode_index"))?;
            if code as usize >= opcodes.len {
                return Err(format!(
                    "operator {o} of subgraph {s} uses operator code {code} of {}",
                    opcodes.len
                ));
            }
            for (id, what) in [
                (1, "operator input"),
                (2, "operator output"),
                (8, "intermediate"),
            ] {
                index_ok(fb.vector(op, id, 4).ok_or_else(|| bad(what))?, what)?;
            }
            fb.table_field(op, 4)
                .ok_or_else(|| bad("builtin options"))?;
            fb.vector(op, 5, 1).ok_or_else(|| bad("custom options"))?;
        }
        fb.string_ok(sg, 4).ok_or_else(|| bad("subgraph name"))?;
        graphs.push((n_tensors, inputs, outputs));
    }

    let signatures = fb
        .vector(model, 7, 4)
        .ok_or_else(|| bad("signature_defs"))?;
    for g in 0..signatures.len {
        let sig = fb
            .table_elem(signatures, g)
            .ok_or_else(|| bad("signature"))?;
        // SignatureDef: inputs(0), outputs(1), signature_key(2), subgraph_index(4).
        let sub = fb
            .u32_field(sig, 4, 0)
            .ok_or_else(|| bad("signature subgraph"))? as usize;
        let Some(&(n_tensors, sg_inputs, sg_outputs)) = graphs.get(sub) else {
            return Err(format!(
                "signature {g} refers to subgraph {sub} of {}",
                subgraphs.len
            ));
        };
        fb.string_ok(sig, 2).ok_or_else(|| bad("signature key"))?;
        for (id, io) in [(0, sg_inputs), (1, sg_outputs)] {
            let maps = fb
                .vector(sig, id, 4)
                .ok_or_else(|| bad("signature tensors"))?;
            if maps.len != io.len {
                return Err(format!(
                    "signature {g} has {} {} but its subgraph has {}",
                    maps.len,
                    if id == 0 { "inputs" } else { "outputs" },
                    io.len
                ));
            }
            for m in 0..maps.len {
                // TensorMap: name(0), tensor_index(1).
                let map = fb.table_elem(maps, m).ok_or_else(|| bad("tensor map"))?;
                fb.string_ok(map, 0).ok_or_else(|| bad("tensor map name"))?;
                let index = fb.u32_field(map, 1, 0).ok_or_else(|| bad("tensor index"))?;
                if index as usize >= n_tensors {
                    return Err(format!(
                        "signature {g} refers to tensor {index} of {n_tensors}"
                    ));
                }
                // LiteRT maps signature tensors onto the subgraph's inputs / outputs.
                let listed = (0..io.len).any(|k| {
                    fb.i32_at(io.start + 4 * k)
                        .is_some_and(|i| i as u32 == index)
                });
                if !listed {
                    return Err(format!(
                        "signature {g} tensor {index} is not a subgraph {}",
                        if id == 0 { "input" } else { "output" }
                    ));
                }
            }
        }
    }
    Ok(())
}

/// [`check_structure`] as a [`RuntimeError::CorruptModel`].
pub(crate) fn check(bytes: &[u8]) -> Result<(), RuntimeError> {
    check_structure(bytes).map_err(|reason| RuntimeError::CorruptModel {
        status: None,
        reason,
    })
}
