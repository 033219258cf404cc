#!/usr/bin/python3
"""Writes models/gtsrb-resnet18/MODEL_CARD.md from the two training runs and the export.

    /usr/bin/python3 training/model_card.py [--run-dir training/checkpoints/gtsrb-resnet18]
        [--model-dir models/gtsrb-resnet18] [--predict-results FILE.jsonl] [--previous-predict-results FILE.jsonl]
        [--attack-results FILE.md] [--out FILE]

The bundled model is made in two runs of train.py with one recipe: the recipe run trains on 80 % of the tracks
and is validated on the other 20 % (`recipe-metrics.json`); the final run trains on every track
(`metrics.json`), so its own accuracy on those tracks is not a validation. Both files sit in --run-dir beside the
weights. Also read: the model folder's manifest.json, labels.json, verification.json, validation-split.json
(training/split.py) and fixtures/fixtures.json.

`--predict-results`: the JSON lines `vigil predict` printed for the validation images with the recipe run's
export (the TypeScript pipeline on held-out images); `--previous-predict-results`: the same with the model
bundled before, for the comparison columns; `--attack-results`: bench:attack's table in Markdown.
Standard library only; runs in a second. Writes `validation-curve.svg` beside the card.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gtsrb import parse_schedule  # noqa: E402  (the card and train.py read schedules the same way)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RUN_DIR = REPO / "training" / "checkpoints" / "gtsrb-resnet18"
DEFAULT_MODEL_DIR = REPO / "models" / "gtsrb-resnet18"
CURVE_FILE = "validation-curve.svg"

# torchvision resnet18(num_classes=43): 11,176,512 backbone parameters + 512·43 + 43 in the head
RESNET18_43_PARAMETERS = 11_198_571
GTSRB_IMAGES = 39_209
GTSRB_TRACKS = 1_307
# the model the recipe starts from (bundled until this one; its card is in the repository's history)
PREVIOUS_MODEL = {
    "version": "2026-11-26-771e5385a132",
    "val_accuracy": 0.9922094508301404,
    "text": "trained from random initialisation on the by-track training split (31,379 images) in two phases, 9 epochs "
            "in all: 7 epochs of progressive resizing (six at 64 px, one at 96 px), then 2 at 128 px; 92 min on this "
            "machine. Its by-track validation accuracy was 99.22 %; measured independently on GTSRB's official test set "
            "(12,630 images, not in this project) it scored 98.28 %.",
}


def pct(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f} %"


def sci(x: float | None) -> str:
    return "—" if x is None else f"{x:.1e}"


def load_json(path: Path, required: bool = True):
    if not path.is_file():
        if required:
            raise SystemExit(f"missing {path}")
        return None
    return json.loads(path.read_text())


def by_class(mapping: dict | None) -> dict[int, float]:
    """metrics.json's per-class dicts have string keys ("0".."42") after the JSON round trip"""
    return {int(k): v for k, v in (mapping or {}).items()}


def schedule_text(text: str) -> str:
    parts = [p.split(":") for p in text.split(",")]
    return ", then ".join(f"{c} epoch{'s' if c != '1' else ''} at {r}×{r}" for r, c in parts)


def read_predictions(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        raise SystemExit(f"{path}: no predictions")
    return lines


def predict_summary(predictions: list[dict], split: dict) -> dict:
    """accuracy of `vigil predict`'s lines, the truth being the class folder 000NN of each path"""
    held = {c: set(t) for c, t in split["classes"].items()}
    per_class: dict[int, list[int]] = {}
    pairs: dict[tuple[int, int], int] = {}
    track_errors: dict[tuple[int, int], int] = {}
    errors = 0
    outside = 0
    for line in predictions:
        p = Path(line["path"])
        class_dir, track = p.parent.name, int(p.name.split("_")[0])
        if track not in held.get(class_dir, set()):
            outside += 1
            continue
        if "error" in line:
            errors += 1
            continue
        truth = int(class_dir)
        stats = per_class.setdefault(truth, [0, 0])
        stats[0] += 1
        stats[1] += int(line["predictedClass"] == truth)
        if line["predictedClass"] != truth:
            pairs[(truth, line["predictedClass"])] = pairs.get((truth, line["predictedClass"]), 0) + 1
            track_errors[(truth, track)] = track_errors.get((truth, track), 0) + 1
    images = sum(n for n, _ in per_class.values())
    correct = sum(c for _, c in per_class.values())
    return {
        "images": images,
        "correct": correct,
        "errors": errors,
        "outside": outside,
        "accuracy": correct / images if images else None,
        "per_class": {c: ok / n for c, (n, ok) in per_class.items()},
        "pairs": pairs,
        "track_errors": track_errors,
        "complete": images == split["images"] and errors == 0 and outside == 0,
    }


def curve_svg(start: float, history: list[dict]) -> str:
    """The recipe run's by-track validation accuracy per epoch (last-step and moving-average weights), as SVG."""
    width, height, left, right, top, bottom = 560, 300, 64, 150, 24, 44
    epochs = [0] + [h["epoch"] for h in history]
    series = {
        "last-step weights": ("#1f77b4", [start] + [h.get("val_accuracy") for h in history]),
        "moving average": ("#d62728", [start] + [h.get("val_accuracy_ema") for h in history]),
    }
    values = [v for _, vs in series.values() for v in vs if v is not None]
    lo = min(values + [0.99]) - 0.001
    hi = max(values + [0.997]) + 0.001
    x = lambda e: left + (width - left - right) * e / max(epochs)  # noqa: E731
    y = lambda v: top + (height - top - bottom) * (hi - v) / (hi - lo)  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="16" font-size="13">By-track validation accuracy, recipe run (7,830 held-out images)</text>']
    ticks = [lo + (hi - lo) * i / 5 for i in range(6)]
    for t in ticks:
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{100 * t:.2f} %</text>')
    goal = 0.996
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(goal):.1f}" y2="{y(goal):.1f}" stroke="#2ca02c" stroke-dasharray="5,4"/>')
    out.append(f'<text x="{width - right + 6}" y="{y(goal) + 4:.1f}" fill="#2ca02c">goal 99.6 %</text>')
    for e in epochs:
        out.append(f'<text x="{x(e):.1f}" y="{height - bottom + 18}" text-anchor="middle">{e}</text>')
    out.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 8}" text-anchor="middle">epoch (0: the model it starts from)</text>')
    for i, (label, (colour, vs)) in enumerate(series.items()):
        points = [(x(e), y(v)) for e, v in zip(epochs, vs) if v is not None]
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                   + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + '"/>')
        out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points]
        out.append(f'<text x="{width - right + 6}" y="{top + 16 + 18 * i}" fill="{colour}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--predict-results", type=Path, help="`vigil predict` JSON lines: the recipe run's export on the validation images")
    parser.add_argument("--previous-predict-results", type=Path, help="the same with the model bundled before")
    parser.add_argument("--attack-results", type=Path, help="bench:attack's results table (Markdown)")
    parser.add_argument("--out", type=Path, help="default: <model-dir>/MODEL_CARD.md")
    args = parser.parse_args()

    model_dir: Path = args.model_dir
    final = load_json(args.run_dir / "metrics.json")
    recipe = load_json(args.run_dir / "recipe-metrics.json")
    manifest = load_json(model_dir / "manifest.json")
    labels: list[str] = load_json(model_dir / "labels.json")
    verification = load_json(model_dir / "verification.json", required=False) or {}
    split = load_json(model_dir / "validation-split.json")
    fixtures = load_json(model_dir / "fixtures" / "fixtures.json", required=False)

    warnings: list[str] = []
    source = manifest.get("source", {})
    val_acc = recipe["val_accuracy"]
    if not source.get("final"):
        warnings.append(f"The bundled weights (version {manifest['version']}) were exported from an intermediate checkpoint "
                        "(manifest source.final is false): the numbers below do not describe them.")
    if (source.get("recipe") or {}).get("valAccuracy") not in (None, val_acc):
        warnings.append("manifest source.recipe.valAccuracy differs from recipe-metrics.json: another run's metrics.")
    if recipe.get("settings", {}).get("all_tracks") or not final.get("all_tracks"):
        warnings.append("The recipe run must hold tracks out and the final run must train on every track.")
    recipe_settings = {k: v for k, v in recipe.get("settings", {}).items() if k != "all_tracks"}
    final_settings = {k: v for k, v in final.get("settings", {}).items() if k != "all_tracks"}
    if recipe_settings != final_settings:
        differ = sorted(k for k in recipe_settings.keys() | final_settings.keys() if recipe_settings.get(k) != final_settings.get(k))
        warnings.append(f"The final run's settings differ from the recipe's: {', '.join(differ)}.")
    if recipe.get("val_images") != split["images"]:
        warnings.append(f"recipe-metrics.json counts {recipe.get('val_images')} validation images, validation-split.json {split['images']}.")

    settings = recipe["settings"]
    schedule = parse_schedule(settings["schedule"])
    per_class_acc = by_class(recipe.get("per_class_accuracy"))
    per_class_images = by_class(recipe.get("per_class_val_images")) or {int(c): n for c, n in split["imagesPerClass"].items()}
    tracks_per_class = {int(c): len(t) for c, t in split["classes"].items()}
    predict = previous = None
    for which, path in (("predict", args.predict_results), ("previous", args.previous_predict_results)):
        if path:
            summary = predict_summary(read_predictions(path), split)
            if not summary["complete"]:
                warnings.append(f"{path} covers {summary['images']} of {split['images']} validation images "
                                f"({summary['errors']} errors, {summary['outside']} lines outside the split).")
            if which == "predict":
                predict = summary
            else:
                previous = summary

    name = lambda c: labels[c] if 0 <= c < len(labels) else str(c)  # noqa: E731
    ort = verification.get("onnxruntimeNode", {})
    backward = verification.get("explicitBackwardVsAutograd", {})
    completeness = ort.get("completeness", {})
    timings = ort.get("timings", {})
    history = recipe.get("history") or []
    recipe_s, final_s = recipe.get("train_seconds"), final.get("train_seconds")

    out: list[str] = []
    w = out.append
    w(f"# Model card: {manifest['name']}")
    w("")
    w(f"Generated by `training/model_card.py` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} from "
      f"`{display(args.run_dir)}/recipe-metrics.json` and `metrics.json`, `manifest.json`, `verification.json` and "
      "`validation-split.json`. Do not edit by hand.")
    w("")
    for warning in warnings:
        w(f"> **Warning:** {warning}")
        w("")
    w("| | |")
    w("|---|---|")
    w(f"| Task | traffic-sign classification, {manifest['classCount']} GTSRB classes (`labels.json`) |")
    w(f"| Version | `{manifest['version']}` (weights sha256 `{manifest['weights']['sha256'][:16]}…`) |")
    w(f"| Architecture | {manifest['architecture']} |")
    w(f"| Input | RGB {manifest['inputSize'][1]}×{manifest['inputSize'][0]}, float32 NCHW, ImageNet mean/std normalisation |")
    w(f"| Trained on | every image of the GTSRB training set: {final['train_images']:,} images, {final['train_tracks']:,} tracks |")
    w(f"| **By-track validation of its recipe** | **{pct(val_acc)}** ({split['images']:,} held-out images, {split['tracks']} tracks; "
      f"the same recipe trained on the other {recipe['train_images']:,}) |")
    if predict:
        w(f"| The same images through `vigil predict` | {pct(predict['accuracy'])} ({predict['correct']:,}/{predict['images']:,}; "
          f"{100 * (predict['accuracy'] - val_acc):+.2f} percentage points) |")
    w(f"| The model before it | {pct(PREVIOUS_MODEL['val_accuracy'])} by-track validation (version `{PREVIOUS_MODEL['version']}`) |")
    w("| Files | `serving.onnx` (logits, features), `debug.onnx` (logits + explicit backward for FullGrad), shared `weights.bin`; "
      f"unfolded training weights: `{display(args.run_dir)}/weights.fp16.pt` |")
    w("")

    w("## Intended use")
    w("")
    w("Classifying a cropped image of a single German traffic sign, roughly centred with a small border, into one of the")
    w("43 GTSRB classes; serving it with vigil, capturing traffic and inspecting decisions with saliency maps (FullGrad).")
    w("It is a demonstration model for the serving and monitoring stack, not a component of a driving system.")
    w("")

    w("## Data")
    w("")
    w(f"The official GTSRB training set (`Final_Training/Images`): {GTSRB_IMAGES:,} images in 43 classes, {GTSRB_TRACKS:,} tracks "
      "(a track is one physical sign filmed while driving past it: 30 near-duplicate images), 15×15 to 250×250 pixels, "
      "strongly unbalanced (210 to 2,250 images a class). The official test set (12,630 images) was not used.")
    w("")
    w("> J. Stallkamp, M. Schlipsing, J. Salmen, C. Igel. *Man vs. computer: Benchmarking machine learning algorithms for "
      "traffic sign recognition.* Neural Networks 32 (2012), 323–332. Published by the Institut für Neuroinformatik, "
      "Ruhr-Universität Bochum, for research use.")
    w("")
    w("### By-track split")
    w("")
    w("Images of one track are near-duplicates, so validation holds out whole tracks: `training/gtsrb.py` "
      f"`split_by_track(samples, val_fraction={split['valFraction']}, seed={split['seed']})` takes, per class, "
      "max(1, round(20 % of its tracks)) tracks chosen with a fixed seed. The held-out track ids are written down in "
      "`validation-split.json` (by `training/split.py`). The recipe is chosen and measured on this split; the bundled "
      "model is then trained with it on every track, the validation tracks included.")
    w("")
    w("| | tracks | images |")
    w("|---|---:|---:|")
    w(f"| train (recipe run) | {split['trainTracks']:,} | {split['trainImages']:,} |")
    w(f"| validation (recipe run) | {split['tracks']:,} | {split['images']:,} |")
    w(f"| all (the bundled model's training data) | {split['trainTracks'] + split['tracks']:,} | {split['totalImages']:,} |")
    w("")

    w("## Preprocessing")
    w("")
    w(f"Resize: {manifest['preprocessing']['resize']}; then `x[c] = (rgb/255 − mean[c]) / std[c]` with mean "
      f"{manifest['mean']} and std {manifest['std']} (ImageNet's, a convention only: no ImageNet weights are used). "
      "Greyscale is replicated to RGB; an alpha channel is dropped, not composited. The GTSRB region-of-interest "
      "annotations are not used: the model sees the whole image, border included. The server and `vigil predict` "
      "preprocess with `src/inference/preprocess.ts` (decoding with sharp, PIL's bilinear resize reimplemented).")
    w("")

    w("## Architecture")
    w("")
    w(f"torchvision `resnet18(num_classes=43)` ({RESNET18_43_PARAMETERS:,} parameters), no ImageNet or other pretraining. "
      "For serving, the 20 BatchNorm layers are folded into the preceding convolutions (float64, then rounded to float32), "
      "so `serving.onnx` is convolutions, ReLU, pooling and the linear head; `debug.onnx` adds an explicit backward pass "
      "(gradients of the chosen logit with respect to the input and to each of the 20 folded conv outputs, the FullGrad "
      f"sites). ONNX opset {manifest.get('export', {}).get('opset', '?')}, exported with torch {manifest.get('export', {}).get('torch', '?')} "
      "by `training/export.py` from the unfolded float16 training weights kept in the repository.")
    w("")

    w("## Training")
    w("")
    w(f"**Starting point.** Both runs start from the model bundled before this one (version `{PREVIOUS_MODEL['version']}`), "
      f"{PREVIOUS_MODEL['text']} Only its folded weights had been kept, so `training/warm_start.py` rebuilds a trainable "
      "network from them: each convolution gets the folded kernel, and its BatchNorm the measured mean μ and variance σ² "
      "of the convolution's output on 2,048 training images, with γ = √(σ²+ε) and β = μ + folded bias. That computes the "
      f"folded function exactly in eval mode (the rebuilt network scores the same {pct(PREVIOUS_MODEL['val_accuracy'])}) "
      "and nearly so in training mode. The recipe run's starting model never saw a validation track: it was trained "
      "on the same by-track training split.")
    w("")
    w("**The recipe** (`training/train.py` defaults):")
    w("")
    w(f"- {schedule_text(settings['schedule'])} ({len(schedule)} epochs), every epoch at the serving resolution.")
    w(f"- SGD, momentum 0.9, Nesterov, weight decay {settings['weight_decay']:g}, batch {settings['batch']}; one cycle of the "
      f"learning rate: up from {settings['lr'] / 10:g} to {settings['lr']:g} over the first {100 * settings['warmup_fraction']:g} % "
      f"of the steps, then a cosine down to {settings['lr'] / 1000:g}.")
    w(f"- Cross-entropy with label smoothing {settings['label_smoothing']:g}.")
    w(f"- An exponential moving average of the weights and of BatchNorm's statistics (decay {settings['ema_decay']:g} a step); "
      "the average is the model kept.")
    w(f"- Class-balanced sampling, partly: each image is drawn with weight count(class)^−{settings['balance_power']:g}, "
      "with replacement, an epoch being as many draws as there are images (so a class of 210 images is seen 3.3 times "
      "as often per image as one of 2,250, not 10.7 times).")
    w("- Augmentation (`training/augment.py`, on each batch): a projective warp (rotation ±12°, scale 0.85–1.2, shear "
      "±0.08, shift ±8 %, perspective ±0.12); exposure ×0.55–1.45, a colour cast of ±8 % per channel, saturation "
      "×0.7–1.3, contrast ×0.6–1.4, gamma 0.7–1.5; a 5×5 binomial blur for 25 % of the images; a low-resolution "
      "simulation (down to a sixth to a half of the side and back up) for 25 %; one occluding rectangle (10–30 % of "
      "each side, flat colour or noise) for 30 %. No flips (they change the meaning of many signs).")
    w(f"- bfloat16 autocast on the CPU (AVX-512 BF16: about twice float32's speed here), channels-last; the evaluations "
      f"run in float32 on the float16 weights as kept. Seed {settings['seed']}; {recipe.get('threads', 2)} threads; "
      f"torch {recipe.get('torch', '?')}.")
    w("")
    w(f"**Time** on this 2-core machine: the recipe run {recipe_s / 60:.0f} min, the final run {final_s / 60:.0f} min "
      f"(each including its per-epoch evaluations; the images are decoded once into a uint8 cache).")
    w("")
    w("### Validation curve (recipe run)")
    w("")
    w(f"![By-track validation accuracy per epoch]({CURVE_FILE})")
    w("")
    w("| epoch | train loss | train accuracy (augmented) | validation, last-step weights | validation, moving average | elapsed |")
    w("|---:|---:|---:|---:|---:|---:|")
    w(f"| 0 (start) | — | — | {pct(PREVIOUS_MODEL['val_accuracy'])} | {pct(PREVIOUS_MODEL['val_accuracy'])} | 0 min |")
    for h in history:
        w(f"| {h['epoch']} | {h['train_loss']:.4f} | {pct(h['train_accuracy'])} | {pct(h.get('val_accuracy'))} | "
          f"{pct(h.get('val_accuracy_ema'))} | {h.get('elapsed_s', 0) / 60:.0f} min |")
    w("")
    w("The per-epoch figures are computed in bfloat16 (a cheaper check); the final figure "
      f"({pct(val_acc)}) in float32 on the moving average's float16 weights; with the last step's weights instead: "
      f"{pct(recipe.get('val_accuracy_last_step'))}.")
    w("")
    w("### The final run")
    w("")
    w(f"The same settings on all {final['train_images']:,} images. Its accuracy on the validation tracks, which it "
      f"trained on, is {pct(final.get('val_accuracy'))}: a check that the export and `vigil predict` reproduce it "
      "(`test/unit/gtsrb-accuracy.test.ts`), not a validation.")
    w("")
    w("| epoch | train loss | train accuracy (augmented) | elapsed |")
    w("|---:|---:|---:|---:|")
    for h in final.get("history") or []:
        w(f"| {h['epoch']} | {h['train_loss']:.4f} | {pct(h['train_accuracy'])} | {h.get('elapsed_s', 0) / 60:.0f} min |")
    w("")

    w("## Results: by-track validation of the recipe")
    w("")
    w(f"**{pct(val_acc)}** of {split['images']:,} validation images ({split['tracks']} held-out tracks) at 128×128, "
      "PyTorch on the PIL-resized images."
      + (f" The recipe run's export through `vigil predict` (onnxruntime-node, the server's preprocessing) on the same "
         f"files: **{pct(predict['accuracy'])}**." if predict else "")
      + (f" The model before it: {pct(previous['accuracy'])} through `vigil predict`." if previous else ""))
    w("")
    w("Classes with one or two validation tracks (30–60 images) have coarse per-class numbers: one track is one "
      "physical sign.")
    w("")
    if predict:
        errors = predict["images"] - predict["correct"]
        worst = sorted(predict["track_errors"].items(), key=lambda kv: -kv[1])[:3]
        w(f"The {errors} errors by track (`vigil predict`): "
          + ", ".join(f"class {c} track {t:05d}: {n}" for (c, t), n in worst)
          + (f", and {errors - sum(n for _, n in worst)} more spread over other tracks." if errors > sum(n for _, n in worst) else ".")
          + " A track is one physical sign: a wholly missed track costs 30 images, 0.38 percentage points.")
        w("")
    head = "| class | name | val tracks | val images | accuracy |"
    rule = "|---:|---|---:|---:|---:|"
    if predict:
        head, rule = head + " `vigil predict` |", rule + "---:|"
    if previous:
        head, rule = head + " the model before |", rule + "---:|"
    w(head)
    w(rule)
    for c in range(len(labels)):
        row = (f"| {c} | {name(c)} | {tracks_per_class.get(c, 0)} | {per_class_images.get(c, 0)} | "
               f"{pct(per_class_acc.get(c), 1)} |")
        if predict:
            row += f" {pct(predict['per_class'].get(c), 1)} |"
        if previous:
            row += f" {pct(previous['per_class'].get(c), 1)} |"
        w(row)
    w("")
    confusions = recipe.get("confusions") or []
    w("### Most frequent confusions")
    w("")
    if confusions:
        w("| true class | predicted as | images | share of the true class's validation images |"
          + (" the model before |" if previous else ""))
        w("|---|---|---:|---:|" + ("---:|" if previous else ""))
        for item in confusions[:10]:
            t, p, n = item["true"], item["predicted"], item["count"]
            share = n / per_class_images[t] if per_class_images.get(t) else None
            w(f"| {t} {name(t)} | {p} {name(p)} | {n} | {pct(share, 1)} |"
              + (f" {previous['pairs'].get((t, p), 0)} |" if previous else ""))
        w("")
    else:
        w("None: every validation image is classified correctly.")
        w("")
    if previous:
        w("The model before it, on the same images: its most frequent confusions and what the recipe does with them.")
        w("")
        w("| true class | predicted as | the model before | recipe |")
        w("|---|---|---:|---:|")
        recipe_pairs = {(c["true"], c["predicted"]): c["count"] for c in confusions}
        for (t, p), n in sorted(previous["pairs"].items(), key=lambda kv: -kv[1])[:8]:
            w(f"| {t} {name(t)} | {p} {name(p)} | {n} | {recipe_pairs.get((t, p), 0)} |")
        w("")

    w("## Verification of the exported graphs")
    w("")
    w("From `verification.json` (training/export.py) and `fixtures/fixtures.json` (training/fixtures.py):")
    w("")
    if backward:
        w(f"- Explicit backward vs torch.autograd (float64, unfolded BatchNorm): max relative error "
          f"{sci(backward.get('max_relative_error'))} over all {len(backward.get('per_output', {})) or 43} outputs "
          f"(tolerance {sci(backward.get('tolerance'))}), on random images and one of flat colour blocks (ties inside "
          "max-pool windows).")
    if ort:
        w(f"- onnxruntime-node {ort.get('onnxruntimeNode', '')} vs PyTorch float32, same weights: logits relative error "
          f"{sci(ort.get('logitsRelativeError'))}, worst gradient output {sci(ort.get('worstGradientRelativeError'))}; "
          f"serving vs debug logits max |Δ| {sci(ort.get('servingVsDebugLogitsMaxAbs'))}.")
    if completeness:
        w(f"- FullGrad completeness on onnxruntime-node's outputs (Σ input·grad + Σ bias·grad + fc bias = logit): worst "
          f"relative residual {sci(completeness.get('worst_relative_residual'))} (tolerance "
          f"{sci(completeness.get('tolerance_relative'))}).")
    if fixtures:
        agreement = fixtures.get("onnxruntimeNodeAgreement", {})
        w(f"- {len(fixtures['images'])} synthetic fixture images: onnxruntime-node reproduces the float64 reference logits to "
          f"{sci(agreement.get('outputRelativeError', {}).get('logits'))} relative; `test/unit/model-parity.test.ts` checks "
          "preprocessing, logits, completeness and every debug output against them in TypeScript.")
    for key, label in (("batch 1 median ms (serving, debug, ratio)", "batch 1"), ("batch 8 median ms (serving, debug, ratio)", "batch 8")):
        if key in timings:
            s, d, r = timings[key]
            w(f"- CPU latency, {label} (1 intra-op thread; rough, `npm run bench:debug-graph` measures it properly): "
              f"serving {s} ms, debug {d} ms ({r}×).")
    w("")

    w("## Known limits")
    w("")
    w("- **Validation is not a test set, and the bundled model has none of its own.** The recipe is measured on held-out "
      "tracks of the GTSRB training set; the bundled model trained on those tracks too. The official test set was not "
      "used here, and accuracy on other footage will be lower.")
    w("- **Warm-started**: the weights descend from the model before this one, so that model's training (from random "
      "initialisation, progressive resizing) is part of this one's history.")
    w("- **GTSRB's distribution only**: German signs of 2010–2011, cropped around one sign, mostly daylight video frames. "
      "Other countries' signs, several signs in one image, uncropped scenes, night or heavy weather are out of scope.")
    ood = []
    for im in (fixtures or {}).get("images", []):
        if im["file"].startswith(("noise", "gradient")):
            ood.append(f"`{im['file']}` → {im['predictedLabel']} ({pct(im['probability'], 0)})")
    w("- **No rejection class**: every input gets one of the 43 labels, and the softmax confidence is not calibrated "
      "(label smoothing lowers it on training-like images, not on inputs that are not signs at all"
      + (f"; synthetic fixtures: {', '.join(ood)})." if ood else ")."))
    w("- **Resolution**: 128×128 input; most GTSRB images are smaller (15–250 px) and are upscaled, aspect ratio ignored.")
    w("- **Adversarial vulnerability**: no adversarial training or other defence. Small, nearly invisible perturbations "
      "(PGD within 8 levels of 255) change its prediction; do not rely on it where inputs can be manipulated.")
    if predict:
        w(f"- **Preprocessing: TypeScript vs PIL.** Training used PIL's bilinear resize; the server resizes in "
          f"`src/inference/preprocess.ts`. On the validation images the TypeScript pipeline scores {pct(predict['accuracy'])} "
          f"against PyTorch's {pct(val_acc)} ({100 * (predict['accuracy'] - val_acc):+.2f} percentage points).")
    w("- Per-class accuracy for classes with a single validation track (30 images) rests on one physical sign.")
    w("")

    if args.attack_results:
        w("## Adversarial robustness: targeted attacks toward Stop")
        w("")
        w(args.attack_results.read_text().strip())
        w("")

    w("## How to reproduce")
    w("")
    w("```sh")
    w("# the GTSRB training set (official distribution; here the project's copy)")
    w("mkdir -p /work/data && tar -xJf /work/shared/gtsrb/GTSRB_Final_Training.tar.xz -C /work/data")
    w("# the recipe, on the by-track split, from the model bundled before (git show it into a folder first)")
    w(f"/usr/bin/python3 training/train.py /work/data --out data/recipe-run --init-from <previous model dir>   # ~{recipe_s / 60:.0f} min")
    w("# the same recipe on every track")
    w(f"/usr/bin/python3 training/train.py /work/data --out data/final-run --all-tracks --init-from <previous model dir>   # ~{final_s / 60:.0f} min")
    w("# either run resumes from <out>/run-state.pt when started again after an interruption")
    w(f"cp data/final-run/weights.fp16.pt data/final-run/metrics.json {display(args.run_dir)}/")
    w(f"cp data/recipe-run/metrics.json {display(args.run_dir)}/recipe-metrics.json")
    w("# export the ONNX graphs, manifest, verification and fixtures (from the committed float16 weights)")
    w("/usr/bin/python3 training/export.py && /usr/bin/python3 training/fixtures.py")
    w("# the recipe run's export through the TypeScript pipeline, on the validation images")
    w("/usr/bin/python3 training/export.py --checkpoint data/recipe-run/weights.fp16.pt --out data/recipe-model/gtsrb-resnet18 --skip-node")
    w("cp models/gtsrb-resnet18/validation-split.json data/recipe-model/gtsrb-resnet18/")
    w("/usr/bin/python3 training/split.py /work/data --print-files | MODEL_DIR=data/recipe-model npm run -s vigil -- predict --files-from - > data/recipe-run/predict-val.jsonl")
    w("# this card")
    w("/usr/bin/python3 training/model_card.py --predict-results data/recipe-run/predict-val.jsonl")
    w("# checks: parity with PyTorch (no data needed), and the final run's figure through `vigil predict`")
    w("npx vitest run --project unit test/unit/model-parity.test.ts")
    w("GTSRB_DIR=/work/data npx vitest run --project unit test/unit/gtsrb-accuracy.test.ts")
    w("```")
    w("")

    target = args.out or model_dir / "MODEL_CARD.md"
    target.write_text("\n".join(out).rstrip("\n") + "\n")
    (target.parent / CURVE_FILE).write_text(curve_svg(PREVIOUS_MODEL["val_accuracy"], history))
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {display(target)} and {CURVE_FILE}: recipe by-track validation accuracy {pct(val_acc)}"
          + (f", vigil predict {pct(predict['accuracy'])}" if predict else ""))


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    main()
