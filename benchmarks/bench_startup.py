"""Benchmark of start-up as a user feels it: ``parcours find X`` as a whole process.

The reference, measured in the same run and interleaved with it (so that a loaded machine
slows both alike), is a process that only imports pandas: ``python -c "import pandas"``. The
region cache is warmed first (one untimed ``find``), so the figure is a warm start. Target:
the median ``parcours find`` under twice the median ``import pandas``. The import of the
modules a find needs is also timed on its own, to show where the time goes.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--repeat 7] [PLACE...]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import Targets, fmt_s

PYTHON = sys.executable
TARGET_RATIO = 2.0
PANDAS = [PYTHON, "-c", "import pandas"]
IMPORTS = [
    PYTHON,
    "-c",
    "import coverage.cli, coverage.cli.find, coverage.cli._common, coverage.outputs.finder_text",
]


def find_cmd(place: str) -> list[str]:
    return [PYTHON, "-m", "coverage.cli", "find", place]


def wall(cmd: list[str]) -> float:
    """Wall time of one process run to its end (its output discarded); raises on failure."""
    t = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - t
    if done.returncode not in (0, 3):  # 3: an ambiguous place, still a full answer
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-500:]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("places", nargs="*", default=["Aurillac", "38100", "Murat (Cantal)"])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    targets = Targets("startup")
    wall(find_cmd(args.places[0]))  # warm: the region cache exists, files are in the page cache
    wall(PANDAS)
    for place in args.places:
        ref, ours, imports = [], [], []
        for _ in range(args.repeat):  # interleaved: the same load on both
            ref.append(wall(PANDAS))
            ours.append(wall(find_cmd(place)))
            imports.append(wall(IMPORTS))
        r, o, i = (statistics.median(x) for x in (ref, ours, imports))
        print(
            f"parcours find {place!r}: {fmt_s(o)} (import pandas {fmt_s(r)}, ratio "
            f"{o / r:.2f}x); imports of the find command alone {fmt_s(i)} ({i / r:.2f}x)"
        )
        targets.check(f"find {place!r} / import pandas", o / r, at_most=TARGET_RATIO)
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
