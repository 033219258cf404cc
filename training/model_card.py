#!/usr/bin/python3
"""Writes models/gtsrb-resnet18/MODEL_CARD.md from the training run and the export.

    /usr/bin/python3 training/model_card.py [--metrics data/training-run/metrics.json]
        [--model-dir models/gtsrb-resnet18] [--predict-results FILE.jsonl] [--out FILE]

Reads the training run's metrics.json (train.py writes it when training ends), the model folder's
manifest.json, labels.json, verification.json, validation-split.json (training/split.py) and
fixtures/fixtures.json. `--predict-results`: the JSON lines `vigil predict` printed for the validation
images (training/README.md "Model card" has the command); the card then reports the TypeScript pipeline's
accuracy next to PyTorch's. Standard library only; runs in a second.
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
DEFAULT_METRICS = REPO / "data" / "training-run" / "metrics.json"
DEFAULT_MODEL_DIR = REPO / "models" / "gtsrb-resnet18"

# train.py's defaults, for a metrics.json without "settings"
TRAIN_DEFAULTS = {"schedule": "64:6,96:2,128:2", "batch": 64, "lr": 0.1, "weight_decay": 5e-4, "seed": 0, "warmup_fraction": 0.2,
                  "epoch_fraction": 1.0, "threads": 0, "resume": None, "stop_after": 0}
# torchvision resnet18(num_classes=43): 11,176,512 backbone parameters + 512·43 + 43 in the head
RESNET18_43_PARAMETERS = 11_198_571
GTSRB_IMAGES = 39_209


def parse_phase_log(path: Path) -> list[dict]:
    """Epoch summaries from a train.py log: the last progress line of each epoch and its elapsed time."""
    import re
    epochs: dict[int, dict] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"epoch (\d+)/\d+ res (\d+) step (\d+)/(\d+) loss ([\d.]+) acc ([\d.]+)", line)
        if m and m.group(3) == m.group(4):
            epochs[int(m.group(1))] = {"epoch": int(m.group(1)), "resolution": int(m.group(2)),
                                       "loss": float(m.group(5)), "accuracy": float(m.group(6))}
        d = re.match(r"epoch (\d+) done: .* elapsed ([\d.]+) min", line)
        if d and int(d.group(1)) in epochs:
            epochs[int(d.group(1))]["elapsed_min"] = float(d.group(2))
    return [e for _, e in sorted(epochs.items()) if "elapsed_min" in e]


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
        stats = per_class.setdefault(int(class_dir), [0, 0])
        stats[0] += 1
        stats[1] += int(line["predictedClass"] == int(class_dir))
    images = sum(n for n, _ in per_class.values())
    correct = sum(c for _, c in per_class.values())
    return {
        "images": images,
        "correct": correct,
        "errors": errors,
        "outside": outside,
        "accuracy": correct / images if images else None,
        "per_class": {c: ok / n for c, (n, ok) in per_class.items()},
        "complete": images == split["images"] and errors == 0 and outside == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metrics", type=Path, default=DEFAULT_METRICS)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--predict-results", type=Path, help="`vigil predict` JSON lines for the validation images")
    parser.add_argument("--out", type=Path, help="default: <model-dir>/MODEL_CARD.md")
    parser.add_argument("--phase1-log", type=Path,
                        help="train.py log of a first phase whose checkpoint the run in --metrics resumed (--resume)")
    args = parser.parse_args()

    model_dir: Path = args.model_dir
    metrics = load_json(args.metrics)
    manifest = load_json(model_dir / "manifest.json")
    labels: list[str] = load_json(model_dir / "labels.json")
    verification = load_json(model_dir / "verification.json", required=False) or {}
    split = load_json(model_dir / "validation-split.json", required=False)
    fixtures = load_json(model_dir / "fixtures" / "fixtures.json", required=False)
    if split is None:
        raise SystemExit(f"missing {model_dir}/validation-split.json: run training/split.py first")

    warnings: list[str] = []
    source = manifest.get("source", {})
    val_acc = metrics["val_accuracy"]
    if not source.get("final"):
        warnings.append(f"The bundled weights (version {manifest['version']}) were exported from an intermediate checkpoint "
                        f"(manifest source.final is false): the numbers below come from {args.metrics} and do not describe them. "
                        "Re-export after training (see How to reproduce), then re-run this script.")
    elif source.get("valAccuracy") is not None and abs(source["valAccuracy"] - val_acc) > 1e-12:
        warnings.append(f"manifest source.valAccuracy {source['valAccuracy']} differs from {args.metrics} val_accuracy {val_acc}: "
                        "the metrics belong to another training run than the bundled weights.")
    if metrics.get("val_images") not in (None, split["images"]):
        warnings.append(f"metrics.json counts {metrics['val_images']} validation images, validation-split.json {split['images']}.")

    settings = {**TRAIN_DEFAULTS, **metrics.get("settings", {})}
    schedule = parse_schedule(settings["schedule"])
    per_class_acc = by_class(metrics.get("per_class_accuracy"))
    per_class_images = by_class(metrics.get("per_class_val_images")) or {int(c): n for c, n in split["imagesPerClass"].items()}
    tracks_per_class = {int(c): len(t) for c, t in split["classes"].items()}
    predict = None
    if args.predict_results:
        predict = predict_summary(read_predictions(args.predict_results), split)
        if not predict["complete"]:
            warnings.append(f"{args.predict_results} covers {predict['images']} of {split['images']} validation images "
                            f"({predict['errors']} errors, {predict['outside']} lines outside the split).")

    name = lambda c: labels[c] if 0 <= c < len(labels) else str(c)  # noqa: E731
    ort = verification.get("onnxruntimeNode", {})
    backward = verification.get("explicitBackwardVsAutograd", {})
    completeness = ort.get("completeness", {})
    timings = ort.get("timings", {})
    train_s = metrics.get("train_seconds")
    device = settings.get("device", "cpu")
    threads = metrics.get("threads")

    out: list[str] = []
    w = out.append
    w(f"# Model card: {manifest['name']}")
    w("")
    w(f"Generated by `training/model_card.py` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} from "
      f"`{display(args.metrics)}`, `manifest.json`, `verification.json` and `validation-split.json`. Do not edit by hand.")
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
    w(f"| **By-track validation accuracy** | **{pct(val_acc)}** ({split['images']:,} images, {split['tracks']} tracks) |")
    if predict:
        w(f"| The same images through `vigil predict` | {pct(predict['accuracy'])} ({predict['correct']:,}/{predict['images']:,}; "
          f"{100 * (predict['accuracy'] - val_acc):+.2f} percentage points) |")
    w(f"| Files | `serving.onnx` (logits), `debug.onnx` (logits + explicit backward for FullGrad), shared `weights.bin` |")
    w("")

    w("## Intended use")
    w("")
    w("Classifying a cropped image of a single German traffic sign, roughly centred with a small border, into one of the")
    w("43 GTSRB classes; serving it with vigil, capturing traffic and inspecting decisions with saliency maps (FullGrad).")
    w("It is a demonstration model for the serving and monitoring stack, not a component of a driving system.")
    w("")

    w("## Data")
    w("")
    w(f"The official GTSRB training set (`Final_Training/Images`): {GTSRB_IMAGES:,} images in 43 classes, 1,307 tracks "
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
      "`validation-split.json` (by `training/split.py`).")
    w("")
    w("| | tracks | images |")
    w("|---|---:|---:|")
    w(f"| train | {split['trainTracks']:,} | {split['trainImages']:,} |")
    w(f"| validation | {split['tracks']:,} | {split['images']:,} |")
    w(f"| total | {split['trainTracks'] + split['tracks']:,} | {split['totalImages']:,} |")
    w("")

    w("## Preprocessing")
    w("")
    w(f"Resize: {manifest['preprocessing']['resize']}; then `x[c] = (rgb/255 − mean[c]) / std[c]` with mean "
      f"{manifest['mean']} and std {manifest['std']} (ImageNet's, a convention only: no ImageNet weights are used). "
      "Greyscale is replicated to RGB; an alpha channel is dropped, not composited. The GTSRB region-of-interest "
      "annotations are not used: the model sees the whole image, border included. The server and `vigil predict` "
      "preprocess with `src/inference/preprocess.ts` (decoding and resizing with sharp); the reference is PIL "
      "(see Known limits).")
    w("")

    w("## Architecture")
    w("")
    w(f"torchvision `resnet18(num_classes=43)` ({RESNET18_43_PARAMETERS:,} parameters), trained from random initialisation. "
      "For serving, the 20 BatchNorm layers are folded into the preceding convolutions (float64, then rounded to float32), "
      "so `serving.onnx` is convolutions, ReLU, pooling and the linear head; `debug.onnx` adds an explicit backward pass "
      "(gradients of the chosen logit with respect to the input and to each of the 20 folded conv outputs, the FullGrad "
      f"sites). ONNX opset {manifest.get('export', {}).get('opset', '?')}, exported with torch {manifest.get('export', {}).get('torch', '?')}.")
    w("")

    w("## Training")
    w("")
    phase1 = parse_phase_log(args.phase1_log) if args.phase1_log else []
    if phase1:
        p1_minutes = phase1[-1]["elapsed_min"]
        w(f"Two phases on this 2-core CPU machine (the machine was shared with other work, so times are long): "
          f"phase 1 trained from scratch with progressive resizing ({len(phase1)} epochs, {p1_minutes:.0f} min: "
          f"{', '.join(str(e['resolution']) for e in phase1)} px); phase 2 resumed its checkpoint and fine-tuned at the "
          "serving resolution with a fresh one-cycle schedule (below). Phase 1's log: `training-phase1-log.txt` beside this card.")
        w("")
        w("| phase 1 epoch | resolution | train loss | train accuracy (augmented) |")
        w("|---:|---:|---:|---:|")
        for e in phase1:
            w(f"| {e['epoch']} | {e['resolution']} | {e['loss']:.4f} | {pct(e['accuracy'])} |")
        w("")
        w("Phase 2:")
        w("")
    w(f"- Schedule (progressive resizing): {schedule_text(settings['schedule'])} — {len(schedule)} epochs. Lower-resolution "
      "epochs see the 128×128 images downscaled (bilinear, antialiased); the last epochs run at the serving resolution "
      "so the BatchNorm statistics match what is served.")
    w(f"- Optimiser: SGD, momentum 0.9, Nesterov, weight decay {settings['weight_decay']:g}, batch {settings['batch']}; "
      f"one-cycle learning rate (peak {settings['lr']:g} at {100 * settings.get('warmup_fraction', 0.2):g} % of the steps, from {settings['lr'] / 10:g}, "
      f"down to {settings['lr'] / 10 / 200:g}); cross-entropy loss.")
    w("- Augmentation (on each batch, in [0,1]): rotation ±12°, scale 0.88–1.15, shear ±0.08, shift ±0.08 (normalised "
      "coordinates, ±4 % of the image); brightness and contrast ×0.6–1.4, saturation ×0.7–1.3; a 5×5 binomial blur for "
      "25 % of the images; a low-resolution simulation (down to a fifth to a half of the side, at least 12 px, and back up) for 20 %. No flips (they change "
      "the meaning of many signs).")
    w(f"- Seed {settings['seed']}; {device.upper() if device != 'cpu' else 'CPU'}"
      f"{f', {threads} threads' if threads else ''}; torch {metrics.get('torch', '?')}.")
    if train_s is not None:
        w(f"- Training time: {train_s / 60:.0f} min ({train_s:,.0f} s), including decoding the images once.")
    w("")
    history = metrics.get("history") or []
    if history:
        w("| epoch | resolution | train loss | train accuracy (augmented) | elapsed |")
        w("|---:|---:|---:|---:|---:|")
        for h in history:
            w(f"| {h['epoch']} | {h['resolution']} | {h['train_loss']:.4f} | {pct(h['train_accuracy'])} | "
              f"{h.get('elapsed_s', 0) / 60:.0f} min |")
        w("")

    w("## Results: by-track validation")
    w("")
    w(f"**{pct(val_acc)}** of {split['images']:,} validation images ({split['tracks']} held-out tracks) at 128×128, "
      "PyTorch on the PIL-resized images (train.py's final evaluation)."
      + (f" `vigil predict` (onnxruntime-node, sharp preprocessing) on the same files: **{pct(predict['accuracy'])}**."
         if predict else ""))
    w("")
    w("Classes with one or two validation tracks (30–60 images) have coarse per-class numbers: one track is one "
      "physical sign.")
    w("")
    head = "| class | name | val tracks | val images | accuracy |" + (" `vigil predict` |" if predict else "")
    w(head)
    w("|---:|---|---:|---:|---:|" + ("---:|" if predict else ""))
    for c in range(len(labels)):
        row = (f"| {c} | {name(c)} | {tracks_per_class.get(c, 0)} | {per_class_images.get(c, 0)} | "
               f"{pct(per_class_acc.get(c), 1)} |")
        if predict:
            row += f" {pct(predict['per_class'].get(c), 1)} |"
        w(row)
    w("")
    confusions = metrics.get("confusions") or []
    if confusions:
        w("### Most frequent confusions")
        w("")
        w("| true class | predicted as | images | share of the true class's validation images |")
        w("|---|---|---:|---:|")
        for item in confusions[:10]:
            t, p, n = item["true"], item["predicted"], item["count"]
            share = n / per_class_images[t] if per_class_images.get(t) else None
            w(f"| {t} {name(t)} | {p} {name(p)} | {n} | {pct(share, 1)} |")
        w("")

    w("## Verification of the exported graphs")
    w("")
    w("From `verification.json` (training/export.py) and `fixtures/fixtures.json` (training/fixtures.py):")
    w("")
    if backward:
        w(f"- Explicit backward vs torch.autograd (float64, unfolded BatchNorm): max relative error "
          f"{sci(backward.get('max_relative_error'))} over all {len(backward.get('per_output', {})) or 43} outputs "
          f"(tolerance {sci(backward.get('tolerance'))}).")
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
            w(f"- CPU latency, {label} (1 intra-op thread, 2-core machine shared with training; rough): serving {s} ms, "
              f"debug {d} ms ({r}×).")
    w("")

    w("## Known limits")
    w("")
    w("- **Trained from scratch** on ~31,000 images (no ImageNet or other pretraining); the ImageNet mean/std are a "
      "normalisation convention only.")
    w("- **Validation is not a test set.** The by-track split comes from the GTSRB training set; the official test set "
      "was not used, and accuracy on other footage will be lower.")
    w("- **GTSRB's distribution only**: German signs of 2010–2011, cropped around one sign, mostly daylight video frames. "
      "Other countries' signs, several signs in one image, uncropped scenes, night or heavy weather are out of scope.")
    ood = []
    for im in (fixtures or {}).get("images", []):
        if im["file"].startswith(("noise", "gradient")):
            ood.append(f"`{im['file']}` → {im['predictedLabel']} ({pct(im['probability'], 0)})")
    w("- **No rejection class**: every input gets one of the 43 labels, and the softmax confidence is not calibrated; "
      "it can be high on inputs that are not signs at all" + (f" (synthetic fixtures: {', '.join(ood)})." if ood else "."))
    w("- **Resolution**: 128×128 input; most GTSRB images are smaller (15–250 px) and are upscaled, aspect ratio ignored.")
    w("- **Adversarial vulnerability**: no adversarial training or other defence. Like any undefended CNN classifier, "
      "small, nearly invisible perturbations (e.g. FGSM/PGD within a few levels of 255) can change its prediction; "
      "do not rely on it where inputs can be manipulated.")
    if predict:
        w(f"- **Preprocessing: TypeScript vs PIL.** Training used PIL's bilinear resize; the server resizes in "
          f"`src/inference/preprocess.ts`. On the validation images the TypeScript pipeline scores {pct(predict['accuracy'])} against PyTorch's {pct(val_acc)} "
          f"({100 * (predict['accuracy'] - val_acc):+.2f} percentage points).")
    else:
        w("- **Preprocessing: TypeScript vs PIL.** Training used PIL's bilinear resize; the server resizes in "
          "`src/inference/preprocess.ts`. "
          "`test/unit/model-parity.test.ts` measures the resized images' difference on the fixtures and "
          "`test/unit/gtsrb-accuracy.test.ts` the accuracy difference on the validation images (not measured for this card: "
          "pass `--predict-results`).")
    w("- Per-class accuracy for classes with a single validation track (30 images) rests on one physical sign.")
    w("")

    w("## How to reproduce")
    w("")
    w("```sh")
    w("# the GTSRB training set (official distribution; here the project's copy)")
    w("mkdir -p /work/data && tar -xJf /work/shared/gtsrb/GTSRB_Final_Training.tar.xz -C /work/data")
    w(f"# train (~{train_s / 60:.0f} min on this machine); writes data/training-run/checkpoint.pt and metrics.json"
      if train_s else "# train; writes data/training-run/checkpoint.pt and metrics.json")
    if phase1:
        w("# phase 1: from scratch, the default 10-epoch progressive schedule, stopped after its 7th epoch")
        w("/usr/bin/python3 training/train.py /work/data --out data/training-run --stop-after 7")
        w("cp data/training-run/checkpoint.pt data/checkpoint-epoch7-96px.pt")
        w("# phase 2: fine-tune at 128 px")
    extra = {"resume": "--resume", "epoch_fraction": "--epoch-fraction", "lr": "--lr", "warmup_fraction": "--warmup-fraction",
             "threads": "--threads"}
    w(f"/usr/bin/python3 training/train.py /work/data --out data/training-run"
      + (f" --schedule {settings['schedule']}" if settings['schedule'] != TRAIN_DEFAULTS['schedule'] else "")
      + (f" --seed {settings['seed']}" if settings['seed'] != 0 else "")
      + "".join(f" {flag} {settings[key]}" for key, flag in extra.items()
                if settings.get(key) not in (None, TRAIN_DEFAULTS.get(key))))
    w("# export the ONNX graphs, manifest, verification and fixtures")
    w("/usr/bin/python3 training/export.py && /usr/bin/python3 training/fixtures.py")
    w("# the validation split as a file, and the TypeScript pipeline on it")
    w("/usr/bin/python3 training/split.py /work/data")
    w("/usr/bin/python3 training/split.py /work/data --print-files | npm run -s vigil -- predict --files-from - > data/training-run/predict-val.jsonl")
    w("# this card")
    w("/usr/bin/python3 training/model_card.py --predict-results data/training-run/predict-val.jsonl"
      + (" --phase1-log data/train-phase1.log" if phase1 else ""))
    w("# checks: parity with PyTorch (no data needed), and the accuracy above through `vigil predict`")
    w("npx vitest run --project unit test/unit/model-parity.test.ts")
    w("GTSRB_DIR=/work/data npx vitest run --project unit test/unit/gtsrb-accuracy.test.ts")
    w("```")
    w("")

    target = args.out or model_dir / "MODEL_CARD.md"
    target.write_text("\n".join(out).rstrip("\n") + "\n")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {display(target)}: by-track validation accuracy {pct(val_acc)}"
          + (f", vigil predict {pct(predict['accuracy'])}" if predict else ""))


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    main()
