"""Shared timing for the benchmark scripts: medians, peak memory, targets and the exit code.

Every benchmark measures its reference in the same run, prints figures and ratios, records
each target with :meth:`Targets.check`, and ends with ``sys.exit(targets.exit_code())``: a
missed target makes the script exit 1, so ``make bench`` fails.

Example::

    targets = Targets("analyse")
    t, _ = timed(lambda: analyse(...), repeat=5)
    ref, _ = timed(lambda: reference(...), repeat=5)
    print(line("analyse", t, ref))
    targets.check("analyse (s)", t, at_most=0.5)
    sys.exit(targets.exit_code())
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field


def timed[T](fn: Callable[[], T], *, repeat: int = 5, warmup: int = 0) -> tuple[float, T]:
    """Median wall time of ``repeat`` calls of ``fn`` (after ``warmup`` untimed ones)."""
    result: T | None = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result  # type: ignore[return-value]


def traced_peak_mb[T](fn: Callable[[], T]) -> tuple[float, T]:
    """Peak Python-allocated memory (MB, tracemalloc) during one call of ``fn``."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line(label: str, seconds: float, reference: float | None = None, *, ref_label: str = "") -> str:
    """ "label: 12.3 ms (reference 4.1 ms, ratio 3.0x)"."""
    text = f"{label}: {fmt_s(seconds)}"
    if reference is not None and reference > 0:
        ref = f" {ref_label}" if ref_label else ""
        text += f" (reference{ref} {fmt_s(reference)}, ratio {seconds / reference:.2f}x)"
    return text


def fmt_s(seconds: float) -> str:
    """Seconds in a readable unit."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


@dataclass
class Targets:
    """The targets of one benchmark script and whether each was met."""

    name: str
    missed: list[str] = field(default_factory=list)
    met: list[str] = field(default_factory=list)

    def check(
        self,
        label: str,
        value: float,
        *,
        at_most: float | None = None,
        at_least: float | None = None,
    ) -> bool:
        """Record ``value`` against a bound; print the verdict; True when met."""
        ok = (at_most is None or value <= at_most) and (at_least is None or value >= at_least)
        bound = f"<= {at_most:g}" if at_most is not None else f">= {at_least:g}"
        verdict = "OK" if ok else "MISSED"
        text = f"[{verdict}] {label}: {value:.4g} (target {bound})"
        print(text)
        (self.met if ok else self.missed).append(text)
        return ok

    def exit_code(self) -> int:
        """0 when every target was met, else 1 (with the missed ones on stderr)."""
        print(f"== {self.name}: {len(self.met)} target(s) met, {len(self.missed)} missed")
        for text in self.missed:
            print(text, file=sys.stderr)
        return 1 if self.missed else 0
