"""Offline confirmation of earmark's ONNX exports with the official checker (Debian python3-onnx).

Usage: /usr/bin/python3 scripts/goldens/onnx_check.py model.onnx [...]
Runs onnx.checker.check_model(full_check=True) (structure + shape inference) on each file, prints the
opset, the graph inputs/outputs with their inferred shapes and the metadata keys, and exits 1 on failure.
Install: apt-get install -y python3-onnx (1.12 in Debian 12, opset <= 17).
"""
import sys

import onnx
from onnx import shape_inference


def describe(vi):
    dims = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
    return f"{vi.name}{dims}"


def main(paths):
    ok = True
    for p in paths:
        m = onnx.load(p)
        try:
            onnx.checker.check_model(m, full_check=True)
            inferred = shape_inference.infer_shapes(m, strict_mode=True)
            print(f"OK  {p}: onnx {onnx.__version__}, ir {m.ir_version}, opset {[o.version for o in m.opset_import]}, "
                  f"{len(m.graph.node)} nodes, inputs {[describe(i) for i in m.graph.input]}, "
                  f"outputs {[describe(o) for o in inferred.graph.output]}, metadata {[e.key for e in m.metadata_props]}")
        except Exception as e:  # noqa: BLE001 - report every failure
            ok = False
            print(f"FAIL {p}: {e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
