#!/usr/bin/python3
"""Writes the by-track validation split as a file list the TypeScript side can read.

    /usr/bin/python3 training/split.py [GTSRB_DIR] [--out models/gtsrb-resnet18/validation-split.json]
    /usr/bin/python3 training/split.py [GTSRB_DIR] --print-files | npm run -s vigil -- predict --files-from -

GTSRB_DIR (default $GTSRB_DIR, else /work/data) holds Final_Training/Images. The split is exactly the one
train.py validates on: gtsrb.py split_by_track(samples, val_fraction=0.2, seed=0), i.e. per class (in class
order) the sorted track ids shuffled with Python's random.Random(0), the first round(0.2·tracks) held out.
Reproducing Python's Mersenne-Twister shuffle in TypeScript is not worth it, so the result is written down:
per class, the held-out track ids (an image `000NN/TTTTT_IIIII.ppm` is a validation image when TTTTT is
listed under 000NN), with counts and a hash of the expanded file list so a reader can check its expansion.
No image data; a few KB. `--print-files` writes nothing and prints the validation images' paths instead,
one a line (under GTSRB_DIR), for `vigil predict --files-from -`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gtsrb import find_images_root, list_samples, split_by_track  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "models" / "gtsrb-resnet18" / "validation-split.json"
VAL_FRACTION = 0.2


def relative_name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def build_split(gtsrb_dir: Path, seed: int) -> dict:
    samples = list_samples(gtsrb_dir)
    train, val = split_by_track(samples, val_fraction=VAL_FRACTION, seed=seed)
    classes: dict[str, list[int]] = {}
    images_per_class: dict[str, int] = {}
    for s in val:
        key = f"{s.class_id:05d}"
        if s.track not in classes.setdefault(key, []):
            classes[key].append(s.track)
        images_per_class[key] = images_per_class.get(key, 0) + 1
    for tracks in classes.values():
        tracks.sort()
    names = sorted(relative_name(s.path) for s in val)
    return {
        "format": "vigil-validation-split/1",
        "definition": "training/gtsrb.py split_by_track(samples, val_fraction=0.2, seed=0): per class, in class order, "
                      "the sorted track ids shuffled with Python's random.Random(seed) (one generator for all classes), "
                      "the first max(1, round(0.2 * tracks)) held out. A validation image is 000NN/TTTTT_IIIII.ppm "
                      "with track TTTTT listed under class 000NN.",
        "generatedBy": "training/split.py",
        "valFraction": VAL_FRACTION,
        "seed": seed,
        "images": len(val),
        "tracks": sum(len(t) for t in classes.values()),
        "trainImages": len(train),
        "trainTracks": len({(s.class_id, s.track) for s in train}),
        "totalImages": len(samples),
        "fileListSha256": hashlib.sha256("\n".join(names).encode()).hexdigest(),
        "fileListHashOf": "the sorted 000NN/TTTTT_IIIII.ppm names joined with \\n (no trailing newline)",
        "imagesPerClass": dict(sorted(images_per_class.items())),
        "classes": dict(sorted(classes.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gtsrb_dir", type=Path, nargs="?", default=Path(os.environ.get("GTSRB_DIR", "/work/data")),
                        help="directory holding Final_Training/Images (default $GTSRB_DIR, else /work/data)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0, help="train.py's --seed (default 0)")
    parser.add_argument("--print-files", action="store_true", help="print the validation images' paths, write nothing")
    args = parser.parse_args()
    find_images_root(args.gtsrb_dir)  # a clear message when the directory is wrong
    if args.print_files:
        _, val = split_by_track(list_samples(args.gtsrb_dir), val_fraction=VAL_FRACTION, seed=args.seed)
        sys.stdout.write("".join(f"{s.path}\n" for s in val))
        return
    split = build_split(args.gtsrb_dir, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({k: v for k, v in split.items() if k != "classes"}, indent=1)[:-2]
    # one line per class keeps the file small and diffable
    classes = ",\n".join(f'  "{c}": {json.dumps(t)}' for c, t in split["classes"].items())
    args.out.write_text(f'{text},\n "classes": {{\n{classes}\n }}\n}}\n')
    json.loads(args.out.read_text())  # well-formed
    print(f"wrote {args.out}: {split['images']} validation images in {split['tracks']} tracks "
          f"({split['trainImages']} train images in {split['trainTracks']} tracks)")


if __name__ == "__main__":
    main()
