#!/usr/bin/python3
"""Trains torchvision's ResNet18 (43-class head) on GTSRB, on the CPU or a GPU; resumable.

    # choose a recipe: train on 80 % of the tracks, validate on the other 20 %
    /usr/bin/python3 training/train.py /work/data --out data/recipe-run --init-from models/gtsrb-resnet18
    # the bundled model: the same recipe on every track
    /usr/bin/python3 training/train.py /work/data --out data/final-run --all-tracks --init-from models/gtsrb-resnet18

Every `--checkpoint-every` steps and at the end of each epoch the whole run state (model, moving average,
optimiser, learning-rate schedule, random generators, position) goes to `<out>/run-state.pt`; started again
with the same `--out`, the run resumes where it stopped, with the same batches. Progress lines give epoch, loss,
accuracy, images/s and the time left. At the end: `<out>/weights.fp16.pt` (the unfolded weights that
training/export.py reads, float16) and `<out>/metrics.json` (settings, history, and with a validation split
the by-track accuracy overall, per class and the most frequent confusions).

`--init-from DIR` starts from an exported model's folded weights (training/warm_start.py); without it the
model starts from random initialisation, with `--schedule` allowing cheap low-resolution early epochs.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

from augment import augment
from gtsrb import MEAN, NUM_CLASSES, STD, default_cache_dir, list_samples, load_array_cache, parse_schedule, split_by_track

STATE_FILE = "run-state.pt"
WEIGHTS_FILE = "weights.fp16.pt"


def to_model_input(x01: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(MEAN, device=x01.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x01.device).view(1, 3, 1, 1)
    return (x01 - mean) / std


def batch_01(images_u8_nhwc: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(images_u8_nhwc).to(device).permute(0, 3, 1, 2).float().div_(255.0)


def evaluate(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, device: torch.device,
             bf16: bool = False, batch: int = 256) -> tuple[float, np.ndarray]:
    """Accuracy and predictions at the images' own 128x128 (float32 unless `bf16`, the cheap progress check)."""
    model.eval()
    preds = np.empty(len(labels), dtype=np.int64)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16 and device.type == "cpu"):
        for start in range(0, len(labels), batch):
            xb = to_model_input(batch_01(images[start:start + batch], device)).contiguous(memory_format=torch.channels_last)
            preds[start:start + len(xb)] = model(xb).argmax(1).cpu().numpy()
    return float((preds == labels).mean()), preds


def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """Exponential moving average of the weights and of BatchNorm's running statistics."""
    with torch.no_grad():
        for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(decay).add_(m, alpha=1 - decay)
            else:
                e.copy_(m)


def epoch_order(n: int, weights: torch.Tensor | None, seed: int, epoch: int) -> np.ndarray:
    """The epoch's sample order, a function of (seed, epoch) only, so a resumed run sees the same batches."""
    gen = torch.Generator().manual_seed(seed * 1000 + epoch)
    if weights is None:
        return torch.randperm(n, generator=gen).numpy()
    return torch.multinomial(weights, n, replacement=True, generator=gen).numpy()


def class_weights(labels: np.ndarray, power: float) -> torch.Tensor | None:
    """Per-sample sampling weight count(class)^-power: 0 samples as the data is, 1 balances classes fully."""
    if power == 0:
        return None
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    return torch.from_numpy(counts[labels] ** -power)


def confusion_summary(labels: np.ndarray, preds: np.ndarray) -> dict:
    pairs: dict[tuple[int, int], int] = {}
    for truth, pred in zip(labels.tolist(), preds.tolist()):
        if truth != pred:
            pairs[(truth, pred)] = pairs.get((truth, pred), 0) + 1
    return {
        "per_class_accuracy": {c: float((preds[labels == c] == c).mean()) for c in range(NUM_CLASSES)},
        "per_class_val_images": {c: int((labels == c).sum()) for c in range(NUM_CLASSES)},
        "confusions": [{"true": t, "predicted": p, "count": n}
                       for (t, p), n in sorted(pairs.items(), key=lambda kv: -kv[1])[:15]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gtsrb_dir", type=Path, help="directory holding Final_Training/Images (extracted GTSRB training set)")
    parser.add_argument("--out", type=Path, default=Path("data/training-run"))
    parser.add_argument("--all-tracks", action="store_true", help="train on every image (no validation split): the bundled model")
    parser.add_argument("--init-from", type=Path, help="start from this exported model directory's folded weights")
    parser.add_argument("--schedule", default="128:4", help="resolution:epochs,… (the last entries should be 128)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.02, help="peak learning rate")
    parser.add_argument("--warmup-fraction", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--ema-decay", type=float, default=0.998, help="0 = no moving average")
    parser.add_argument("--balance-power", type=float, default=0.5, help="sample classes by count^-power (0 = as they come)")
    parser.add_argument("--precision", choices=["bf16", "fp32"], default="bf16", help="bf16 autocast (CPU: ~2x faster on AVX-512 BF16)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps between run-state saves")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    device = torch.device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in ("threads", "device", "out")}

    samples = list_samples(args.gtsrb_dir)
    if args.all_tracks:
        train_samples, val_samples = samples, []
    else:
        train_samples, val_samples = split_by_track(samples, seed=0)
    print(f"{len(samples)} images: {len(train_samples)} train / {len(val_samples)} validation (by track)", flush=True)
    cache = default_cache_dir()
    train_x, train_y = load_array_cache(train_samples, cache, "all" if args.all_tracks else "train")
    val_x, val_y = load_array_cache(val_samples, cache, "val") if val_samples else (None, None)
    # with --all-tracks the by-track validation images are training images: measured at the end all the same, as
    # the number the TypeScript pipeline must reproduce on real images (test/unit/gtsrb-accuracy.test.ts)
    split_samples = split_by_track(samples, seed=0)[1]

    schedule = parse_schedule(args.schedule)
    steps_per_epoch = math.ceil(len(train_y) / args.batch)
    total_steps = steps_per_epoch * len(schedule)
    state_path = args.out / STATE_FILE
    torch.manual_seed(args.seed)

    if args.init_from and not state_path.exists():
        from warm_start import unfold_into_resnet18
        calibration = np.random.RandomState(args.seed).choice(len(train_y), min(2048, len(train_y)), replace=False)
        model = unfold_into_resnet18(args.init_from, to_model_input(batch_01(train_x[np.sort(calibration)], torch.device("cpu"))))
        print(f"initialised from {args.init_from} (BatchNorm rebuilt from 2,048 training images)", flush=True)
        if val_x is not None:
            print(f"starting by-track validation accuracy {evaluate(model, val_x, val_y, torch.device('cpu'))[0]:.4f}", flush=True)
    else:
        model = torchvision.models.resnet18(num_classes=NUM_CLASSES)
    model = model.to(device).to(memory_format=torch.channels_last)
    ema = copy.deepcopy(model) if args.ema_decay > 0 else None
    optimiser = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    lr_schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr, total_steps=total_steps, pct_start=args.warmup_fraction,
                                                      div_factor=10, final_div_factor=100, anneal_strategy="cos")
    aug_gen = torch.Generator().manual_seed(args.seed)
    history: list[dict] = []
    start_epoch, start_step, elapsed_before = 1, 0, 0.0
    resumed_running = None
    if state_path.exists():
        state = torch.load(state_path, map_location=device)
        if state["settings"] != settings:
            raise SystemExit(f"{state_path} was written with other settings: {state['settings']}; use another --out")
        model.load_state_dict(state["model"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        optimiser.load_state_dict(state["optimiser"])
        lr_schedule.load_state_dict(state["lr_schedule"])
        aug_gen.set_state(state["aug_gen"])
        start_epoch, start_step, history, elapsed_before = state["epoch"], state["step"], state["history"], state["elapsed_s"]
        resumed_running = state.get("running") if start_step else None
        print(f"resumed from {state_path}: epoch {start_epoch}, step {start_step}/{steps_per_epoch}", flush=True)
    started = time.time() - elapsed_before

    running = {"seen": 0, "correct": 0, "loss_sum": 0.0}  # the epoch's figures so far, kept across a resume

    def save_state(epoch: int, step: int) -> None:
        tmp = state_path.with_suffix(".tmp")
        torch.save({"settings": settings, "model": model.state_dict(), "ema": ema.state_dict() if ema is not None else None,
                    "optimiser": optimiser.state_dict(), "lr_schedule": lr_schedule.state_dict(), "aug_gen": aug_gen.get_state(),
                    "epoch": epoch, "step": step, "history": history, "elapsed_s": time.time() - started,
                    "running": dict(running)}, tmp)
        os.replace(tmp, state_path)  # a kill mid-save leaves the previous state whole

    sample_weights = class_weights(train_y, args.balance_power)
    bf16 = args.precision == "bf16" and device.type == "cpu"
    for epoch in range(start_epoch, len(schedule) + 1):
        res = schedule[epoch - 1]
        order = epoch_order(len(train_y), sample_weights, args.seed, epoch)
        model.train()
        first_step = start_step if epoch == start_epoch else 0
        if first_step and resumed_running:
            running.update(resumed_running)
        else:
            running.update(seen=0, correct=0, loss_sum=0.0)
        seen0, t0 = running["seen"], time.time()
        for step in range(first_step, steps_per_epoch):
            idx = np.sort(order[step * args.batch:(step + 1) * args.batch])
            xb = batch_01(train_x[idx], device)
            yb = torch.from_numpy(train_y[idx]).to(device)
            if res != xb.shape[-1]:
                xb = F.interpolate(xb, size=res, mode="bilinear", align_corners=False, antialias=True)
            xb = to_model_input(augment(xb, aug_gen)).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(xb)
            loss = F.cross_entropy(logits.float(), yb, label_smoothing=args.label_smoothing)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            lr_schedule.step()
            if ema is not None:
                ema_update(ema, model, args.ema_decay)
            running["seen"] += len(yb)
            running["correct"] += int((logits.argmax(1) == yb).sum())
            running["loss_sum"] += float(loss) * len(yb)
            seen, correct, loss_sum = running["seen"], running["correct"], running["loss_sum"]
            if (step + 1) % 25 == 0 or step + 1 == steps_per_epoch:
                rate = (seen - seen0) / (time.time() - t0)
                left = ((steps_per_epoch - step - 1) + (len(schedule) - epoch) * steps_per_epoch) * args.batch / rate
                print(f"epoch {epoch}/{len(schedule)} res {res} step {step + 1}/{steps_per_epoch} loss {loss_sum / seen:.4f} "
                      f"acc {correct / seen:.4f} {rate:.1f} img/s lr {lr_schedule.get_last_lr()[0]:.5f} "
                      f"left ~{left / 60:.0f} min", flush=True)
            if (step + 1) % args.checkpoint_every == 0 and step + 1 < steps_per_epoch:
                save_state(epoch, step + 1)
        seen, correct, loss_sum = running["seen"], running["correct"], running["loss_sum"]
        entry = {"epoch": epoch, "resolution": res, "train_loss": loss_sum / max(seen, 1), "train_accuracy": correct / max(seen, 1)}
        if val_x is not None:
            entry["val_accuracy"], _ = evaluate(model, val_x, val_y, device, bf16=bf16)
            if ema is not None:
                entry["val_accuracy_ema"], _ = evaluate(ema, val_x, val_y, device, bf16=bf16)
        entry["elapsed_s"] = round(time.time() - started, 1)
        history.append(entry)
        print(f"epoch {epoch} done: " + " ".join(f"{k} {v:.4f}" for k, v in entry.items() if k.startswith("val"))
              + f" elapsed {entry['elapsed_s'] / 60:.1f} min", flush=True)
        save_state(epoch + 1, 0)

    final = ema if ema is not None else model
    # the weights as they are kept (float16), then measured as served (float32)
    kept = {k: (v.detach().to("cpu").half() if v.dtype.is_floating_point else v.detach().to("cpu")) for k, v in final.state_dict().items()}
    served = torchvision.models.resnet18(num_classes=NUM_CLASSES)
    served.load_state_dict({k: (v.float() if v.dtype.is_floating_point else v) for k, v in kept.items()})
    served = served.to(device).to(memory_format=torch.channels_last)
    metrics: dict = {
        "train_images": int(len(train_y)),
        "train_tracks": len({(s.class_id, s.track) for s in train_samples}),
        "all_tracks": bool(args.all_tracks),
        "history": history,
        "settings": settings,
        "train_seconds": round(time.time() - started, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "weights": "moving average" if ema is not None else "last step",
    }
    split_x, split_y = val_x, val_y
    if split_x is None:
        split_x, split_y = load_array_cache(split_samples, cache, "val")
    split_acc, preds = evaluate(served, split_x, split_y, device)
    metrics |= {"val_accuracy": split_acc, "val_held_out": not args.all_tracks, "val_images": int(len(split_y)),
                "val_tracks": len({(s.class_id, s.track) for s in split_samples}),
                "val_weights": "float16 weights as kept, computed in float32"} | confusion_summary(split_y, preds)
    if not args.all_tracks:
        raw_acc, _ = evaluate(model, val_x, val_y, device) if ema is not None else (split_acc, None)
        metrics["val_accuracy_last_step"] = raw_acc
        print(f"final by-track validation accuracy {split_acc:.4f} (float16 weights, float32 compute; "
              f"last-step weights {raw_acc:.4f})", flush=True)
    else:
        print(f"accuracy on the by-track validation images (trained on: not a validation) {split_acc:.4f}", flush=True)
    torch.save(kept, args.out / WEIGHTS_FILE)
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"wrote {args.out / WEIGHTS_FILE} and metrics.json", flush=True)


if __name__ == "__main__":
    main()
