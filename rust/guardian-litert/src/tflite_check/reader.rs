//! A bounds-checked reader of the flatbuffer encoding: every offset, table, vtable, vector
//! and string read lies inside the bytes, and every table's fields lie inside the table.

/// A bounds-checked little-endian reader over the model bytes. Every method returns `None`
/// when a read would leave the buffer, so malformed input can never read out of bounds.
pub(super) struct Fb<'a> {
    pub(super) b: &'a [u8],
}

#[derive(Clone, Copy)]
pub(super) struct Table {
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

#[derive(Clone, Copy)]
pub(super) struct Vector {
    /// Position of the first element.
    pub(super) start: usize,
    pub(super) len: usize,
}

impl<'a> Fb<'a> {
    pub(super) fn u8_at(&self, pos: usize) -> Option<u8> {
        self.b.get(pos).copied()
    }
    pub(super) fn u16_at(&self, pos: usize) -> Option<u16> {
        Some(u16::from_le_bytes(
            self.b.get(pos..pos.checked_add(2)?)?.try_into().ok()?,
        ))
    }
    pub(super) fn u32_at(&self, pos: usize) -> Option<u32> {
        Some(u32::from_le_bytes(
            self.b.get(pos..pos.checked_add(4)?)?.try_into().ok()?,
        ))
    }
    pub(super) fn i32_at(&self, pos: usize) -> Option<i32> {
        Some(i32::from_le_bytes(
            self.b.get(pos..pos.checked_add(4)?)?.try_into().ok()?,
        ))
    }
    pub(super) fn u64_at(&self, pos: usize) -> Option<u64> {
        Some(u64::from_le_bytes(
            self.b.get(pos..pos.checked_add(8)?)?.try_into().ok()?,
        ))
    }

    /// Follows a `uoffset_t` stored at `pos`.
    pub(super) fn deref(&self, pos: usize) -> Option<usize> {
        let target = pos.checked_add(self.u32_at(pos)? as usize)?;
        (target < self.b.len()).then_some(target)
    }

    pub(super) fn table(&self, pos: usize) -> Option<Table> {
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
    pub(super) fn field(&self, t: Table, id: usize) -> Option<Option<usize>> {
        let entry = 4 + 2 * id;
        if entry + 2 > t.vtable_len {
            return Some(None);
        }
        let off = usize::from(self.u16_at(t.vtable + entry)?);
        Some(if off == 0 { None } else { Some(t.pos + off) })
    }

    /// A vector field with elements of `elem` bytes (absent = empty).
    pub(super) fn vector(&self, t: Table, id: usize, elem: usize) -> Option<Vector> {
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
    pub(super) fn table_elem(&self, v: Vector, i: usize) -> Option<Table> {
        self.table(self.deref(v.start + 4 * i)?)
    }

    /// A scalar `u32` field (absent = `default`).
    pub(super) fn u32_field(&self, t: Table, id: usize, default: u32) -> Option<u32> {
        match self.field(t, id)? {
            Some(p) => self.u32_at(p),
            None => Some(default),
        }
    }

    /// A scalar `u64` field (absent = 0).
    pub(super) fn u64_field(&self, t: Table, id: usize) -> Option<u64> {
        match self.field(t, id)? {
            Some(p) => self.u64_at(p),
            None => Some(0),
        }
    }

    /// A string field is readable (offset, length and terminator in bounds).
    pub(super) fn string_ok(&self, t: Table, id: usize) -> Option<()> {
        let Some(field) = self.field(t, id)? else {
            return Some(());
        };
        let at = self.deref(field)?;
        let len = self.u32_at(at)? as usize;
        (self.u8_at(at.checked_add(4)?.checked_add(len)?)? == 0).then_some(())
    }

    /// A sub-table field, if present.
    pub(super) fn table_field(&self, t: Table, id: usize) -> Option<Option<Table>> {
        match self.field(t, id)? {
            Some(p) => Some(Some(self.table(self.deref(p)?)?)),
            None => Some(None),
        }
    }

    /// A scalar field of `N` little-endian bytes (absent = `default`).
    fn scalar<const N: usize>(&self, t: Table, id: usize, default: [u8; N]) -> Option<[u8; N]> {
        match self.field(t, id)? {
            Some(p) => self.b.get(p..p.checked_add(N)?)?.try_into().ok(),
            None => Some(default),
        }
    }

    /// A `ubyte` / `byte` / `bool` field (absent = `default`).
    pub(super) fn u8_field(&self, t: Table, id: usize, default: u8) -> Option<u8> {
        self.scalar(t, id, [default]).map(|[b]| b)
    }

    /// An `int` field (absent = `default`).
    pub(super) fn i32_field(&self, t: Table, id: usize, default: i32) -> Option<i32> {
        self.scalar(t, id, default.to_le_bytes())
            .map(i32::from_le_bytes)
    }

    /// A `[int]` field (absent = `None`).
    pub(super) fn i32_vec(&self, t: Table, id: usize) -> Option<Option<Vec<i32>>> {
        if self.field(t, id)?.is_none() {
            return Some(None);
        }
        let v = self.vector(t, id, 4)?;
        (0..v.len)
            .map(|k| self.i32_at(v.start + 4 * k))
            .collect::<Option<Vec<_>>>()
            .map(Some)
    }

    /// A `[float]` field (absent = empty).
    pub(super) fn f32_vec(&self, t: Table, id: usize) -> Option<Vec<f32>> {
        let v = self.vector(t, id, 4)?;
        (0..v.len)
            .map(|k| self.u32_at(v.start + 4 * k).map(f32::from_bits))
            .collect()
    }

    /// A `[long]` field (absent = empty).
    pub(super) fn i64_vec(&self, t: Table, id: usize) -> Option<Vec<i64>> {
        let v = self.vector(t, id, 8)?;
        (0..v.len)
            .map(|k| self.u64_at(v.start + 8 * k).map(|u| u as i64))
            .collect()
    }

    /// A `[ubyte]` field as a slice of the bytes (absent = empty).
    pub(super) fn bytes(&self, t: Table, id: usize) -> Option<&'a [u8]> {
        let v = self.vector(t, id, 1)?;
        self.b.get(v.start..v.start + v.len)
    }
}
