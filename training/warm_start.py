"""Rebuilds a trainable (BatchNorm) ResNet18 from an exported model's folded weights.

The bundled model before this one kept only its folded weights (`w' = w·γ/√(σ²+ε)`, `b' = β − μ·γ/√(σ²+ε)`).
Folding loses the split between the convolution and its BatchNorm, but any split that computes the same
function will do for fine-tuning, and one split also keeps BatchNorm's training-mode behaviour close to the
folded function: give each convolution the folded kernel and no bias, measure the per-channel mean μ and
variance σ² of its output on real images, and set the BatchNorm to `running_mean = μ`, `running_var = σ²`,
`γ = √(σ²+ε)`, `β = μ + b'`. In eval mode that is exactly `conv(x) + b'`, the folded layer; in training mode
the batch statistics are close to μ and σ², so the first steps start from the exported function, not from a
renormalised one.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

from gtsrb import NUM_CLASSES


def folded_weights(model_dir: Path) -> tuple[dict[str, np.ndarray], list[dict]]:
    """The serving graph's initializers (read through weights.bin) and the manifest's site list."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    graph = onnx.load(str(model_dir / manifest["serving"]["file"]), load_external_data=True).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    return weights, manifest["tensorSites"]


def get_module(model: torch.nn.Module, dotted: str) -> torch.nn.Module:
    module = model
    for part in dotted.split("."):
        module = getattr(module, part)
    return module


@torch.no_grad()
def unfold_into_resnet18(model_dir: Path, calibration_images: torch.Tensor, batch: int = 128) -> torch.nn.Module:
    """calibration_images: normalised [N,3,128,128] model inputs (a few thousand training images is plenty)."""
    weights, sites = folded_weights(model_dir)
    model = torchvision.models.resnet18(num_classes=NUM_CLASSES)
    for site in sites:
        conv = get_module(model, site["conv"])
        bn = get_module(model, site["module"])
        conv.weight.copy_(torch.from_numpy(weights[f"{site['name']}.weight"]))
        # identity BatchNorm first (γ=1, β=b', μ=0, σ²=1−ε): eval mode then computes the folded function exactly
        bn.weight.fill_(1.0)
        bn.bias.copy_(torch.from_numpy(weights[f"{site['name']}.bias"]))
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
    model.fc.weight.copy_(torch.from_numpy(weights["fc.weight"]))
    model.fc.bias.copy_(torch.from_numpy(weights["fc.bias"]))

    sums: dict[str, torch.Tensor] = {}
    squares: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}
    hooks = []
    for site in sites:
        def record(_module, _inputs, output, name=site["name"]):
            x = output.double()
            sums[name] = sums.get(name, 0) + x.sum(dim=(0, 2, 3))
            squares[name] = squares.get(name, 0) + (x * x).sum(dim=(0, 2, 3))
            counts[name] = counts.get(name, 0) + x.shape[0] * x.shape[2] * x.shape[3]
        hooks.append(get_module(model, site["conv"]).register_forward_hook(record))
    model.eval()
    for start in range(0, len(calibration_images), batch):
        model(calibration_images[start:start + batch])
    for hook in hooks:
        hook.remove()

    for site in sites:
        name = site["name"]
        bn = get_module(model, site["module"])
        mean = sums[name] / counts[name]
        var = (squares[name] / counts[name] - mean * mean).clamp_min(1e-12)
        bn.running_mean.copy_(mean.float())
        bn.running_var.copy_(var.float())
        bn.weight.copy_(torch.sqrt(var + bn.eps).float())
        bn.bias.copy_((mean + torch.from_numpy(weights[f"{name}.bias"]).double()).float())
    return model
