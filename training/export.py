#!/usr/bin/python3
"""Exports the trained ResNet18 as the ONNX files the server loads.

    /usr/bin/python3 training/export.py [--checkpoint training/checkpoints/gtsrb-resnet18/weights.fp16.pt] [--out models/gtsrb-resnet18]

The default checkpoint is the bundled model's unfolded training weights (float16, committed), so a re-export
needs no training run; train.py's `<out>/weights.fp16.pt` or a float32 state_dict work the same way.

Writes to --out:
  weights.bin    every weight once (fp32, BatchNorm folded into the convolutions), ONNX external data
  serving.onnx   image [N,3,128,128] -> logits [N,43], features [N,512] (the pooled vector the classifier reads:
                 the monitor's input drift and outlier scores); graph only, its initializers live in weights.bin
  debug.onnx     image, grad_seed -> logits, grad_seed_used, input_grad and, for each of the 20 BatchNorm
                 sites, the site's output and d(seed . logits)/d(output): the backward pass is written out
                 as ordinary ONNX ops (no autograd at serving time); also reads weights.bin
  labels.json    the 43 class names in class order
  manifest.json  everything the server needs to name, feed and map the outputs (see training/README.md)
  verification.json  explicit backward vs torch.autograd (float64), onnxruntime-node vs PyTorch (float32),
                 FullGrad completeness on the exported graph, timings

Both graphs reference the same initializers in weights.bin (same names, same offsets), so the weights are stored
once. onnxruntime resolves external data relative to the model file: create sessions from the file PATH, not
from a buffer. The onnxruntime-node checks run `node training/onnx_check.mjs` (skipped with --skip-node).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gtsrb import INPUT_SIZE, MEAN, NUM_CLASSES, STD, read_class_names  # noqa: E402
from manifest_json import dumps  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "models" / "gtsrb-resnet18"
DEFAULT_CHECKPOINT = REPO / "training" / "checkpoints" / "gtsrb-resnet18" / "weights.fp16.pt"
DEFAULT_SIGNNAMES = Path(os.environ.get("VIGIL_SIGNNAMES", "/work/shared/gtsrb/signnames.csv"))
OPSET = 17
WEIGHTS_FILE = "weights.bin"
# the serving graph's second output: the pooled vector the classifier reads (the monitor's input drift and outliers)
FEATURES = "features"
SERVING_FILE = "serving.onnx"
DEBUG_FILE = "debug.onnx"
ALIGN = 4096

# ---------------------------------------------------------------------------------------------------------------
# Architecture description: the 20 "sites" = BatchNorm layers of torchvision's resnet18, each folded into the
# convolution before it. A site's output is the folded conv's output (= the BN output: post-BN, pre-ReLU, and for
# `*.bn2` before the residual add). Its FullGrad bias is the folded conv's bias, beta - mean*gamma/sqrt(var+eps).
# ---------------------------------------------------------------------------------------------------------------


class Site:
    def __init__(self, name: str, conv: str, bn: str, kernel: int, stride: int, padding: int):
        self.name, self.conv, self.bn = name, conv, bn
        self.kernel, self.stride, self.padding = kernel, stride, padding

    @property
    def key(self) -> str:  # a python-attribute-safe name
        return self.name.replace(".", "_")


def resnet18_sites() -> list[Site]:
    sites = [Site("bn1", "conv1", "bn1", 7, 2, 3)]
    for layer in range(1, 5):
        for block in range(2):
            p = f"layer{layer}.{block}"
            stride = 2 if layer > 1 and block == 0 else 1
            sites.append(Site(f"{p}.bn1", f"{p}.conv1", f"{p}.bn1", 3, stride, 1))
            sites.append(Site(f"{p}.bn2", f"{p}.conv2", f"{p}.bn2", 3, 1, 1))
            if layer > 1 and block == 0:
                sites.append(Site(f"{p}.downsample", f"{p}.downsample.0", f"{p}.downsample.1", 1, 2, 0))
    return sites


SITES = resnet18_sites()
assert len(SITES) == 20


def fold_state_dict(state: dict[str, torch.Tensor], dtype=torch.float64) -> dict[str, torch.Tensor]:
    """Canonical weights: `<site>.weight`, `<site>.bias` (folded conv) and `fc.weight`, `fc.bias`. Folding is
    computed in float64, then cast to `dtype`."""
    out: dict[str, torch.Tensor] = {}
    for s in SITES:
        w = state[f"{s.conv}.weight"].double()
        gamma, beta = state[f"{s.bn}.weight"].double(), state[f"{s.bn}.bias"].double()
        mean, var = state[f"{s.bn}.running_mean"].double(), state[f"{s.bn}.running_var"].double()
        scale = gamma / torch.sqrt(var + 1e-5)  # torchvision BatchNorm2d eps
        out[f"{s.name}.weight"] = (w * scale.view(-1, 1, 1, 1)).to(dtype).contiguous()
        out[f"{s.name}.bias"] = (beta - mean * scale).to(dtype).contiguous()
    out["fc.weight"] = state["fc.weight"].to(dtype).contiguous()
    out["fc.bias"] = state["fc.bias"].to(dtype).contiguous()
    return out


def canonical_names() -> list[str]:
    return [f"{s.name}.{k}" for s in SITES for k in ("weight", "bias")] + ["fc.weight", "fc.bias"]


def attr_name(canonical: str) -> str:
    return "p_" + canonical.replace(".", "_")


DEBUG_OUTPUTS = (["logits", "grad_seed_used", "input_grad"]
                 + [n for s in SITES for n in (f"{s.name}.output", f"{s.name}.output_grad")])


def relu_backward(grad: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
    return torch.where(pre > 0, grad, torch.zeros((), dtype=grad.dtype))


# one one-hot 3x3 kernel per window offset, in MaxPool's scan order (row by row)
POOL_OFFSETS = [(dy, dx) for dy in range(3) for dx in range(3)]


def max_pool_backward(grad: torch.Tensor, pre: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
    """Backward of the 3x3, stride-2, padding-1 max-pool without indices or a scatter.

    Each window's gradient goes to its first maximal element in scan order (PyTorch's rule: it keeps the first of
    equal values, which matters on flat image regions). For each of the 9 offsets, in order, the window's element at
    that offset takes the gradient if it equals the window's maximum and no earlier offset took it. The 9 per-offset
    gradient maps are then placed back at full resolution by one ConvTranspose (stride 2) whose 9 input channels
    have one-hot kernels, so the contributions of overlapping windows add up. `pre` is the pool's input (>= 0,
    after ReLU), `pooled` its output.
    """
    h, w = pre.shape[2], pre.shape[3]
    ph, pw = pooled.shape[2], pooled.shape[3]
    padded = F.pad(pre, (1, 1, 1, 1), value=-1.0)  # below any window maximum (pre >= 0)
    taken = torch.zeros_like(pooled, dtype=torch.bool)
    parts = []
    for dy, dx in POOL_OFFSETS:
        candidate = padded[:, :, dy:dy + 2 * ph:2, dx:dx + 2 * pw:2]
        first = (candidate == pooled) & ~taken
        taken = taken | first
        parts.append(torch.where(first, grad, torch.zeros((), dtype=grad.dtype)))
    stacked = torch.stack(parts, dim=2).reshape(-1, len(POOL_OFFSETS), ph, pw)
    kernel = torch.zeros(len(POOL_OFFSETS), 1, 3, 3, dtype=grad.dtype)
    for k, (dy, dx) in enumerate(POOL_OFFSETS):
        kernel[k, 0, dy, dx] = 1.0
    placed = F.conv_transpose2d(stacked, kernel, stride=2, padding=1, output_padding=(h - 2 * ph + 1, w - 2 * pw + 1))
    return placed.reshape_as(pre)


class ExplicitResNet18(torch.nn.Module):
    """ResNet18 with folded BatchNorm; `debug=True` adds the explicit backward pass of seed·logits.

    Backward rules: fc -> seed @ W; global avg-pool -> broadcast / (H*W); ReLU -> grad * (pre > 0); residual add
    -> the gradient goes to both branches; stride-1 conv -> conv with the flipped, in/out-transposed kernel
    (computed in-graph from the one initializer); stride-2 conv -> ConvTranspose (output_padding 1) on the same
    initializer; 3x3/2 max-pool -> `max_pool_backward` (no indices, no ScatterElements).
    ReLU masks are `Where(pre > 0, grad, 0)`: one op, no float mask to cast and multiply.
    """

    def __init__(self, weights: dict[str, torch.Tensor], debug: bool):
        super().__init__()
        self.debug = debug
        for name in canonical_names():
            self.register_buffer(attr_name(name), weights[name].clone())

    def w(self, site: str) -> torch.Tensor:
        return getattr(self, attr_name(f"{site}.weight"))

    def b(self, site: str) -> torch.Tensor:
        return getattr(self, attr_name(f"{site}.bias"))

    def conv(self, x: torch.Tensor, s: Site) -> torch.Tensor:
        return F.conv2d(x, self.w(s.name), self.b(s.name), stride=s.stride, padding=s.padding)

    def conv_backward(self, g: torch.Tensor, s: Site) -> torch.Tensor:
        w = self.w(s.name)
        if s.stride == 1:
            return F.conv2d(g, torch.flip(w, [2, 3]).transpose(0, 1), stride=1, padding=s.kernel - 1 - s.padding)
        return F.conv_transpose2d(g, w, stride=s.stride, padding=s.padding, output_padding=s.stride - 1)

    def forward(self, image: torch.Tensor, grad_seed: torch.Tensor | None = None):
        by_name = {s.name: s for s in SITES}
        out: dict[str, torch.Tensor] = {}
        s0 = self.conv(image, by_name["bn1"])
        out["bn1"] = s0
        r0 = F.relu(s0)
        pooled = F.max_pool2d(r0, 3, 2, 1)
        x = pooled
        blocks = []
        for layer in range(1, 5):
            for block in range(2):
                p = f"layer{layer}.{block}"
                s1 = self.conv(x, by_name[f"{p}.bn1"])
                s2 = self.conv(F.relu(s1), by_name[f"{p}.bn2"])
                out[f"{p}.bn1"], out[f"{p}.bn2"] = s1, s2
                ds = by_name.get(f"{p}.downsample")
                if ds is not None:
                    identity = self.conv(x, ds)
                    out[ds.name] = identity
                else:
                    identity = x
                pre = s2 + identity
                blocks.append((p, pre))
                x = F.relu(pre)
        h, w = x.shape[2], x.shape[3]
        feat = x.mean(dim=(2, 3))
        fc_w, fc_b = getattr(self, attr_name("fc.weight")), getattr(self, attr_name("fc.bias"))
        logits = F.linear(feat, fc_w, fc_b)
        if not self.debug:
            return logits, feat  # the serving graph's second output: the pooled features

        # rows of grad_seed that are all zero mean "explain the predicted class"
        zero_row = grad_seed.abs().sum(dim=1, keepdim=True) == 0
        classes = torch.arange(logits.shape[1], device=logits.device).unsqueeze(0)
        one_hot = (classes == logits.argmax(dim=1, keepdim=True)).to(logits.dtype)
        seed = torch.where(zero_row, one_hot, grad_seed)

        grads: dict[str, torch.Tensor] = {}
        g_feat = torch.matmul(seed, fc_w) / (h * w)  # fc and average-pool backward
        g = g_feat.unsqueeze(2).unsqueeze(3)  # broadcasts over H, W in the next product
        for p, pre in reversed(blocks):
            g_pre = relu_backward(g, pre)  # block-final ReLU
            grads[f"{p}.bn2"] = g_pre
            g_r1 = self.conv_backward(g_pre, by_name[f"{p}.bn2"])
            g_s1 = relu_backward(g_r1, out[f"{p}.bn1"])
            grads[f"{p}.bn1"] = g_s1
            g_x = self.conv_backward(g_s1, by_name[f"{p}.bn1"])
            ds = by_name.get(f"{p}.downsample")
            if ds is not None:
                grads[ds.name] = g_pre
                g = g_x + self.conv_backward(g_pre, ds)
            else:
                g = g_x + g_pre  # identity shortcut
        g_r0 = max_pool_backward(g, r0, pooled)
        g_s0 = relu_backward(g_r0, s0)
        grads["bn1"] = g_s0
        input_grad = self.conv_backward(g_s0, by_name["bn1"])
        result = [logits, seed, input_grad]
        for s in SITES:
            result += [out[s.name], grads[s.name]]
        return tuple(result)


# ---------------------------------------------------------------------------------------------------------------
# Reference: torchvision resnet18 with unfolded BatchNorm + torch.autograd
# ---------------------------------------------------------------------------------------------------------------


def autograd_reference(state: dict[str, torch.Tensor], image: torch.Tensor, seed: torch.Tensor) -> dict[str, torch.Tensor]:
    """float64 torchvision model; gradients of sum(seed_used * logits) by torch.autograd. Zero seed rows are replaced
    by the one-hot of the argmax, as in the debug graph."""
    model = torchvision.models.resnet18(num_classes=NUM_CLASSES)
    model.load_state_dict(state)
    model = model.double().eval()
    for m in model.modules():
        if isinstance(m, torch.nn.ReLU):
            m.inplace = False
    captured: dict[str, torch.Tensor] = {}
    handles = []
    for s in SITES:
        module = model.get_submodule(s.bn)

        def hook(_m, _inp, output, name=s.name):
            captured[name] = output
            return output.clone()  # the block adds the shortcut in place; keep the BN output itself untouched
        handles.append(module.register_forward_hook(hook))
    x = image.double().clone().requires_grad_(True)
    logits = model(x)
    for h in handles:
        h.remove()
    seed = seed.double()
    zero = seed.abs().sum(1, keepdim=True) == 0
    one_hot = F.one_hot(logits.detach().argmax(1), NUM_CLASSES).double()
    seed_used = torch.where(zero, one_hot, seed)
    target = (seed_used * logits).sum()
    tensors = [x] + [captured[s.name] for s in SITES]
    grads = torch.autograd.grad(target, tensors)
    ref = {"logits": logits.detach(), "grad_seed_used": seed_used, "input_grad": grads[0]}
    for s, g in zip(SITES, grads[1:]):
        ref[f"{s.name}.output"] = captured[s.name].detach()
        ref[f"{s.name}.output_grad"] = g
    return ref


def verify_explicit_backward(state: dict[str, torch.Tensor], seed_value: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed_value)
    n = 4
    image = torch.randn(n, 3, INPUT_SIZE, INPUT_SIZE, generator=gen, dtype=torch.float64)
    # flat colour blocks: equal values inside max-pool windows, where the backward must pick the first maximum
    image[3] = F.interpolate(torch.randn(1, 3, 4, 4, generator=gen, dtype=torch.float64), size=INPUT_SIZE, mode="nearest")[0]
    seed = torch.randn(n, NUM_CLASSES, generator=gen, dtype=torch.float64)
    seed[1] = 0  # the zero-seed ("predicted class") case
    seed[2] = 0
    seed[2, 7] = 1.0  # a one-hot seed
    seed[3] = 0
    model = ExplicitResNet18(fold_state_dict(state, torch.float64), debug=True).double().eval()
    with torch.no_grad():
        explicit = dict(zip(DEBUG_OUTPUTS, model(image, seed)))
    ref = autograd_reference(state, image, seed)
    per_output = {}
    worst_abs, worst_rel = 0.0, 0.0
    for name in DEBUG_OUTPUTS:
        a, b = explicit[name], ref[name]
        abs_err = float((a - b).abs().max())
        scale = float(b.abs().max())
        rel = abs_err / scale if scale > 0 else abs_err
        per_output[name] = {"max_abs_error": abs_err, "max_abs_reference": scale, "relative_error": rel}
        worst_abs, worst_rel = max(worst_abs, abs_err), max(worst_rel, rel)
    return {
        "what": "explicit backward (folded BN, float64) vs torchvision resnet18 (unfolded BN, float64) + torch.autograd; "
                "3 random N(0,1) images and one of flat colour blocks (ties in max-pool windows); seeds: random N(0,1) "
                "row, zero rows (-> one-hot argmax), one-hot row",
        "metric": "max_abs_error = max |explicit - autograd| over the batch; relative_error = max_abs_error / max |autograd|",
        "tolerance": 1e-10,
        "max_abs_error": worst_abs,
        "max_relative_error": worst_rel,
        "passed": worst_abs <= 1e-10 or worst_rel <= 1e-10,
        "zero_seed_row_class": int(ref["logits"][1].argmax()),
        "per_output": per_output,
    }


# ---------------------------------------------------------------------------------------------------------------
# ONNX export with shared external weights
# ---------------------------------------------------------------------------------------------------------------


def export_to_proto(module: torch.nn.Module, args: tuple, input_names: list[str], output_names: list[str]):
    import onnx

    buf = io.BytesIO()
    dynamic = {n: {0: "N"} for n in input_names + output_names}
    torch.onnx.export(module, args, buf, opset_version=OPSET, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic, do_constant_folding=False, export_params=True)
    return onnx.load_from_string(buf.getvalue())


def layout_weights(weights32: dict[str, torch.Tensor]) -> tuple[bytes, dict[str, tuple[int, int]]]:
    blob = bytearray()
    where: dict[str, tuple[int, int]] = {}
    for name in canonical_names():
        data = weights32[name].numpy().astype("<f4").tobytes()
        pad = (-len(blob)) % ALIGN
        blob += b"\0" * pad
        where[name] = (len(blob), len(data))
        blob += data
    return bytes(blob), where


def externalise(model, weights32: dict[str, torch.Tensor], where: dict[str, tuple[int, int]]) -> list[str]:
    """Renames the exported initializers to the canonical names and points them at weights.bin."""
    import onnx
    from onnx import numpy_helper

    rename: dict[str, str] = {}
    for init in model.graph.initializer:
        if init.name.startswith("p_"):
            canonical = next((c for c in canonical_names() if attr_name(c) == init.name), None)
            if canonical is None:
                raise SystemExit(f"unexpected initializer {init.name}")
            arr = numpy_helper.to_array(init)
            if not np.array_equal(arr, weights32[canonical].numpy()):
                raise SystemExit(f"initializer {init.name} differs from {canonical}")
            rename[init.name] = canonical
            offset, length = where[canonical]
            init.name = canonical
            init.ClearField("raw_data")
            init.ClearField("float_data")
            init.data_location = onnx.TensorProto.EXTERNAL
            del init.external_data[:]
            for k, v in (("location", WEIGHTS_FILE), ("offset", str(offset)), ("length", str(length))):
                entry = init.external_data.add()
                entry.key, entry.value = k, v
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name in rename:
                node.input[i] = rename[name]
    for inp in model.graph.input:
        if inp.name in rename:
            raise SystemExit("initializers must not be graph inputs")
    big = [i.name for i in model.graph.initializer if i.data_location != onnx.TensorProto.EXTERNAL and len(i.raw_data) > 4096]
    if big:
        raise SystemExit(f"large inline initializers left in the graph (weights would be duplicated): {big}")
    return sorted(rename.values())


def shared_weights_report(out: Path) -> dict:
    """Re-reads both graphs: every canonical initializer must be external data in weights.bin at the same place."""
    import onnx

    places = {}
    for f in (SERVING_FILE, DEBUG_FILE):
        proto = onnx.load(str(out / f), load_external_data=False)
        places[f] = {i.name: {e.key: e.value for e in i.external_data} for i in proto.graph.initializer
                     if i.data_location == onnx.TensorProto.EXTERNAL}
        inline = sum(len(i.raw_data) for i in proto.graph.initializer if i.data_location != onnx.TensorProto.EXTERNAL)
        places[f + ":inlineBytes"] = inline
    same = places[SERVING_FILE] == places[DEBUG_FILE] and sorted(places[DEBUG_FILE]) == sorted(canonical_names())
    if not same:
        raise SystemExit("serving.onnx and debug.onnx do not share the same external weights")
    return {"externalTensors": len(places[DEBUG_FILE]), "file": WEIGHTS_FILE, "identicalOffsets": same,
            "inlineInitializerBytes": {f: places[f + ":inlineBytes"] for f in (SERVING_FILE, DEBUG_FILE)}}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def f32_list(t: torch.Tensor) -> list[float]:
    """Shortest decimal strings that round-trip to the same float32 (Math.fround(x) gives the stored value)."""
    return [float(repr(np.float32(v))) for v in t.numpy().astype(np.float32).tolist()]


def site_shapes() -> dict[str, list[int]]:
    model = ExplicitResNet18(fold_state_dict(torchvision.models.resnet18(num_classes=NUM_CLASSES).state_dict(),
                                             torch.float32), debug=True).eval()
    with torch.no_grad():
        outs = dict(zip(DEBUG_OUTPUTS, model(torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE), torch.zeros(1, NUM_CLASSES))))
    return {s.name: list(outs[f"{s.name}.output"].shape[1:]) for s in SITES}


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def source_info(checkpoint: Path) -> dict:
    """Where the weights came from. `final` is true when the training run's metrics.json sits next to the checkpoint
    (train.py writes both at the very end). `valAccuracy` is PyTorch's accuracy on the by-track validation images
    (the number `vigil predict` must reproduce); `valHeldOut` says whether the model was trained without them. A model
    trained on every track records its recipe's held-out validation (`recipe-metrics.json` beside it) as `recipe`."""
    info: dict = {"checkpoint": display_path(checkpoint),
                  "checkpointSha256": sha256(checkpoint) if checkpoint.is_file() else None, "final": False}
    metrics_file = checkpoint.parent / "metrics.json"
    if checkpoint.is_file() and metrics_file.is_file():
        metrics = json.loads(metrics_file.read_text())
        info.update({"final": True, "trainImages": metrics.get("train_images"), "valAccuracy": metrics.get("val_accuracy"),
                     "valImages": metrics.get("val_images"), "valHeldOut": metrics.get("val_held_out", True),
                     "validation": "by-track split of the GTSRB training set (training/gtsrb.py split_by_track)"})
        recipe_file = checkpoint.parent / "recipe-metrics.json"
        if recipe_file.is_file():
            recipe = json.loads(recipe_file.read_text())
            info["recipe"] = {"valAccuracy": recipe.get("val_accuracy"), "valImages": recipe.get("val_images"),
                              "trainImages": recipe.get("train_images"), "metrics": display_path(recipe_file)}
    return info


def build_manifest(weights32, labels, checkpoint: Path, out: Path, shapes) -> dict:
    weights_sha = sha256(out / WEIGHTS_FILE)
    sites = []
    for s in SITES:
        sites.append({
            "name": s.name,
            "module": s.bn,
            "conv": s.conv,
            "output": f"{s.name}.output",
            "outputGrad": f"{s.name}.output_grad",
            "biasTensor": f"{s.name}.bias",
            "shape": shapes[s.name],
            "bias": f32_list(weights32[f"{s.name}.bias"]),
        })
    return {
        "format": "vigil-model/1",
        "name": "gtsrb-resnet18",
        "version": f"{_dt.date.today().isoformat()}-{weights_sha[:12]}",
        "task": "image-classification",
        "architecture": "torchvision resnet18 (num_classes=43), BatchNorm folded into the preceding convolutions",
        "inputSize": [INPUT_SIZE, INPUT_SIZE],
        "inputSizeOrder": "[height, width]",
        "channels": 3,
        "layout": "NCHW",
        "dtype": "float32",
        "preprocessing": {
            "colorSpace": "RGB",
            "resize": "bilinear to 128x128, aspect ratio ignored (PIL Image.resize(BILINEAR) on the RGB image)",
            "scale": 1 / 255,
            "formula": "x[c,h,w] = (rgb_u8[h,w,c] / 255 - mean[c]) / std[c]",
        },
        "mean": list(MEAN),
        "std": list(STD),
        "classCount": NUM_CLASSES,
        "labels": "labels.json",
        "weights": {"file": WEIGHTS_FILE, "sha256": weights_sha, "bytes": (out / WEIGHTS_FILE).stat().st_size,
                    "tensors": canonical_names(),
                    "note": "ONNX external data shared by serving.onnx and debug.onnx; create sessions from the file path"},
        "serving": {"file": SERVING_FILE, "input": "image", "output": "logits", "sha256": sha256(out / SERVING_FILE),
                    "features": FEATURES, "featureSize": int(weights32["fc.weight"].shape[1])},
        "debug": {
            "file": DEBUG_FILE,
            "sha256": sha256(out / DEBUG_FILE),
            "inputs": ["image", "grad_seed"],
            "gradSeed": "grad_seed [N,43] float32: the outputs' gradients are of sum_k grad_seed[n,k] * logits[n,k]; "
                        "an all-zero row means one-hot(argmax(logits[n])) (explain the predicted class)",
            "outputNames": DEBUG_OUTPUTS,
            "outputs": {
                "logits": "logits",
                "gradSeedUsed": "grad_seed_used",
                "inputGrad": "input_grad",
                "siteOutput": "<site>.output",
                "siteOutputGrad": "<site>.output_grad",
            },
            "floatsPerImage": NUM_CLASSES * 2 + 3 * INPUT_SIZE * INPUT_SIZE
            + sum(2 * int(np.prod(shapes[s.name])) for s in SITES),
        },
        "fullgrad": {
            "input": {"tensor": "image", "grad": "input_grad"},
            "completeness": "sum(image*input_grad) + sum_sites sum_c bias[c]*sum_hw output_grad[c,h,w] + "
                            "sum_k seed[k]*fcBias[k] == sum_k seed[k]*logits[k]",
        },
        "tensorSites": sites,
        "fcBiasTensor": "fc.bias",
        "fcBias": f32_list(weights32["fc.bias"]),
        "source": source_info(checkpoint),
        "export": {"opset": OPSET, "torch": torch.__version__, "torchvision": torchvision.__version__,
                   "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--random-init", action="store_true", help="export an untrained model (development only)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--signnames", type=Path, default=DEFAULT_SIGNNAMES)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-node", action="store_true", help="skip the onnxruntime-node checks")
    parser.add_argument("--bench-iters", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import onnx

    if args.random_init:
        torch.manual_seed(0)
        model = torchvision.models.resnet18(num_classes=NUM_CLASSES)
        # non-trivial BN statistics so that folding is exercised
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.2, 0.2)
        state = model.state_dict()
        checkpoint = Path("random-init")
    else:
        checkpoint = args.checkpoint
        if not checkpoint.is_file():
            raise SystemExit(f"no checkpoint at {checkpoint} (train first, or pass --checkpoint / --random-init)")
        # read it in one go (a run may rewrite it); tensors only, no pickled code; float16 weights are widened
        state = torch.load(io.BytesIO(checkpoint.read_bytes()), map_location="cpu", weights_only=True)
        state = {k: (v.float() if v.dtype == torch.float16 else v) for k, v in state.items()}
        if not (checkpoint.parent / "metrics.json").is_file():
            print(f"note: {checkpoint.parent}/metrics.json is missing, so this is an intermediate checkpoint "
                  "(manifest source.final = false)", flush=True)
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    labels = read_class_names(args.signnames)

    print("verifying the explicit backward against torch.autograd (float64) ...", flush=True)
    backward_check = verify_explicit_backward(state)
    print(f"  max abs error {backward_check['max_abs_error']:.3e}, max relative {backward_check['max_relative_error']:.3e}",
          flush=True)
    if not backward_check["passed"]:
        raise SystemExit("explicit backward disagrees with autograd")

    weights32 = fold_state_dict(state, torch.float32)
    blob, where = layout_weights(weights32)
    debug_model = ExplicitResNet18(weights32, debug=True).eval()
    serving_model = ExplicitResNet18(weights32, debug=False).eval()
    example = (torch.zeros(2, 3, INPUT_SIZE, INPUT_SIZE), torch.zeros(2, NUM_CLASSES))
    print("exporting ...", flush=True)
    debug_proto = export_to_proto(debug_model, example, ["image", "grad_seed"], DEBUG_OUTPUTS)
    serving_proto = export_to_proto(serving_model, example[:1], ["image"], ["logits", FEATURES])
    names_debug = externalise(debug_proto, weights32, where)
    names_serving = externalise(serving_proto, weights32, where)
    if names_debug != sorted(canonical_names()) or names_serving != sorted(canonical_names()):
        raise SystemExit("both graphs must use every canonical weight")
    for proto, doc in ((debug_proto, "vigil gtsrb-resnet18 debug graph: logits + explicit backward"),
                       (serving_proto, "vigil gtsrb-resnet18 serving graph")):
        proto.doc_string = doc
        proto.producer_name = "vigil training/export.py"
    (out / WEIGHTS_FILE).write_bytes(blob)
    onnx.save(debug_proto, str(out / DEBUG_FILE))
    onnx.save(serving_proto, str(out / SERVING_FILE))
    for f in (DEBUG_FILE, SERVING_FILE):
        onnx.checker.check_model(str(out / f))
    (out / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    manifest = build_manifest(weights32, labels, checkpoint, out, site_shapes())
    (out / "manifest.json").write_text(dumps(manifest) + "\n")
    sizes = {f: (out / f).stat().st_size for f in (WEIGHTS_FILE, SERVING_FILE, DEBUG_FILE, "manifest.json", "labels.json")}
    print("wrote " + ", ".join(f"{k} {v / 1e6:.3f} MB" for k, v in sizes.items()), flush=True)

    verification = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
        "source": manifest["source"],
        "weightsSha256": manifest["weights"]["sha256"],
        "sharedWeights": shared_weights_report(out),
        "explicitBackwardVsAutograd": backward_check,
        "sizesBytes": sizes,
    }
    if not args.skip_node:
        verification["onnxruntimeNode"] = check_with_node(out, weights32, args.bench_iters)
    (out / "verification.json").write_text(dumps(verification) + "\n")
    print(f"wrote {out / 'verification.json'}", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# onnxruntime-node checks (the server's runtime): outputs vs PyTorch float32, completeness, timings
# ---------------------------------------------------------------------------------------------------------------


def check_images(n: int = 4) -> torch.Tensor:
    """Smooth random images in the normalised input range (not GTSRB data)."""
    gen = torch.Generator().manual_seed(1)
    low = torch.rand(n, 3, 8, 8, generator=gen)
    x01 = F.interpolate(low, size=INPUT_SIZE, mode="bilinear", align_corners=False)
    x01 = (x01 + 0.05 * torch.rand(n, 3, INPUT_SIZE, INPUT_SIZE, generator=gen)).clamp(0, 1)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return ((x01 - mean) / std).float()


def check_with_node(out: Path, weights32, bench_iters: int) -> dict:
    images = check_images(4)
    seed = torch.zeros(4, NUM_CLASSES)
    seed[1, 3] = 1.0  # explicit one-hot of class 3; other rows: predicted class
    model = ExplicitResNet18(weights32, debug=True).eval()
    with torch.no_grad():
        torch_out = dict(zip(DEBUG_OUTPUTS, model(images, seed)))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "image.bin").write_bytes(images.numpy().astype("<f4").tobytes())
        (tmp / "seed.bin").write_bytes(seed.numpy().astype("<f4").tobytes())
        cmd = ["node", str(Path(__file__).resolve().parent / "onnx_check.mjs"), str(out.resolve()), str(tmp), "4",
               str(bench_iters)]
        print("running " + " ".join(cmd), flush=True)
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"onnx_check.mjs failed:\n{proc.stdout}\n{proc.stderr}")
        result = json.loads((tmp / "result.json").read_text())
        ort_out = {}
        for name, meta in result["outputs"].items():
            arr = np.fromfile(tmp / meta["file"], dtype="<f4").reshape(meta["dims"])
            ort_out[name] = torch.from_numpy(arr.copy())
    compare = {}
    for name in DEBUG_OUTPUTS:
        a, b = ort_out[name].double(), torch_out[name].double()
        scale = float(b.abs().max())
        err = float((a - b).abs().max())
        compare[name] = {"max_abs_error": err, "relative_error": err / scale if scale else err}
    serving_err = result["servingVsDebugLogitsMaxAbs"]
    # FullGrad completeness on the ORT outputs, in float64
    weights64 = {k: v.double() for k, v in weights32.items()}
    completeness = []
    for n in range(images.shape[0]):
        seed_used = ort_out["grad_seed_used"][n].double()
        total = float((images[n].double() * ort_out["input_grad"][n].double()).sum())
        for s in SITES:
            g = ort_out[f"{s.name}.output_grad"][n].double()
            total += float((weights64[f"{s.name}.bias"] * g.sum(dim=(1, 2))).sum())
        total += float((seed_used * weights64["fc.bias"]).sum())
        target = float((seed_used * ort_out["logits"][n].double()).sum())
        completeness.append({"class": int(seed_used.argmax()), "logit": target, "fullgrad_sum": total,
                             "relative_residual": abs(total - target) / max(abs(target), 1e-12)})
    logits_rel = compare["logits"]["relative_error"]
    worst_grad_rel = max(v["relative_error"] for k, v in compare.items() if k.endswith("grad"))
    worst_completeness = max(c["relative_residual"] for c in completeness)
    print(f"  onnxruntime-node vs torch float32: logits rel {logits_rel:.2e}, worst gradient rel {worst_grad_rel:.2e}; "
          f"serving vs debug logits {serving_err:.2e}; completeness worst relative residual {worst_completeness:.2e}",
          flush=True)
    for k, v in result["timings"].items():
        print(f"  {k}: {v}", flush=True)
    if logits_rel > 1e-4 or worst_completeness > 1e-3:
        raise SystemExit("onnxruntime-node outputs disagree with PyTorch")
    return {
        "what": "4 smooth random images (normalised range); seeds: zero rows (predicted class) and one one-hot row; "
                "onnxruntime-node debug.onnx + serving.onnx vs the same PyTorch module in float32",
        "metric": "relative_error = max |ort - torch| / max |torch| per output over the batch",
        "logitsRelativeError": logits_rel,
        "worstGradientRelativeError": worst_grad_rel,
        "servingVsDebugLogitsMaxAbs": serving_err,
        "perOutput": compare,
        "completeness": {"tolerance_relative": 1e-3, "worst_relative_residual": worst_completeness, "images": completeness},
        "timings": result["timings"],
        "onnxruntimeNode": result["ortVersion"],
    }


if __name__ == "__main__":
    main()
