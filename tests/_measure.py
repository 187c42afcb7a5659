"""A ``parcours`` process's exit code, error text, CPU time and peak memory, measured alone.

A process forked from the test runner starts with the runner's memory: Linux records the
high-water mark of the memory it leaves at ``exec`` in the child's ``ru_maxrss`` (for a
``vfork`` too), so a pytest worker that has loaded the region (~400 MB) would be counted in
every child it starts. Here a small launcher (a fresh ``python -I``, ~10 MB) starts
``parcours``, caps it (CPU seconds, address space) and reports its ``os.wait4`` usage: the
figure is ``parcours``'s own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARCOURS = ROOT / ".venv" / "bin" / "parcours"

_LAUNCHER = r"""
import json, os, resource, subprocess, sys
cpu, space, err_path, *argv = sys.argv[1:]
def caps():
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 1))
    resource.setrlimit(resource.RLIMIT_AS, (int(space), int(space)))
with open(err_path, "wb") as err:
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=caps)
    _, status, usage = os.wait4(child.pid, 0)
print(json.dumps({
    "code": os.waitstatus_to_exitcode(status),
    "cpu": usage.ru_utime + usage.ru_stime,
    "rss_mb": usage.ru_maxrss / 1024,
}))
"""


def run_parcours(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    cpu_cap_s: int = 30,
    space_cap_bytes: int = 4 * 2**30,
) -> tuple[int, str, float, float]:
    """(exit code, stderr, CPU seconds, peak RSS in MB) of ``parcours args``, capped so that a
    reader that expands a bomb fails the test instead of the machine."""
    with tempfile.NamedTemporaryFile(suffix=".err") as err:
        out = subprocess.run(
            [
                sys.executable,
                "-I",
                "-c",
                _LAUNCHER,
                str(cpu_cap_s),
                str(space_cap_bytes),
                err.name,
                str(PARCOURS),
                *args,
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        text = Path(err.name).read_bytes().decode("utf-8", "replace")
    facts = json.loads(out.stdout)
    return facts["code"], text, facts["cpu"], facts["rss_mb"]
