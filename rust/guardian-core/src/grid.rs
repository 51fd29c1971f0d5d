//! The model grid (`docs/PREPROCESSING.md` section 2): every sensor is resampled onto it, and
//! frames, windows and detector times count in its steps.

/// Grid period: 50 Hz, in ns. Grid instants are `t_k = k * GRID_PERIOD_NS`.
pub const GRID_PERIOD_NS: i64 = 20_000_000;
