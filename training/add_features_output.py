#!/usr/bin/python3
"""Adds the penultimate features as a second output of an exported serving graph (no retraining).

    /usr/bin/python3 training/add_features_output.py [--model models/gtsrb-resnet18]

The serving graph ends with global average pooling (ReduceMean over H, W) and the classifier (Gemm):
the pooled vector, 512 values per image, is what the monitor's input-drift check and outlier score
compare. This script names that tensor `features`, lists it as a graph output [N, 512] beside
`logits`, and records it in manifest.json (`serving.features`, the new `serving.sha256`). Nothing
else changes: the graph is loaded with load_external_data=False, so its initializers stay references
into weights.bin (shared with debug.onnx, untouched), and no node is added, removed or reordered, so
the logits are computed by the same operators on the same values. training/export.py writes the same
output for future exports; running this on a graph that has it already changes nothing.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from manifest_json import dumps  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FEATURES = "features"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_features_output(model: onnx.ModelProto, logits: str) -> int:
    """Names the classifier's input `features` and lists it as an output; returns its width."""
    graph = model.graph
    if any(o.name == FEATURES for o in graph.output):
        dims = graph.output[[o.name for o in graph.output].index(FEATURES)].type.tensor_type.shape.dim
        return dims[1].dim_value
    producers = [n for n in graph.node if logits in n.output]
    if len(producers) != 1 or producers[0].op_type != "Gemm":
        raise SystemExit(f"expected one Gemm producing '{logits}', found {[n.op_type for n in producers]}")
    gemm = producers[0]
    pooled = gemm.input[0]
    pool = [n for n in graph.node if pooled in n.output]
    if len(pool) != 1 or pool[0].op_type not in ("ReduceMean", "GlobalAveragePool", "Flatten"):
        raise SystemExit(f"the classifier's input is not a pooled vector: {[n.op_type for n in pool]}")
    weight = next(i for i in graph.initializer if i.name == gemm.input[1])
    transposed = any(a.name == "transB" and a.i == 1 for a in gemm.attribute)
    width = weight.dims[1] if transposed else weight.dims[0]
    for node in graph.node:
        node.input[:] = [FEATURES if name == pooled else name for name in node.input]
        node.output[:] = [FEATURES if name == pooled else name for name in node.output]
    batch = graph.output[0].type.tensor_type.shape.dim[0]
    out = helper.make_tensor_value_info(FEATURES, TensorProto.FLOAT, [batch.dim_param or batch.dim_value, width])
    graph.output.append(out)
    return width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "gtsrb-resnet18")
    args = parser.parse_args()
    manifest_file = args.model / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    serving = manifest["serving"]
    path = args.model / serving["file"]
    weights = args.model / manifest["weights"]["file"]
    weights_before = sha256(weights)

    model = onnx.load(str(path), load_external_data=False)
    external_before = sorted((i.name, tuple((e.key, e.value) for e in i.external_data)) for i in model.graph.initializer)
    width = add_features_output(model, serving["output"])
    external_after = sorted((i.name, tuple((e.key, e.value) for e in i.external_data)) for i in model.graph.initializer)
    if external_before != external_after:
        raise SystemExit("the initializers' external data changed")
    onnx.save(model, str(path))
    onnx.checker.check_model(str(path))  # from the path: external data resolves beside the file
    if sha256(weights) != weights_before:
        raise SystemExit(f"{weights} changed")

    # the manifest keeps its key order and layout; only the serving entry changes
    serving.update({"features": FEATURES, "featureSize": width, "sha256": sha256(path)})
    manifest_file.write_text(dumps(manifest) + "\n")
    print(f"{path}: outputs {[o.name for o in model.graph.output]}, features [N,{width}]; manifest updated")


if __name__ == "__main__":
    main()
