#!/usr/bin/python3
"""Generates the test fixtures for the TypeScript side from the EXPORTED model (run training/export.py first).

    /usr/bin/python3 training/fixtures.py [--model-dir models/gtsrb-resnet18]

Draws 8 small synthetic images (made here with PIL ImageDraw, not GTSRB images or anything derived from them),
saves them in several formats under <model-dir>/fixtures/, and writes <model-dir>/fixtures/fixtures.json with, per
image: the PyTorch-preprocessed input (as the exact uint8 RGB 128x128 resize; the float tensor follows from it
with the documented float32 formula), the reference logits and predicted class, reductions of every debug-graph
output, the FullGrad completeness residual, and three saliency maps (FullGrad, simple FullGrad,
input x gradient). The reference is the exported weights (float32 values from weights.bin) evaluated in float64
with the explicit backward of training/export.py (which export.py checks against torch.autograd).
It then runs debug.onnx with onnxruntime-node on the same tensors (`node training/onnx_check.mjs`, skip with
--skip-node) and records how far the float32 runtime's outputs and maps are from the reference.
"""
from __future__ import annotations

import argparse
import base64
import datetime as _dt
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, features

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export import DEBUG_OUTPUTS, DEFAULT_OUT, SITES, ExplicitResNet18, canonical_names, dumps  # noqa: E402
from gtsrb import INPUT_SIZE, MEAN, NUM_CLASSES, STD, load_resized  # noqa: E402

EPS = 1e-12


# ---------------------------------------------------------------------------------------------------------------
# Synthetic images
# ---------------------------------------------------------------------------------------------------------------


def regular_polygon(cx: float, cy: float, r: float, n: int, rotation: float) -> list[tuple[float, float]]:
    return [(cx + r * math.cos(rotation + 2 * math.pi * k / n), cy + r * math.sin(rotation + 2 * math.pi * k / n))
            for k in range(n)]


def background(w: int, h: int, top=(150, 180, 210), bottom=(90, 110, 80)) -> Image.Image:
    im = Image.new("RGB", (w, h))
    px = im.load()
    for y in range(h):
        t = y / max(1, h - 1)
        c = tuple(int(round(a + (b - a) * t)) for a, b in zip(top, bottom))
        for x in range(w):
            px[x, y] = c
    return im


def draw_images() -> list[tuple[str, Image.Image, dict, str]]:
    """(file name, image, save kwargs, description)."""
    images = []

    im = background(150, 150)
    d = ImageDraw.Draw(im)
    d.polygon(regular_polygon(75, 75, 66, 8, math.pi / 8), fill=(200, 16, 32), outline=(255, 255, 255), width=4)
    for x0 in (30, 52, 74, 96):
        d.rectangle([x0, 64, x0 + 16, 86], fill=(255, 255, 255))
    d.rectangle([68, 140, 82, 150], fill=(120, 120, 120))
    images.append(("stop_like_octagon.png", im, {}, "red octagon with white border and four white bars, 150x150"))

    im = Image.new("RGB", (90, 80), (235, 235, 228))
    d = ImageDraw.Draw(im)
    d.polygon([(45, 6), (85, 74), (5, 74)], fill=(210, 20, 30))
    d.polygon([(45, 22), (71, 67), (19, 67)], fill=(250, 250, 250))
    d.rectangle([42, 34, 48, 54], fill=(10, 10, 10))
    d.ellipse([42, 57, 48, 63], fill=(10, 10, 10))
    images.append(("warning_triangle.png", im, {}, "red-bordered white triangle with a black exclamation mark, 90x80"))

    im = background(120, 120, (60, 90, 60), (40, 60, 40))
    d = ImageDraw.Draw(im)
    d.ellipse([8, 8, 112, 112], fill=(20, 70, 190), outline=(240, 240, 255), width=3)
    d.rectangle([54, 50, 66, 96], fill=(255, 255, 255))
    d.polygon([(60, 22), (84, 52), (36, 52)], fill=(255, 255, 255))
    images.append(("blue_arrow_circle.jpg", im, {"quality": 92, "subsampling": 0},
                   "blue disc with a white up-arrow, 120x120, JPEG quality 92 (4:4:4)"))

    im = Image.new("RGB", (64, 64), (128, 132, 120))
    d = ImageDraw.Draw(im)
    d.ellipse([2, 2, 61, 61], fill=(220, 20, 20))
    d.ellipse([10, 10, 53, 53], fill=(245, 245, 245))
    d.rectangle([20, 22, 29, 42], fill=(0, 0, 0))
    d.rectangle([34, 22, 43, 42], fill=(0, 0, 0))
    d.rectangle([23, 25, 26, 39], fill=(245, 245, 245))
    d.rectangle([37, 25, 40, 39], fill=(245, 245, 245))
    images.append(("speed_ring.ppm", im, {}, "white disc in a red ring with two black digit-like blocks, 64x64, binary PPM"))

    rng = np.random.default_rng(1234)
    im = Image.fromarray(rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8), "RGB")
    images.append(("noise.png", im, {}, "uniform random RGB noise (numpy seed 1234), 64x48"))

    yy, xx = np.mgrid[0:INPUT_SIZE, 0:INPUT_SIZE].astype(np.float64)
    grad = np.stack([xx / (INPUT_SIZE - 1) * 255, yy / (INPUT_SIZE - 1) * 255,
                     (1 - (xx + yy) / (2 * INPUT_SIZE - 2)) * 255], axis=-1)
    im = Image.fromarray(np.round(grad).astype(np.uint8), "RGB")
    images.append(("gradient_128.png", im, {}, "RGB gradient at exactly 128x128 (the resize is the identity)"))

    im = background(97, 61, (200, 200, 190), (170, 160, 150))
    d = ImageDraw.Draw(im)
    d.polygon([(10, 6), (87, 6), (48, 57)], fill=(215, 25, 35))
    d.polygon([(24, 13), (73, 13), (48, 45)], fill=(250, 250, 250))
    webp = features.check("webp")
    name = "yield_like_97x61.webp" if webp else "yield_like_97x61.png"
    images.append((name, im, {"lossless": True} if webp else {},
                   "non-square 97x61 inverted red/white triangle" + (", lossless WebP" if webp else "")))

    im = Image.new("L", (31, 23), 40)
    d = ImageDraw.Draw(im)
    d.ellipse([3, 1, 27, 21], fill=200)
    d.line([(6, 18), (25, 4)], fill=20, width=3)
    images.append(("grey_31x23.png", im, {}, "8-bit greyscale (mode L) 31x23: grey->RGB conversion and upscaling"))
    return images


# ---------------------------------------------------------------------------------------------------------------
# Reference computations
# ---------------------------------------------------------------------------------------------------------------


def normalise_u8(u8_hwc: np.ndarray) -> torch.Tensor:
    """Exactly training/train.py's normalise() (float32)."""
    x = torch.from_numpy(np.array(u8_hwc, copy=True)).unsqueeze(0).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return ((x - mean) / std)[0]


def load_exported_weights(model_dir: Path, manifest: dict) -> dict[str, torch.Tensor]:
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(model_dir / manifest["debug"]["file"]))  # resolves weights.bin
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    return {n: torch.from_numpy(inits[n].astype(np.float32).copy()) for n in canonical_names()}


def min_max(t: torch.Tensor) -> torch.Tensor:
    """Per image over all of C x H x W: (t - min) / (max - min + 1e-12). t: [N, ...]."""
    flat = t.flatten(1)
    lo = flat.min(1).values.view(-1, *([1] * (t.dim() - 1)))
    t = t - lo
    hi = t.flatten(1).max(1).values.view(-1, *([1] * (t.dim() - 1)))
    return t / (hi + EPS)


def saliency_maps(image: torch.Tensor, outs: dict[str, torch.Tensor], bias: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """float64 maps [N,128,128]; definitions in DEFINITIONS."""
    size = image.shape[-2:]
    input_term = image * outs["input_grad"]
    input_map = min_max(input_term.abs()).sum(1)
    fullgrad = input_map.clone()
    simple = input_map.clone()
    for s in SITES:
        g = outs[f"{s.name}.output_grad"]
        for target, values in ((fullgrad, g * bias[s.name].view(1, -1, 1, 1)), (simple, g)):
            norm = min_max(values.abs())
            up = F.interpolate(norm, size=size, mode="bilinear", align_corners=False)
            target += up.sum(1)
    ixg = min_max(input_term.abs().sum(1))
    return {"fullgrad": fullgrad, "simpleFullgrad": simple, "inputXGradient": ixg}


def completeness(image, outs, bias, fc_bias) -> list[dict]:
    result = []
    for n in range(image.shape[0]):
        seed = outs["grad_seed_used"][n]
        total = float((image[n] * outs["input_grad"][n]).sum())
        for s in SITES:
            total += float((bias[s.name] * outs[f"{s.name}.output_grad"][n].sum(dim=(1, 2))).sum())
        total += float((seed * fc_bias).sum())
        target = float((seed * outs["logits"][n]).sum())
        result.append({"logit": target, "fullgradSum": total, "residual": total - target,
                       "relativeResidual": abs(total - target) / max(abs(target), 1e-12)})
    return result


def reductions(t: torch.Tensor) -> dict:
    t = t.double()
    return {"sum": float(t.sum()), "absSum": float(t.abs().sum()), "l2": float(t.norm()),
            "min": float(t.min()), "max": float(t.max())}


def b64(arr: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(arr).astype(dtype).tobytes()).decode("ascii")


DEFINITIONS = {
    "preprocessing": "PIL: Image.open(file).convert('RGB').resize((128, 128), Image.BILINEAR) -> uint8 HWC "
                     "(`resizedRgbU8`); then, in float32, x[c,h,w] = (u8[h,w,c] / 255 - mean[c]) / std[c] "
                     "(training/train.py normalise()). convert('RGB') replicates grey; it would DROP an alpha channel "
                     "(no compositing). PIL's BILINEAR is a triangle filter whose support grows with the downscale "
                     "factor (antialiased when shrinking), plain bilinear when enlarging.",
    "preprocessingCheck": "compare in the [0,1] scale: mean |ts_u8 - resizedRgbU8| / 255 over all 49152 values should be "
                          "<= 1/255 (i.e. <= 1 uint8 level on average)",
    "seed": "all reference outputs use an all-zero grad_seed row, i.e. one-hot(argmax(logits)) (the predicted class)",
    "reference": "float64 evaluation of the exported float32 weights (weights.bin) with training/export.py's explicit "
                 "forward+backward (checked against torch.autograd to < 1e-10)",
    "postprocess": "minmax(t) per image over all of its C x H x W values: (t - min) / (max - min + 1e-12)",
    "resize": "torch.nn.functional.interpolate(mode='bilinear', align_corners=False) of each [C,h,w] site map to "
              "128x128 (it is linear, so summing channels first and resizing once gives the same map)",
    "fullgrad": "minmax(|image * input_grad|).sum(channels) + sum over the 20 sites of "
                "resize(minmax(|bias[c] * output_grad[c,h,w]|)).sum(channels); bias = the site's FullGrad bias "
                "(manifest tensorSites[i].bias). Same as idiap/fullgrad-saliency FullGrad.saliency except "
                "eps 1e-12 (not 1e-6) and align_corners=False (not True)",
    "simpleFullgrad": "as fullgrad but with |output_grad| instead of |bias * output_grad| (the input term is kept), "
                      "as idiap/fullgrad-saliency's SimpleFullGrad (gradients of the pre-ReLU site outputs); "
                      "same eps/align_corners differences",
    "inputXGradient": "minmax(|image * input_grad|.sum(channels)) - absolute value per element, summed over the 3 "
                      "channels, then min-max normalised over the 128x128 map",
    "completeness": "sum(image * input_grad) + sum_sites sum_c bias[c] * sum_hw output_grad[c,h,w] + fcBias[class] "
                    "- logits[class] (residual; relativeResidual divides by |logits[class]|)",
    "reductions": "per debug output, batch item only: sum, absSum (sum of |v|), l2 (sqrt of sum of v^2), min, max",
    "encoding": "base64 of little-endian arrays: resizedRgbU8 uint8 [128,128,3] (HWC, RGB); maps float32 [128,128] "
                "row-major",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-node", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model_dir: Path = args.model_dir
    manifest = json.loads((model_dir / "manifest.json").read_text())
    labels = json.loads((model_dir / manifest["labels"]).read_text())
    fixtures_dir = model_dir / "fixtures"
    fixtures_dir.mkdir(parents=True, exist_ok=True)

    weights32 = load_exported_weights(model_dir, manifest)
    weights64 = {k: v.double() for k, v in weights32.items()}
    bias = {s.name: weights64[f"{s.name}.bias"] for s in SITES}
    model = ExplicitResNet18(weights64, debug=True).double().eval()

    entries, tensors, u8s = [], [], []
    for name, im, save_kwargs, description in draw_images():
        path = fixtures_dir / name
        im.save(path, **save_kwargs)
        u8 = load_resized(path)
        with Image.open(path) as check:
            info = {"format": check.format, "mode": check.mode, "width": check.width, "height": check.height}
        u8s.append(u8)
        tensors.append(normalise_u8(u8))
        entries.append({"file": name, "description": description, **info})
    x32 = torch.stack(tensors)
    x64 = x32.double()
    with torch.no_grad():
        outs = dict(zip(DEBUG_OUTPUTS, model(x64, torch.zeros(len(entries), NUM_CLASSES, dtype=torch.float64))))
    maps = saliency_maps(x64, outs, bias)
    comp = completeness(x64, outs, bias, weights64["fc.bias"])

    for n, entry in enumerate(entries):
        logits = outs["logits"][n]
        pred = int(logits.argmax())
        probs = torch.softmax(logits, 0)
        entry.update({
            "resizedRgbU8": b64(u8s[n], "u1"),
            "tensorStats": {"mean": [float(x32[n, c].double().mean()) for c in range(3)],
                            "std": [float(x32[n, c].double().std(unbiased=False)) for c in range(3)],
                            "first": [float(v) for v in x32[n].flatten()[:8]]},
            "logits": [float(v) for v in logits],
            "predictedClass": pred,
            "predictedLabel": labels[pred],
            "probability": float(probs[pred]),
            "completeness": comp[n],
            "debugReductions": {k: reductions(outs[k][n]) for k in DEBUG_OUTPUTS if k != "grad_seed_used"},
            "maps": {k: b64(v[n].numpy(), "<f4") for k, v in maps.items()},
            "mapStats": {k: {"min": float(v[n].min()), "max": float(v[n].max()), "mean": float(v[n].mean())}
                         for k, v in maps.items()},
        })

    ort_agreement = None if args.skip_node else run_node(model_dir, x32, x64, outs, maps, bias)
    doc = {
        "format": "vigil-fixtures/1",
        "model": {"name": manifest["name"], "version": manifest["version"], "weightsSha256": manifest["weights"]["sha256"]},
        "generatedBy": "training/fixtures.py",
        "torch": torch.__version__,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "inputSize": [INPUT_SIZE, INPUT_SIZE],
        "mean": list(MEAN),
        "std": list(STD),
        "definitions": DEFINITIONS,
        "onnxruntimeNodeAgreement": ort_agreement,
        "images": entries,
    }
    (fixtures_dir / "fixtures.json").write_text(dumps(doc) + "\n")
    total = sum(p.stat().st_size for p in fixtures_dir.iterdir())
    print(f"wrote {len(entries)} images and fixtures.json to {fixtures_dir} ({total / 1e6:.2f} MB)")
    for e in entries:
        print(f"  {e['file']:26s} {e['format']:5s} {e['width']}x{e['height']} -> class {e['predictedClass']:2d} "
              f"p={e['probability']:.3f} completeness rel {e['completeness']['relativeResidual']:.1e}")


def run_node(model_dir: Path, x32, x64, ref, ref_maps, bias) -> dict:
    """debug.onnx in onnxruntime-node on the same float32 tensors, compared with the float64 reference."""
    n = x32.shape[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "image.bin").write_bytes(x32.numpy().astype("<f4").tobytes())
        (tmp / "seed.bin").write_bytes(np.zeros((n, NUM_CLASSES), "<f4").tobytes())
        cmd = ["node", str(Path(__file__).resolve().parent / "onnx_check.mjs"), str(model_dir.resolve()), str(tmp), str(n), "0"]
        proc = subprocess.run(cmd, cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"onnx_check.mjs failed:\n{proc.stdout}\n{proc.stderr}")
        meta = json.loads((tmp / "result.json").read_text())["outputs"]
        ort = {k: torch.from_numpy(np.fromfile(tmp / m["file"], dtype="<f4").reshape(m["dims"]).copy()).double()
               for k, m in meta.items()}
    per_output = {}
    for k in DEBUG_OUTPUTS:
        err = float((ort[k] - ref[k]).abs().max())
        scale = float(ref[k].abs().max())
        per_output[k] = err / scale if scale else err
    ort_maps = saliency_maps(x64, ort, bias)
    map_err = {k: float((ort_maps[k] - ref_maps[k]).abs().max()) for k in ref_maps}
    map_rel = {k: float(((ort_maps[k] - ref_maps[k]).abs().flatten(1).max(1).values
                         / ref_maps[k].abs().flatten(1).max(1).values).max()) for k in ref_maps}
    same_class = bool((ort["logits"].argmax(1) == ref["logits"].argmax(1)).all())
    result = {
        "what": "debug.onnx run by onnxruntime-node (float32) on the float32 tensors of these images vs this float64 "
                "reference; maps computed from the runtime's outputs with the definitions above",
        "sameClass": same_class,
        "logitsMaxAbs": float((ort["logits"] - ref["logits"]).abs().max()),
        "outputRelativeError": {"metric": "max |ort - ref| / max |ref| over all images", **per_output},
        "mapMaxAbs": map_err,
        "mapRelativeError": {"metric": "per image max |ort - ref| / max ref, worst image", **map_rel},
    }
    print(f"  onnxruntime-node vs reference: logits max abs {result['logitsMaxAbs']:.2e}, "
          f"worst output rel {max(per_output.values()):.2e}, map rel {map_rel}", flush=True)
    return result


if __name__ == "__main__":
    main()
