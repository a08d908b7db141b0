#!/usr/bin/env python3
"""Checks data/medqa_small.json and writes its train and test parts.

The rows of medqa_small.json are already in a shuffled order, so the split is contiguous: the
first n - ceil(n / 5) rows are the train part and the rest the test part. That makes
`split(at: trainCount)` of the whole file equal to the two part files.

    python3 tools/data/split_medqa_small.py
"""
import json
import math
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"
Q, A = "Open-ended Verifiable Question", "Ground-True Answer"


def check(rows):
    seen = set()
    for i, row in enumerate(rows):
        assert set(row) == {Q, A}, f"row {i}: keys {sorted(row)}"
        q, a = row[Q], row[A]
        assert isinstance(q, str) and isinstance(a, str), f"row {i}: non-string value"
        assert len(q) >= 10 and len(a) >= 2, f"row {i}: too short for the notebook's format_prompt"
        assert 1 <= len(a.split()) <= 4, f"row {i}: answer {a!r} is longer than 4 words"
        assert q.lower() not in seen, f"row {i}: duplicate question {q!r}"
        seen.add(q.lower())


def main():
    rows = json.loads((DATA / "medqa_small.json").read_text(encoding="utf-8"))
    check(rows)
    n_test = math.ceil(len(rows) / 5)
    parts = {"train": rows[: len(rows) - n_test], "test": rows[len(rows) - n_test:]}
    for name, part in parts.items():
        path = DATA / f"medqa_small.{name}.json"
        path.write_text(json.dumps(part, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path.name}: {len(part)} rows")


if __name__ == "__main__":
    main()
