"""The training run's settings: the seed, the model files and the schedule (`Config`)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from . import preprocessing as pp

SEED = 1234
FILES = {"full": "guardian-full-qat-int8.tflite", "acc_only": "guardian-acc-qat-int8.tflite"}  # the shipped (QAT int8) models
SHORT = {"full": "full", "acc_only": "acc"}  # mode -> file-name part
KINDS = ("float32", "ptq_int8", "qat_int8")
RELEASE_DATASETS = ("mobifall", "sisfall", "umafall")  # what the shipped models (and every CV fold) train on
PHONE_DATASETS = ("mobifall", "umafall")  # phone in a pocket: every ADL window is kept for training
MAX_WINDOW_FRAMES = 156  # the engine's longest window (guardian_core::card::MAX_WINDOW_FRAMES)


@dataclass
class Config:
    quick: bool
    pre_epochs: int
    qat_epochs: int
    pre_patience: int = 15
    qat_patience: int = 10
    batch: int = 64
    fall_hop: int = 6
    adl_keep_sisfall: float = 0.2
    adl_keep_mobifall: float = 1.0
    cv_folds: int = 5
    cv_epochs: int = 10
    cv_patience: int = 3
    cv_adl_keep_sisfall: float = 0.1
    cv_fall_hop: int = 8
    val_adl_keep_for_loss: float = 0.3
    study_epochs: int = 10
    rep_samples: int = 500
    # hard negatives (main models only): trigger-gated ADL windows of the training subjects
    gated_hop: int = 5
    gated_per_trial_cap: int = 12
    # loss multiplier of every gated ADL training window (on top of class weights), per model: chosen on the CV
    # folds' validation subjects with the release schedule (docs/EVALUATION.md, "The release schedule on every fold")
    gated_adl_weight_full: float = 4.0
    gated_adl_weight_acc_only: float = 4.0
    # threshold: chosen on validation trigger-gated windows at gated_hop (what the engine scores)
    threshold_min_recall: float = 0.99
    model_width: float = 1.0  # scales every layer of the main models (model.build_model); the card limit is 32 KB
    window_frames: int = 100  # frames per model window; the band stays [40, 80), so frames past 100 are post-impact context
    # training randomness (window sampling, weight initialisation, augmentation, the validation-loss subset); the
    # split and the CV folds keep SEED, so another value measures how much of a result is the seed's
    seed: int = SEED
    reduced: bool = False

    @staticmethod
    def make(quick: bool) -> Config:
        if quick:
            return Config(quick=True, pre_epochs=4, qat_epochs=2, cv_folds=0, study_epochs=0)
        return Config(quick=False, pre_epochs=100, qat_epochs=50)

    @staticmethod
    def make_reduced() -> Config:
        """Reduced schedule for side studies (cross-dataset): same data and rules, fewer epochs, no CV/rotation study."""
        return Config(quick=False, pre_epochs=15, qat_epochs=4, pre_patience=5, qat_patience=2, cv_folds=0, study_epochs=0,
                      reduced=True)

    @staticmethod
    def for_run(quick: bool, reduced: bool, fixed_split: bool, overrides: dict | None = None) -> Config:
        """The schedule of one run; a run on a given split (a cross-validation fold) has no CV or rotation
        study. `overrides` ({field: value}) changes named fields, e.g. for a cross-validated experiment."""
        cfg = Config.make_reduced() if reduced and not quick else Config.make(quick)
        if fixed_split:
            cfg.cv_folds, cfg.study_epochs = 0, 0
        return cfg.with_overrides(overrides or {})

    def gated_adl_weight(self, mode: str) -> float:
        """The hard-negative loss weight of the `mode` model."""
        return {"full": self.gated_adl_weight_full, "acc_only": self.gated_adl_weight_acc_only}[mode]

    def with_overrides(self, overrides: dict) -> Config:
        """A copy with `overrides` applied; an unknown field or a value of another type is refused."""
        known = {f.name: f for f in fields(self)}
        for k, v in overrides.items():
            if k not in known or k in ("quick", "reduced"):
                raise ValueError(f"unknown training setting {k!r} (settable: {sorted(set(known) - {'quick', 'reduced'})})")
            cur = getattr(self, k)
            if isinstance(cur, bool) or not isinstance(v, (int, float)) or isinstance(v, bool) or (isinstance(cur, int) and not isinstance(v, int)):
                raise ValueError(f"training setting {k}: expected a {type(cur).__name__}, got {v!r}")
        w = overrides.get("window_frames", self.window_frames)
        if not pp.BAND[1] <= w <= MAX_WINDOW_FRAMES:
            raise ValueError(f"training setting window_frames: must hold the band {pp.BAND} and be at most "
                             f"{MAX_WINDOW_FRAMES} (the engine's longest window), got {w}")
        return replace(self, **overrides)
