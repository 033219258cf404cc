#!/usr/bin/python3
"""Reference Grad-CAM and Integrated Gradients maps for the bundled fixtures, computed by PyTorch autograd.

    /usr/bin/python3 training/reference_saliency.py [--model-dir models/gtsrb-resnet18] [--steps 32]

The training checkpoint was not kept; the model is rebuilt here from the ONNX graph's initializers (the
exported, BatchNorm-folded weights in weights.bin, loaded through onnx's external-data support) as a plain
torchvision-shaped ResNet18 without BatchNorm (each convolution carries its folded bias), evaluated in
float64 with torch.autograd: nothing is shared with vigil's TypeScript, nor with training/export.py's explicit
backward. Inputs are fixtures.json's `resizedRgbU8` (the exact preprocessed pixels), normalised in float32
as the server does, then widened to float64. Every map explains the image's predicted class.

Definitions (the same as src/explain/gradcam.ts and src/explain/integrated-gradients.ts):
  GRAD_CAM: A = output of layer4 (after its last ReLU) [512,4,4]; alpha_c = mean_hw d logit_k / dA[c,h,w];
            cam = relu(sum_c alpha_c A[c]) at 4x4 (stored here, before vigil's bilinear upsampling and min-max)
  INTEGRATED_GRADIENTS: baseline x' (BLACK: RGB 0 normalised, i.e. -mean/std), path x' + a (x - x');
            attr = (x - x') * sum_{k=0..m} w_k grad f(x' + (k/m)(x - x')) with the trapezoid weights
            w_0 = w_m = 1/(2m), w_k = 1/m otherwise (m = steps); stored for the first IG_IMAGES fixtures
            (float64 autograd over m + 1 images is slow on CPU): sum over channels of attr, average-pooled 4x4
            to 32x32; plus f(x), f(x') and sum(attr).
Output: <model-dir>/fixtures/reference-saliency.json (float32 arrays as base64 little-endian).
"""
from __future__ import annotations

import argparse
import base64
import datetime as _dt
import json
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
IG_IMAGES = 3  # fixtures with an IG reference


def load_initializers(model_dir: Path) -> dict[str, torch.Tensor]:
    model = onnx.load(str(model_dir / "serving.onnx"), load_external_data=True)
    return {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()).double() for i in model.graph.initializer}


class FoldedResNet18:
    """torchvision's resnet18 forward with BatchNorm folded into each convolution (weight, bias)."""

    def __init__(self, w: dict[str, torch.Tensor]):
        self.w = w

    def conv(self, x, site: str, stride: int, padding: int):
        return F.conv2d(x, self.w[f"{site}.weight"], self.w[f"{site}.bias"], stride=stride, padding=padding)

    def block(self, x, name: str, stride: int, downsample: bool):
        out = F.relu(self.conv(x, f"{name}.bn1", stride, 1))
        out = self.conv(out, f"{name}.bn2", 1, 1)
        identity = self.conv(x, f"{name}.downsample", stride, 0) if downsample else x
        return F.relu(out + identity)

    def features(self, x):
        x = F.relu(self.conv(x, "bn1", 2, 3))
        x = F.max_pool2d(x, 3, 2, 1)
        for layer in (1, 2, 3, 4):
            x = self.block(x, f"layer{layer}.0", 1 if layer == 1 else 2, layer > 1)
            x = self.block(x, f"layer{layer}.1", 1, False)
        return x  # layer4's output

    def head(self, a):
        return F.linear(a.mean(dim=(2, 3)), self.w["fc.weight"], self.w["fc.bias"])

    def __call__(self, x):
        return self.head(self.features(x))


def normalise(u8_hwc: np.ndarray) -> torch.Tensor:
    x = (u8_hwc.astype(np.float32) / np.float32(255) - MEAN) / STD  # float32, as the server
    return torch.from_numpy(x.transpose(2, 0, 1).copy()).double()


def grad_cam(model: FoldedResNet18, x: torch.Tensor, k: int) -> torch.Tensor:
    a = model.features(x[None]).detach().requires_grad_(True)
    logit = model.head(a)[0, k]
    (grad,) = torch.autograd.grad(logit, a)
    alpha = grad[0].mean(dim=(1, 2))
    return F.relu((alpha[:, None, None] * a[0]).sum(0)).detach()


def integrated_gradients(model: FoldedResNet18, x, baseline, k: int, steps: int, batch: int = 64):
    alphas = torch.arange(steps + 1, dtype=torch.float64) / steps
    weights = torch.full((steps + 1,), 1.0 / steps, dtype=torch.float64)
    weights[0] = weights[-1] = 0.5 / steps
    total = torch.zeros_like(x)
    for start in range(0, steps + 1, batch):
        a = alphas[start:start + batch]
        path = (baseline[None] + a[:, None, None, None] * (x - baseline)[None]).requires_grad_(True)
        (grad,) = torch.autograd.grad(model(path)[:, k].sum(), path)
        total += (weights[start:start + batch, None, None, None] * grad).sum(0)
    return (x - baseline) * total


def b64(arr: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(arr, dtype="<f4").tobytes()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, default=Path(__file__).resolve().parent.parent / "models/gtsrb-resnet18")
    parser.add_argument("--steps", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(2)
    fixtures = json.loads((args.model_dir / "fixtures/fixtures.json").read_text())
    model = FoldedResNet18(load_initializers(args.model_dir))
    black = normalise(np.zeros((128, 128, 3), dtype=np.uint8))
    images = []
    for entry in fixtures["images"]:
        u8 = np.frombuffer(base64.b64decode(entry["resizedRgbU8"]), dtype=np.uint8).reshape(128, 128, 3)
        x = normalise(u8)
        with torch.no_grad():
            logits = model(torch.stack([x, black]))
        k = int(logits[0].argmax())
        assert abs(float(logits[0, k]) - entry["logits"][k]) < 1e-6, (entry["file"], float(logits[0, k]), entry["logits"][k])
        cam = grad_cam(model, x, k)
        item = {"file": entry["file"], "classId": k, "gradCam4x4": b64(cam.numpy())}
        images.append(item)
        print(entry["file"], k, "cam", cam.flatten().tolist(), flush=True)
        if len(images) > IG_IMAGES:
            continue
        attr = integrated_gradients(model, x, black, k, args.steps)
        pooled = F.avg_pool2d(attr.sum(0)[None, None], 4)[0, 0]
        item.update({
            "integratedGradients": {
                "baseline": "BLACK",
                "steps": args.steps,
                "logit": float(logits[0, k]),
                "baselineLogit": float(logits[1, k]),
                "attributionSum": float(attr.sum()),
                "channelSum32x32": b64(pooled.numpy()),
            },
        })
        print(entry["file"], k, "IG residual", float(attr.sum()) - float(logits[0, k] - logits[1, k]), flush=True)
    out = {
        "format": "vigil-reference-saliency/1",
        "generatedBy": "training/reference_saliency.py",
        "torch": torch.__version__,
        "date": _dt.date.today().isoformat(),
        "model": fixtures["model"],
        "definitions": __doc__.split("Definitions ")[1].split("Output:")[0].strip(),
        "encoding": "base64 of little-endian float32: gradCam4x4 [4,4], channelSum32x32 [32,32], row-major",
        "images": images,
    }
    (args.model_dir / "fixtures/reference-saliency.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
