"""A class-share check in Model Monitor's bring-your-own-container contract, run by vigil as an
external check (docs/monitoring.md, "Your own checks").

It reads the window's captures from dataset_source (JSON Lines in SageMaker's data-capture format,
written with `output: CLASS`, so each endpointOutput.data is the write-up's `[[class]]`), counts the
predicted classes, and writes a violation for each class predicted more than THRESHOLD of the time to
output_path/constraints_violations.json. Lines it cannot read are counted as errors, not fatal.
"""
import json
import os
from collections import Counter


def capture_files(root):
    for folder, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith(".jsonl"):
                yield os.path.join(folder, name)


def predicted_class(line):
    output = json.loads(line)["captureData"]["endpointOutput"]["data"]
    return int(json.loads(output)[0][0])


def main():
    source = os.environ["dataset_source"]
    output = os.environ["output_path"]
    threshold = float(os.environ.get("THRESHOLD", "0.5"))

    counts, errors = Counter(), 0
    for path in capture_files(source):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    counts[predicted_class(line)] += 1
                except (KeyError, IndexError, TypeError, ValueError):
                    errors += 1

    total = sum(counts.values())
    violations = [
        {
            "feature_name": "PredictedClass",
            "constraint_check_type": "baseline_drift_check",
            "description": f"Class {k} predicted {100 * n / total:.1f}% of the time",
        }
        for k, n in sorted(counts.items())
        if n / total > threshold
    ]
    with open(os.path.join(output, "constraints_violations.json"), "w", encoding="utf-8") as f:
        json.dump({"violations": violations}, f, indent=2)
    print(f"{total} predictions, {errors} unreadable, {len(violations)} violations")


if __name__ == "__main__":
    main()
