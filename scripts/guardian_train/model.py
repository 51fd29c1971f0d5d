"""Model, augmentation, training, conversion and TFLite evaluation."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import math  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402
from tqdm import tqdm  # noqa: E402

from . import preprocessing as pp  # noqa: E402
from .data import WindowSet  # noqa: E402

CLIP_ACC = 2.0 * pp.G  # MobiFall-like phone: +-2 g per axis


def set_seeds(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:
        pass


TRAIN_THREADS = 1  # TensorFlow threads every training runs with (`make train` and each cross-validation fold)


def use_threads(n: int) -> None:
    """Pins TensorFlow to `n` threads (intra- and inter-op). Call before TensorFlow runs its first
    op. Trained weights depend on the thread count, so a pinned count keeps them independent of how
    many cores the machine has and of how many trainings share it."""
    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


def threads_in_use() -> int:
    """TensorFlow's intra-op thread count (0: its default, about one per core)."""
    return tf.config.threading.get_intra_op_parallelism_threads()


def random_rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform random rotations (n, 3, 3) from unit quaternions."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        1,
    )


def make_features(acc, gyro, mode, rot=None, clip_mask=None) -> np.ndarray:
    """Windows (N,W,3) -> model input (N,W,1,C) float32; rotation and clipping before features."""
    # rotate the f32 grid values (the engine sees f32 grid values); v' = R v per frame
    acc = np.asarray(acc, np.float32)
    gyro = np.asarray(gyro, np.float32)
    if rot is not None:
        rt = np.ascontiguousarray(np.transpose(rot, (0, 2, 1))).astype(np.float32)
        acc = np.matmul(acc, rt)
        gyro = np.matmul(gyro, rt)
    if clip_mask is not None and clip_mask.any():
        acc = acc.copy()
        acc[clip_mask] = np.clip(acc[clip_mask], -CLIP_ACC, CLIP_ACC)
    f = pp.features_from_values(acc, gyro if mode == "full" else None)
    return f[:, :, None, :].astype(np.float32)


class AugSequence(keras.utils.Sequence):
    def __init__(self, ws: WindowSet, mode, batch, seed, rotate=True, clip_p=0.3, class_weight=None):
        super().__init__()
        self.ws, self.mode, self.batch, self.seed = ws, mode, batch, seed
        self.rotate, self.clip_p = rotate, clip_p
        self.cw = class_weight or {0: 1.0, 1: 1.0}
        self.epoch = 0
        self._perm()

    def _perm(self):
        self.order = np.random.default_rng((self.seed, self.epoch)).permutation(len(self.ws))

    def __len__(self):
        return math.ceil(len(self.ws) / self.batch)

    def __getitem__(self, i):
        idx = self.order[i * self.batch : (i + 1) * self.batch]
        rng = np.random.default_rng((self.seed, self.epoch, i))
        rot = random_rotations(rng, idx.shape[0]) if self.rotate else None
        clip = rng.random(idx.shape[0]) < self.clip_p
        x = make_features(self.ws.acc[idx], self.ws.gyro[idx], self.mode, rot, clip)
        y = self.ws.label[idx].astype(np.float32)
        w = np.where(y > 0.5, self.cw[1], self.cw[0]).astype(np.float32)
        if self.ws.weight is not None:
            w = w * self.ws.weight[idx]
        return x, y, w

    def on_epoch_end(self):
        self.epoch += 1
        self._perm()


def build_model(n_channels: int, batch_size: int | None = None, width: float = 1.0, window: int = pp.WINDOW) -> keras.Model:
    """Three temporal convolutions and a small dense head over windows of `window` frames; `width`
    scales every layer's units (1.0: 16, 24, 32 filters and 16 units, about 17 KB as int8 .tflite
    at 100 frames)."""
    L = keras.layers
    u = [max(1, round(n * width)) for n in (16, 24, 32, 16)]
    inp = keras.Input((window, 1, n_channels), batch_size=batch_size, name="window")
    x = L.Conv2D(u[0], (7, 1), padding="same", activation="relu")(inp)
    x = L.MaxPooling2D((2, 1))(x)
    x = L.Conv2D(u[1], (5, 1), padding="same", activation="relu")(x)
    x = L.MaxPooling2D((2, 1))(x)
    x = L.Conv2D(u[2], (5, 1), padding="same", activation="relu")(x)
    x = L.MaxPooling2D((5, 1))(x)
    x = L.Flatten()(x)
    x = L.Dense(u[3], activation="relu")(x)
    out = L.Dense(1, activation="sigmoid", name="fall")(x)
    return keras.Model(inp, out)


def balanced_class_weight(labels) -> dict:
    n = len(labels)
    n1 = int((labels == 1).sum())
    n0 = n - n1
    return {0: n / (2.0 * max(n0, 1)), 1: n / (2.0 * max(n1, 1))}


class _TqdmEpochs(keras.callbacks.Callback):
    def __init__(self, total, desc):
        super().__init__()
        self.bar = tqdm(total=total, desc=desc, mininterval=1)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.bar.set_postfix(loss=f"{logs.get('loss', 0):.4f}", val_loss=f"{logs.get('val_loss', 0):.4f}")
        self.bar.update(1)

    def on_train_end(self, logs=None):
        self.bar.close()


def fit(model, train_seq, val_xy, epochs, lr, patience, desc, reduce_lr=True):
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="acc"), keras.metrics.AUC(name="auc")],
    )
    cbs = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True),
        _TqdmEpochs(epochs, desc),
    ]
    if reduce_lr:
        cbs.append(
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(2, patience // 3), min_lr=1e-6)
        )
    hist = model.fit(train_seq, validation_data=val_xy, epochs=epochs, callbacks=cbs, verbose=0, shuffle=False)
    h = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    best = int(np.argmin(h["val_loss"])) if h.get("val_loss") else len(h.get("loss", [])) - 1
    return h, best


def quantize_model(model):
    import tensorflow_model_optimization as tfmot

    return tfmot.quantization.keras.quantize_model(model)


def convert(model, n_channels, kind, rep_x=None, width: float = 1.0, window: int = pp.WINDOW) -> bytes:
    """kind: float32 | ptq | qat. Static batch 1; int8 input/output for ptq and qat."""
    b1 = build_model(n_channels, batch_size=1, width=width, window=window)  # static batch 1: same layers, weights copied
    if kind == "qat":
        b1 = quantize_model(b1)
    b1.set_weights(model.get_weights())
    conv = tf.lite.TFLiteConverter.from_keras_model(b1)
    if kind in ("ptq", "qat"):
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        if kind == "ptq":
            if rep_x is None:
                raise ValueError("PTQ needs a representative dataset")

            def rep():
                for i in range(rep_x.shape[0]):
                    yield [rep_x[i : i + 1]]

            conv.representative_dataset = rep
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return conv.convert()


def tflite_io(model_bytes: bytes) -> dict:
    it = Interpreter(model_content=model_bytes)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]

    def spec(d):
        s, z = d["quantization"]
        return {"shape": [int(v) for v in d["shape"]], "dtype": np.dtype(d["dtype"]).name, "scale": float(s), "zero_point": int(z)}

    ops = sorted({op["op_name"] for op in it._get_ops_details()}) if hasattr(it, "_get_ops_details") else []
    dtypes = sorted({np.dtype(t["dtype"]).name for t in it.get_tensor_details()})
    return {"input": spec(i), "output": spec(o), "ops": ops, "tensor_dtypes": dtypes}


def tflite_scorer(model_bytes: bytes):
    """One LiteRT interpreter of a .tflite: a callable mapping features x (N,W,1,C) to scores in [0,1], one window
    at a time (`desc`: a progress bar)."""
    it = Interpreter(model_content=model_bytes, num_threads=1)
    it.allocate_tensors()
    di, do = it.get_input_details()[0], it.get_output_details()[0]
    in_int8 = di["dtype"] == np.int8
    s_in, z_in = di["quantization"]
    s_out, z_out = do["quantization"]

    def score(x: np.ndarray, desc: str | None = None) -> np.ndarray:
        xin = pp.quantize(x, s_in, z_in) if in_int8 else x.astype(np.float32)
        out = np.empty(x.shape[0], np.float64)
        for n in tqdm(range(x.shape[0]), desc=desc, mininterval=2, leave=False, disable=desc is None):
            it.set_tensor(di["index"], xin[n : n + 1])
            it.invoke()
            r = it.get_tensor(do["index"])[0, 0]
            out[n] = pp.dequantize(r, s_out, z_out) if do["dtype"] == np.int8 else float(r)
        return out

    return score


def tflite_predict(model_bytes: bytes, x: np.ndarray, desc="tflite") -> np.ndarray:
    """Scores in [0,1] for features x (N,100,1,C) via the LiteRT interpreter, one window at a time."""
    return tflite_scorer(model_bytes)(x, desc)
