"""Runs a .tflite model with ai_edge_litert's Python Interpreter on int8 windows.

Usage: reference.py MODEL WINDOWS.bin N
WINDOWS.bin holds N windows of int8 values back to back, each in the model input's shape
(time-major). Prints one JSON list of N int8 outputs, from the default interpreter (XNNPACK)
and from the builtin kernels without delegates: {"default": [...], "builtin": [...]}.
"""
import json
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def run(model, windows, resolver):
    it = Interpreter(model_path=model, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    out = it.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    outs = []
    for w in windows:
        it.set_tensor(inp["index"], w.reshape(inp["shape"]))
        it.invoke()
        outs.append(int(it.get_tensor(out["index"]).reshape(-1)[0]))
    return outs


def main():
    model, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    windows = np.fromfile(path, dtype=np.int8).reshape(n, -1)
    print(json.dumps({
        "default": run(model, windows, OpResolverType.AUTO),
        "builtin": run(model, windows, OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
    }))


if __name__ == "__main__":
    main()
