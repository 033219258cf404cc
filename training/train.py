#!/usr/bin/python3
"""Trains torchvision's ResNet18 (43-class head) on GTSRB from scratch, on the CPU or a GPU.

    /usr/bin/python3 training/train.py ../shared/gtsrb-extracted --out data/training-run

Progressive resizing: early epochs see the 128x128 images downscaled (cheap on a 2-core CPU), the last
epochs run at the serving resolution so BatchNorm statistics match what is served. Progress lines give
epoch, loss, accuracy and images/s. Writes `checkpoint.pt` and `metrics.json` (by-track validation
accuracy overall, per class and the most frequent confusion pairs) to --out.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

from gtsrb import MEAN, NUM_CLASSES, STD, default_cache_dir, list_samples, load_array_cache, parse_schedule, split_by_track


def normalise(batch_uint8_nhwc: torch.Tensor) -> torch.Tensor:
    x = batch_uint8_nhwc.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Road-sign augmentation on a [N,3,H,W] batch in [0,1]: small rotation, scale, shift, shear;
    brightness/contrast/saturation; blur; low-resolution simulation. No flips (they change meaning)."""
    n = x.shape[0]
    dev = x.device

    def uniform(lo: float, hi: float, size: int = n) -> torch.Tensor:
        return (torch.rand(size, generator=gen) * (hi - lo) + lo).to(dev)

    angle = uniform(-12, 12) * math.pi / 180
    scale = uniform(0.88, 1.15)
    shear = uniform(-0.08, 0.08)
    tx, ty = uniform(-0.08, 0.08), uniform(-0.08, 0.08)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    brightness = uniform(0.6, 1.4).view(n, 1, 1, 1)
    contrast = uniform(0.6, 1.4).view(n, 1, 1, 1)
    saturation = uniform(0.7, 1.3).view(n, 1, 1, 1)
    x = x * brightness
    grey = x.mean(dim=1, keepdim=True)
    x = grey + (x - grey) * saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (mean + (x - mean) * contrast).clamp_(0, 1)

    blur = (torch.rand(n, generator=gen) < 0.25).to(dev)
    if blur.any():
        k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], device=dev)
        k = (k[:, None] * k[None, :]) / 256.0
        kernel = k.expand(3, 1, 5, 5).contiguous()
        x[blur] = F.conv2d(F.pad(x[blur], (2, 2, 2, 2), mode="replicate"), kernel, groups=3)

    lowres = (torch.rand(n, generator=gen) < 0.2).to(dev)
    if lowres.any():
        h = x.shape[-1]
        small = int(torch.randint(max(12, h // 5), max(13, h // 2), (1,), generator=gen))
        x[lowres] = F.interpolate(F.interpolate(x[lowres], size=small, mode="bilinear", align_corners=False, antialias=True),
                                  size=h, mode="bilinear", align_corners=False)
    return x


def to_model_input(x01: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(MEAN, device=x01.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x01.device).view(1, 3, 1, 1)
    return (x01 - mean) / std


def evaluate(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, device: torch.device,
             batch: int = 256, limit: int | None = None, res: int | None = None) -> tuple[float, np.ndarray]:
    """Returns accuracy and the predictions, at `res` (default: the images' own 128x128)."""
    model.eval()
    count = len(labels) if limit is None else min(limit, len(labels))
    preds = np.empty(count, dtype=np.int64)
    with torch.no_grad():
        for start in range(0, count, batch):
            xb = normalise(torch.from_numpy(images[start:start + batch][: count - start]).to(device))
            if res is not None and res != xb.shape[-1]:
                xb = F.interpolate(xb, size=res, mode="bilinear", align_corners=False, antialias=True)
            preds[start:start + len(xb)] = model(xb).argmax(1).cpu().numpy()
    return float((preds == labels[:count]).mean()), preds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gtsrb_dir", type=Path, help="directory holding Final_Training/Images (extracted GTSRB training set)")
    parser.add_argument("--out", type=Path, default=Path("data/training-run"))
    parser.add_argument("--schedule", default="64:6,96:2,128:2", help="resolution:epochs,… (last entries should be 128)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", type=Path, help="start from this checkpoint (a state_dict), e.g. to finish a run at 128 px")
    parser.add_argument("--warmup-fraction", type=float, default=0.2, help="share of steps spent raising the learning rate")
    parser.add_argument("--stop-after", type=int, default=0, help="stop after this many epochs of the schedule (0 = run it all)")
    parser.add_argument("--epoch-fraction", type=float, default=1.0, help="share of the training set each epoch visits")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        import os
        torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()

    samples = list_samples(args.gtsrb_dir)
    train_samples, val_samples = split_by_track(samples, seed=args.seed)
    print(f"{len(samples)} images: {len(train_samples)} train / {len(val_samples)} validation (by track)", flush=True)
    cache = default_cache_dir()
    train_x, train_y = load_array_cache(train_samples, cache, "train")
    val_x, val_y = load_array_cache(val_samples, cache, "val")

    model = torchvision.models.resnet18(num_classes=NUM_CLASSES).to(device)
    if args.resume:
        model.load_state_dict(torch.load(args.resume, map_location=device))
        print(f"resumed from {args.resume}", flush=True)
    schedule = parse_schedule(args.schedule)
    steps_per_epoch = math.ceil(len(train_y) * args.epoch_fraction / args.batch)
    optimiser = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    lr_schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr, total_steps=steps_per_epoch * len(schedule),
                                                      pct_start=args.warmup_fraction, div_factor=10, final_div_factor=200)
    gen = torch.Generator().manual_seed(args.seed)
    history = []
    for epoch, res in enumerate(schedule, start=1):
        model.train()
        order = torch.randperm(len(train_y), generator=gen).numpy()
        seen, correct, loss_sum, t0 = 0, 0, 0.0, time.time()
        for step in range(steps_per_epoch):
            idx = np.sort(order[step * args.batch:(step + 1) * args.batch])
            xb = torch.from_numpy(train_x[idx]).to(device).permute(0, 3, 1, 2).float().div_(255.0)
            yb = torch.from_numpy(train_y[idx]).to(device)
            if res != xb.shape[-1]:
                xb = F.interpolate(xb, size=res, mode="bilinear", align_corners=False, antialias=True)
            xb = to_model_input(augment(xb, gen))
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            lr_schedule.step()
            seen += len(yb)
            correct += int((logits.argmax(1) == yb).sum())
            loss_sum += float(loss) * len(yb)
            if (step + 1) % 50 == 0 or step + 1 == steps_per_epoch:
                rate = seen / (time.time() - t0)
                print(f"epoch {epoch}/{len(schedule)} res {res} step {step + 1}/{steps_per_epoch} "
                      f"loss {loss_sum / seen:.4f} acc {correct / seen:.4f} {rate:.1f} img/s "
                      f"lr {lr_schedule.get_last_lr()[0]:.4f}", flush=True)
        last = epoch == len(schedule)
        # intermediate epochs: a random 2,000-image sample at the epoch's own resolution (cheap, comparable)
        full = last or epoch >= len(schedule) - 1
        sample = np.arange(len(val_y)) if full else np.random.RandomState(epoch).choice(len(val_y), 2000, replace=False)
        val_acc, _ = evaluate(model, val_x[sample], val_y[sample], device, res=res)
        elapsed = time.time() - started
        history.append({"epoch": epoch, "resolution": res, "train_loss": loss_sum / seen, "train_accuracy": correct / seen,
                        "val_accuracy": val_acc, "elapsed_s": round(elapsed, 1)})
        print(f"epoch {epoch} done: val acc {val_acc:.4f} ({'full' if full else f'2000-image sample at {res}px'}) "
              f"elapsed {elapsed / 60:.1f} min", flush=True)
        torch.save(model.state_dict(), args.out / "checkpoint.pt")
        if args.stop_after and epoch >= args.stop_after:
            print(f"stopping after epoch {epoch} (--stop-after)", flush=True)
            break

    val_acc, preds = evaluate(model, val_x, val_y, device)
    per_class = {c: float((preds[val_y == c] == c).mean()) for c in range(NUM_CLASSES)}
    pairs: dict[tuple[int, int], int] = {}
    for truth, pred in zip(val_y.tolist(), preds.tolist()):
        if truth != pred:
            pairs[(truth, pred)] = pairs.get((truth, pred), 0) + 1
    confusions = [{"true": t, "predicted": p, "count": n} for (t, p), n in sorted(pairs.items(), key=lambda kv: -kv[1])[:15]]
    metrics = {
        "val_accuracy": val_acc,
        "val_images": int(len(val_y)),
        "train_images": int(len(train_y)),
        "val_tracks": len({(s.class_id, s.track) for s in val_samples}),
        "train_tracks": len({(s.class_id, s.track) for s in train_samples}),
        "per_class_accuracy": per_class,
        "per_class_val_images": {c: int((val_y == c).sum()) for c in range(NUM_CLASSES)},
        "confusions": confusions,
        "history": history,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "train_seconds": round(time.time() - started, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"final by-track validation accuracy {val_acc:.4f}; wrote {args.out}/checkpoint.pt and metrics.json", flush=True)


if __name__ == "__main__":
    main()
