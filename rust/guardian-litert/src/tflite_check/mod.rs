//! Structural pre-check of a TFLite flatbuffer, done in safe Rust before LiteRT sees the bytes.
//!
//! Why: LiteRT 2.1.4 trusts the model. On some inconsistent models it lets C++ exceptions
//! escape through its C API (caught by `guard.cc`), but on others it reads or writes out of
//! bounds and the process dies of a signal, which nothing can catch: e.g. a RESHAPE whose
//! shape input is an int32[32] conv bias instead of its int32[2] constant (one flipped bit of
//! the shipped model) segfaults while the model is compiled. So a model reaches LiteRT only
//! if it is exactly the kind of graph the pre-check understands, with every shape, type, size
//! and quantization parameter that each operator relies on consistent:
//!
//! - [`reader`]: every offset, table, vtable, vector and string lies inside the bytes;
//! - [`parse`]: one subgraph; no external buffers; every field the checks read is readable;
//! - [`graph`]: schema version 3; operator codes are builtin ops Guardian knows (below), with
//!   consistent old and new code fields; every tensor is float32, int32 or int8, of rank at
//!   most 6, with dimensions >= 1, at most 2^24 elements, a shape signature matching its
//!   shape, a valid buffer whose data (if any) is exactly the tensor's byte size, and
//!   quantization parameters that fit its type (int8: per-tensor or per-channel scales that
//!   are finite, normal and positive, as many zero points as scales within [-128, 127],
//!   per-channel along a valid dimension with one scale per channel; int32: zero points 0);
//!   graph inputs and outputs and every operator's inputs and outputs are valid tensor indices;
//!   data flows in order (each operator reads only constants, graph inputs and earlier
//!   outputs; no constant and no tensor is written twice); the signature matches the graph;
//! - [`ops`]: per builtin op (CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE,
//!   FULLY_CONNECTED, LOGISTIC, QUANTIZE, DEQUANTIZE): input/output counts, ranks, types,
//!   the output shape computed from the inputs and options, constant weights, bias shapes
//!   and scales (`input * filter`), requantization factors in XNNPACK's range, and the
//!   options table type and values.
//!
//! A model outside this set (another op, type or feature) is refused with a message that
//! says what; extend the checks together with the model.

mod graph;
mod ops;
mod parse;
mod reader;

use crate::error::RuntimeError;

/// Runs the structural check; `Err` carries a human-readable reason.
pub(crate) fn check_structure(bytes: &[u8]) -> Result<(), String> {
    let fb = reader::Fb { b: bytes };
    let model = parse::model(&fb)?;
    graph::check(&model)?;
    signatures::check(&fb, &model.graph)?;
    ops::check(&model)
}

/// [`check_structure`] as a [`RuntimeError::CorruptModel`].
pub(crate) fn check(bytes: &[u8]) -> Result<(), RuntimeError> {
    check_structure(bytes).map_err(|reason| RuntimeError::CorruptModel {
        status: None,
        reason,
    })
}

mod signatures {
    //! `Model.signature_defs` and the model's metadata entries.

    use super::parse::Graph;
    use super::reader::{Fb, Table};

    fn bad(what: &str) -> String {
        format!("malformed flatbuffer: {what}")
    }

    /// A string field that is present and readable: LiteRT reads these names without
    /// checking for null (an absent metadata or signature tensor name segfaults it).
    fn name(fb: &Fb<'_>, t: Table, id: usize, what: &str) -> Result<(), String> {
        match fb.field(t, id).flatten() {
            Some(_) => fb.string_ok(t, id).ok_or_else(|| bad(what)),
            None => Err(format!("{what} is missing")),
        }
    }

    /// Every signature names subgraph 0 and lists exactly its inputs and outputs; metadata
    /// entries name valid buffers.
    pub(super) fn check(fb: &Fb<'_>, graph: &Graph) -> Result<(), String> {
        let root = fb
            .deref(0)
            .and_then(|p| fb.table(p))
            .ok_or_else(|| bad("root table"))?;
        metadata(fb, root)?;
        // Model: signature_defs(7).
        let sigs = fb.vector(root, 7, 4).ok_or_else(|| bad("signature_defs"))?;
        for g in 0..sigs.len {
            let sig = fb.table_elem(sigs, g).ok_or_else(|| bad("signature"))?;
            // SignatureDef: inputs(0), outputs(1), signature_key(2), subgraph_index(4).
            let sub = fb.u32_field(sig, 4, 0).ok_or_else(|| bad("signature"))?;
            if sub != 0 {
                return Err(format!("signature {g} refers to subgraph {sub} of 1"));
            }
            name(fb, sig, 2, "signature key")?;
            tensor_maps(fb, sig, 0, &graph.inputs, "inputs")?;
            tensor_maps(fb, sig, 1, &graph.outputs, "outputs")?;
        }
        Ok(())
    }

    /// The signature's tensor maps (field `id`) are exactly the subgraph's `io` tensors.
    fn tensor_maps(
        fb: &Fb<'_>,
        sig: Table,
        id: usize,
        io: &[i32],
        what: &str,
    ) -> Result<(), String> {
        let maps = fb
            .vector(sig, id, 4)
            .ok_or_else(|| bad("signature tensors"))?;
        if maps.len != io.len() {
            return Err(format!(
                "a signature has {} {what} but its subgraph has {}",
                maps.len,
                io.len()
            ));
        }
        for m in 0..maps.len {
            // TensorMap: name(0), tensor_index(1).
            let map = fb.table_elem(maps, m).ok_or_else(|| bad("tensor map"))?;
            name(fb, map, 0, "signature tensor name")?;
            let index = fb.u32_field(map, 1, 0).ok_or_else(|| bad("tensor index"))?;
            if !io.iter().any(|&i| i as u32 == index) {
                return Err(format!(
                    "signature tensor {index} is not one of the subgraph's {what}"
                ));
            }
        }
        Ok(())
    }

    /// Model: metadata_buffer(5) [int], metadata(6) [Metadata { name(0), buffer(1) }].
    fn metadata(fb: &Fb<'_>, root: Table) -> Result<(), String> {
        let n_buffers = fb.vector(root, 4, 4).ok_or_else(|| bad("buffers"))?.len;
        let valid = |i: u32| -> Result<(), String> {
            if i as usize >= n_buffers {
                return Err(format!("metadata refers to buffer {i} of {n_buffers}"));
            }
            Ok(())
        };
        for i in fb
            .i32_vec(root, 5)
            .ok_or_else(|| bad("metadata_buffer"))?
            .unwrap_or_default()
        {
            valid(i as u32)?;
        }
        let entries = fb.vector(root, 6, 4).ok_or_else(|| bad("metadata"))?;
        for k in 0..entries.len {
            let entry = fb
                .table_elem(entries, k)
                .ok_or_else(|| bad("metadata entry"))?;
            name(fb, entry, 0, "metadata name")?;
            valid(
                fb.u32_field(entry, 1, 0)
                    .ok_or_else(|| bad("metadata buffer"))?,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check_structure;

    fn shipped(file: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../models")
            .join(file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    const FULL: &str = "guardian-full-qat-int8.tflite";
    const ACC: &str = "guardian-acc-qat-int8.tflite";

    #[test]
    fn shipped_models_pass() {
        for file in [FULL, ACC] {
            assert_eq!(check_structure(&shipped(file)), Ok(()), "{file}");
        }
    }

    /// One flipped bit, and the reason the pre-check gives.
    fn flipped(file: &str, offset: usize, mask: u8) -> String {
        let mut b = shipped(file);
        b[offset] ^= mask;
        check_structure(&b).expect_err("damaged model passed")
    }

    #[test]
    fn reshape_reading_the_conv_bias_as_its_shape_is_refused() {
        // The flip: RESHAPE's shape input becomes the int32[32] conv bias (this model
        // segfaulted LiteRT 2.1.4).
        let why = flipped(FULL, 10624, 0x02);
        assert!(
            why.contains("RESHAPE") && why.contains("new shape"),
            "{why}"
        );
    }

    #[test]
    fn absent_metadata_and_signature_names_are_refused() {
        // A vtable shared by the metadata entries and the signature's tensor maps loses the
        // name field (found by the fuzz test; segfaulted LiteRT 2.1.4).
        for file in [FULL, ACC] {
            let why = flipped(file, 228, 0x08);
            assert!(why.contains("name is missing"), "{why}");
        }
    }

    #[test]
    fn int8_conv_without_bias_is_refused() {
        // TFLite's int8 conv kernel requires a bias (found by the fuzz test).
        let why = flipped(ACC, 10292, 0x01);
        assert!(
            why.contains("CONV_2D") && why.contains("bias is missing"),
            "{why}"
        );
    }

    #[test]
    fn every_single_bit_flip_is_checked_without_panicking() {
        // In-process and quick: the check itself never panics or overflows on a flip.
        for file in [FULL, ACC] {
            let good = shipped(file);
            let mut refused = 0;
            for offset in 0..good.len() {
                let mut b = good.clone();
                b[offset] ^= 1 << (offset % 8);
                refused += usize::from(check_structure(&b).is_err());
            }
            assert!(refused > good.len() / 5, "{file}: {refused}");
        }
    }
}
