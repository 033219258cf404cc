"""GTSRB loading shared by training, evaluation and export.

The official training set is a directory `Final_Training/Images/000NN/` per class, each holding
`TTTTT_IIIII.ppm` images where TTTTT is the track (one physical sign filmed while driving past it).
Images of one track are near-duplicates, so the validation split is made by track, never by image.
"""
from __future__ import annotations

import csv
import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

INPUT_SIZE = 128
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
NUM_CLASSES = 43


@dataclass(frozen=True)
class Sample:
    path: Path
    class_id: int
    track: int


def find_images_root(gtsrb_dir: Path) -> Path:
    """Accepts the directory that holds `Final_Training/`, `Images/` or the class folders directly."""
    for candidate in (gtsrb_dir / "Final_Training" / "Images", gtsrb_dir / "Images", gtsrb_dir):
        if (candidate / "00000").is_dir():
            return candidate
    raise SystemExit(f"no GTSRB class folders (00000..00042) under {gtsrb_dir}")


def list_samples(gtsrb_dir: Path) -> list[Sample]:
    root = find_images_root(gtsrb_dir)
    samples: list[Sample] = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        class_id = int(class_dir.name)
        for image in sorted(class_dir.glob("*.ppm")):
            track = int(image.name.split("_")[0])
            samples.append(Sample(image, class_id, track))
    if not samples:
        raise SystemExit(f"no .ppm images under {root}")
    return samples


def split_by_track(samples: list[Sample], val_fraction: float = 0.2, seed: int = 0) -> tuple[list[Sample], list[Sample]]:
    """Holds out `val_fraction` of each class's tracks (at least one), chosen with a fixed seed."""
    tracks: dict[int, set[int]] = {}
    for s in samples:
        tracks.setdefault(s.class_id, set()).add(s.track)
    rng = random.Random(seed)
    held_out: set[tuple[int, int]] = set()
    for class_id, class_tracks in sorted(tracks.items()):
        ordered = sorted(class_tracks)
        rng.shuffle(ordered)
        n_val = max(1, round(len(ordered) * val_fraction))
        held_out.update((class_id, t) for t in ordered[:n_val])
    train = [s for s in samples if (s.class_id, s.track) not in held_out]
    val = [s for s in samples if (s.class_id, s.track) in held_out]
    return train, val


def load_resized(path: Path, size: int = INPUT_SIZE) -> np.ndarray:
    """The reference preprocessing's first half: RGB, plain (aspect-ignoring) bilinear resize, uint8 HWC."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.uint8)


def load_array_cache(samples: list[Sample], cache_dir: Path, tag: str) -> tuple[np.ndarray, np.ndarray]:
    """Decodes and resizes every image once; later runs read a .npy cache keyed by the file list."""
    key = hashlib.sha1("\n".join(f"{s.path}:{s.class_id}" for s in samples).encode()).hexdigest()[:12]
    cache_dir.mkdir(parents=True, exist_ok=True)
    images_file = cache_dir / f"{tag}-{key}-images.npy"
    labels_file = cache_dir / f"{tag}-{key}-labels.npy"
    if images_file.exists() and labels_file.exists():
        return np.load(images_file), np.load(labels_file)
    images = np.empty((len(samples), INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
    for i, s in enumerate(samples):
        images[i] = load_resized(s.path)
        if (i + 1) % 5000 == 0:
            print(f"  decoded {i + 1}/{len(samples)} {tag} images", flush=True)
    labels = np.array([s.class_id for s in samples], dtype=np.int64)
    np.save(images_file, images)
    np.save(labels_file, labels)
    return images, labels


def read_class_names(signnames_csv: Path) -> list[str]:
    with open(signnames_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    names = [row["SignName"] for row in sorted(rows, key=lambda r: int(r["ClassId"]))]
    if len(names) != NUM_CLASSES:
        raise SystemExit(f"{signnames_csv}: expected {NUM_CLASSES} classes, found {len(names)}")
    return names


def parse_schedule(text: str) -> list[int]:
    """`64:6,96:2,128:2` → one resolution per epoch."""
    epochs: list[int] = []
    for part in text.split(","):
        res, count = part.split(":")
        epochs += [int(res)] * int(count)
    return epochs


def default_cache_dir() -> Path:
    return Path(os.environ.get("VIGIL_TRAINING_CACHE", Path(__file__).resolve().parent.parent / "data" / "training-cache"))
