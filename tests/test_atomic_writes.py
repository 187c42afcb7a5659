"""No data lost: every file the tool writes goes through ``coverage._atomic``.

Faults injected: SIGKILL of a process in the middle of a large write (at a fixed point and at
random instants), an exception inside the write block, concurrent writers with a concurrent
reader. The target is always either the previous file or a complete new one, never a part.
A static check walks the package's source: every call that writes a file is inside
``atomic_path``/``atomic_open`` or named in ``ALLOWED`` with its reason.
"""

from __future__ import annotations

import ast
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from coverage._atomic import atomic_open, atomic_path, write_bytes, write_text

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "coverage"

#: A writer that announces itself once it has written ``$MB_BEFORE_READY`` MiB of a version,
#: then keeps writing slowly until killed. Versions are files of one repeated byte.
WRITER = r"""
import sys, time
from coverage._atomic import atomic_open, write_bytes
target, mode = sys.argv[1], sys.argv[2]
if mode == "slow":
    with atomic_open(target, "wb") as fh:
        for i in range(10_000):
            fh.write(b"N" * (1 << 20))
            fh.flush()
            if i == 8:
                print("writing", flush=True)
            time.sleep(0.005)
else:  # "loop": complete versions one after another, as fast as possible
    print("writing", flush=True)
    for k in range(10_000):
        write_bytes(target, bytes([65 + k % 26]) * (8 << 20))
"""


def _spawn(target: Path, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), mode],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    return proc


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _is_complete_version(data: bytes) -> bool:
    return len(data) == 8 << 20 and data == data[:1] * len(data)


def _leftovers(folder: Path, target: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p != target]


def test_sigkill_in_the_middle_of_a_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "carte.html"
    target.write_bytes(b"previous version")
    proc = _spawn(target, "slow")
    _kill(proc)
    assert target.read_bytes() == b"previous version"
    # What SIGKILL leaves is the hidden temporary file beside the target, never the target.
    stray = _leftovers(tmp_path, target)
    assert stray and all(p.name.startswith(".carte.html.") and p.suffix == ".tmp" for p in stray)
    assert stray[0].stat().st_size >= 9 << 20  # it was indeed killed mid-write
    # The next write succeeds and replaces the target whole.
    write_text(target, "next version")
    assert target.read_text() == "next version"


def test_sigkill_at_random_instants_never_leaves_a_partial_target(tmp_path: Path) -> None:
    target = tmp_path / "communes.csv"
    write_bytes(target, b"Z" * (8 << 20))
    rng = random.Random(6)
    for _ in range(8):
        proc = _spawn(target, "loop")
        time.sleep(rng.uniform(0.0, 0.4))
        _kill(proc)
        assert _is_complete_version(target.read_bytes())
    assert all(p.suffix == ".tmp" and p.name.startswith(".") for p in _leftovers(tmp_path, target))


def test_an_exception_inside_the_block_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "rapport.html"
    target.write_text("previous")
    with pytest.raises(RuntimeError, match="boom"), atomic_open(target) as fh:
        fh.write("half of a new report")
        raise RuntimeError("boom")
    assert target.read_text() == "previous"
    assert _leftovers(tmp_path, target) == []
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "new.bin") as tmp:
        tmp.write_bytes(b"x")
        raise KeyboardInterrupt
    assert not (tmp_path / "new.bin").exists() and _leftovers(tmp_path, target) == []


def test_files_get_the_usual_mode_and_folders_are_created(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "a" / "b" / "c.txt", "é")
    finally:
        os.umask(umask)
    assert path.read_text(encoding="utf-8") == "é"
    assert path.stat().st_mode & 0o777 == 0o644


def test_concurrent_writers_and_a_reader_see_only_whole_versions(tmp_path: Path) -> None:
    target = tmp_path / "shared.bin"
    write_bytes(target, b"A" * (8 << 20))
    stop = threading.Event()
    seen: list[bool] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(_is_complete_version(target.read_bytes()))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys\nfrom coverage._atomic import write_bytes\n"
                "for k in range(10):"
                " write_bytes(sys.argv[1], bytes([66 + int(sys.argv[2])]) * (8 << 20))",
                str(target),
                str(i),
            ],
            cwd=ROOT,
        )
        for i in range(3)
    ]
    try:
        assert all(w.wait(timeout=120) == 0 for w in writers)
    finally:
        stop.set()
        reader.join()
    assert seen and all(seen)
    assert _is_complete_version(target.read_bytes())
    assert _leftovers(tmp_path, target) == []


# --------------------------------------------------------------------------- static check

#: Methods and functions that write a file when given a path.
WRITE_CALLS = frozenset(
    {
        "write_text",
        "write_bytes",
        "to_parquet",
        "to_csv",
        "to_file",
        "to_feather",
        "to_excel",
        "to_json",
        "savefig",
        "save",
        "savez",
        "savez_compressed",
        "dump",
        "urlretrieve",
    }
)
SHUTIL_CALLS = frozenset({"copy", "copy2", "copyfile", "move", "copytree"})
PATH_KEYWORDS = frozenset({"path", "path_or_buf", "fname", "filename", "file", "excel_writer"})
ATOMIC = frozenset({"atomic_path", "atomic_open"})

#: (file under coverage/, or app.py; function) -> why a direct write there is safe.
ALLOWED: dict[tuple[str, str], str] = {
    ("data/region_cache.py", "build_cache"): "writes into a private mkdtemp folder renamed whole",
    ("web/uploads.py", "load_upload"): "scratch copy of an upload in the task's private folder",
    ("web/uploads.py", "import_upload"): "scratch copy of an upload in the task's private folder",
    ("web/uploads.py", "_read_candidates"): "scratch copy in the task's private folder",
    ("web/planner_files.py", "read_planner_file"): "scratch copy in the task's private folder",
    ("outputs/exports.py", "_to_gpkg"): "writes the work file of write_gpkg's atomic_path block",
    ("data/_lock.py", "file_lock"): "creates an empty lock file for flock, never writes to it",
}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _memory_buffers(function: ast.AST) -> set[str]:
    """Names bound in ``function`` to an in-memory buffer (``io.StringIO()``, ``BytesIO()``)."""
    return {
        t.id
        for n in ast.walk(function)
        if isinstance(n, ast.Assign)
        and isinstance(n.value, ast.Call)
        and _name(n.value.func) in {"StringIO", "BytesIO"}
        for t in n.targets
        if isinstance(t, ast.Name)
    }


def _writes(call: ast.Call, memory: frozenset[str] = frozenset()) -> bool:
    name = _name(call.func)
    if call.args and ast.unparse(call.args[0]) == "os.devnull":
        return False  # output thrown away, no file written
    if call.args and isinstance(call.args[0], ast.Name) and call.args[0].id in memory:
        return False  # written into an in-memory buffer
    if name == "open" and ast.unparse(call.func) == "os.open":
        flags = ast.unparse(call.args[1]) if len(call.args) > 1 else ""
        return any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"))
    if name == "open":
        mode = call.args[1] if len(call.args) > 1 else None
        mode = next((k.value for k in call.keywords if k.arg == "mode"), mode)
        if mode is None:
            return False  # default "r"
        return not (isinstance(mode, ast.Constant) and not set(str(mode.value)) & set("wax+"))
    if name in {"write_text", "write_bytes"} and (
        isinstance(call.func, ast.Name)
        or ast.unparse(call.func).startswith(("_atomic.", "atomic."))
    ):
        return False  # coverage._atomic's own functions
    if name in SHUTIL_CALLS and isinstance(call.func, ast.Attribute):
        return ast.unparse(call.func.value) == "shutil"
    if name in WRITE_CALLS and isinstance(call.func, ast.Attribute):
        # A destination is needed: df.to_csv() with none returns a string.
        targets = [*call.args, *(k.value for k in call.keywords if k.arg in PATH_KEYWORDS)]
        to_std = any(ast.unparse(a) in {"sys.stdout", "sys.stderr"} for a in call.args)
        return bool(targets) and not to_std
    return False


def _key(path: Path) -> str:
    """``path`` as ALLOWED names it: relative to ``coverage/``, or its bare name elsewhere."""
    return path.relative_to(PACKAGE).as_posix() if path.is_relative_to(PACKAGE) else path.name


def _unsafe_writes(path: Path, *, root: Path = ROOT) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST, function: str, atomic: bool, memory: frozenset[str]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
            memory = frozenset(_memory_buffers(node))
        if isinstance(node, ast.With | ast.AsyncWith) and any(
            isinstance(i.context_expr, ast.Call) and _name(i.context_expr.func) in ATOMIC
            for i in node.items
        ):
            atomic = True
        if isinstance(node, ast.Call) and _writes(node, memory) and not atomic:
            if (_key(path), function) not in ALLOWED:
                found.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(node)[:80]}")
        for child in ast.iter_child_nodes(node):
            visit(child, function, atomic, memory)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>", False, frozenset())
    return found


def test_every_file_write_goes_through_atomic() -> None:
    sources = [p for p in PACKAGE.rglob("*.py") if p.name != "_atomic.py"]
    if (ROOT / "app.py").is_file():
        sources.append(ROOT / "app.py")
    unsafe = [hit for p in sorted(sources) for hit in _unsafe_writes(p)]
    assert unsafe == [], (
        "Write these files with coverage._atomic (atomic_path/atomic_open/write_text/"
        "write_bytes), or add the function to ALLOWED with the reason it is safe:\n"
        + "\n".join(unsafe)
    )


def test_the_static_check_catches_a_plain_write(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def export(path, df, text):\n"
        "    with open(path, 'w') as fh:\n        fh.write(text)\n"
        "    df.to_csv(path)\n"
        "    path.write_text(text)\n"
        "    with atomic_path(path) as tmp:\n        df.to_csv(tmp)\n"
        "    with open(path) as fh:\n        return fh.read()\n"
        "    os.open(os.devnull, os.O_WRONLY)\n"
        "    os.open(path, os.O_WRONLY | os.O_CREAT)\n"
        "    _atomic.write_bytes(path, b'x')\n"
        "    buf = io.BytesIO()\n    df.to_csv(buf)\n"
    )
    unsafe = [line.split(" ", 1)[1] for line in _unsafe_writes(bad, root=tmp_path)]
    assert unsafe == [
        "open(path, 'w')",
        "df.to_csv(path)",
        "path.write_text(text)",
        "os.open(path, os.O_WRONLY | os.O_CREAT)",
    ]


def test_the_allowlist_is_not_stale() -> None:
    for (name, function), reason in ALLOWED.items():
        source = PACKAGE / name
        assert source.is_file(), f"{name} no longer exists: remove it from ALLOWED ({reason})"
        tree = ast.parse(source.read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert function in names, f"{name}:{function} is gone: update ALLOWED ({reason})"


def test_leftovers_of_killed_writers_are_swept_once_stale(tmp_path: Path) -> None:
    import os
    import time

    from coverage._atomic import STALE_AFTER_S, write_text

    target = tmp_path / "carte.html"
    old = tmp_path / ".carte.html.dead1234.tmp"  # left by a writer killed an hour ago
    young = tmp_path / ".carte.html.live5678.tmp"  # may belong to a writer still running
    other = tmp_path / ".autre.html.dead9999.tmp"  # another target's: not ours to judge
    for f in (old, young, other):
        f.write_text("partial", encoding="utf-8")
    past = time.time() - STALE_AFTER_S - 60
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    write_text(target, "nouveau")
    assert target.read_text(encoding="utf-8") == "nouveau"
    assert not old.exists()
    assert young.exists() and other.exists()


def _age(*paths: Path) -> None:
    from coverage._atomic import STALE_AFTER_S

    past = time.time() - STALE_AFTER_S - 60
    for p in paths:
        os.utime(p, (past, past), follow_symlinks=False)


@pytest.mark.parametrize("name", ["*", "*.html", "?.html", "[a-z]*", ".*"])
def test_glob_characters_in_a_target_name_sweep_nothing_else(tmp_path: Path, name: str) -> None:
    # Old hidden files and folders that are not leftovers of this target's writers.
    other_tmp = tmp_path / ".autre.html.dead9999.tmp"
    other_tmp.write_text("another target's leftover", encoding="utf-8")
    hidden_dir = tmp_path / ".donnees.abcdefgh.tmp"
    hidden_dir.mkdir()
    (hidden_dir / "precieux.csv").write_text("à garder", encoding="utf-8")
    config = tmp_path / ".config.x.tmp"
    config.write_text("réglages", encoding="utf-8")
    _age(other_tmp, hidden_dir, config)
    # A real leftover of this very target is swept.
    mine = tmp_path / f".{name}.k9x2_q7z.tmp"
    mine.write_text("partial", encoding="utf-8")
    _age(mine)
    write_text(tmp_path / name, "nouveau")
    assert (tmp_path / name).read_text(encoding="utf-8") == "nouveau"
    assert other_tmp.exists() and config.exists()
    assert (hidden_dir / "precieux.csv").read_text(encoding="utf-8") == "à garder"
    assert not mine.exists()


def test_leftovers_of_a_killed_geopackage_export_are_swept(tmp_path: Path) -> None:
    # What a kill during exports.write_gpkg leaves: the work file and SQLite's companions.
    stem = ".communes.gpkg.ab12cd34"
    left = [tmp_path / f"{stem}{end}" for end in (".tmp", ".tmp.gpkg", ".tmp.gpkg-journal")]
    left += [tmp_path / f"{stem}.tmp.gpkg-wal", tmp_path / f"{stem}.tmp.gpkg-shm"]
    keep = tmp_path / f"{stem}.tmp.gpkg.sauvegarde"  # not a name this tool writes
    for p in [*left, keep]:
        p.write_bytes(b"SQLite format 3\x00")
    _age(*left, keep)
    write_bytes(tmp_path / "communes.gpkg", b"x")
    assert [p.name for p in left if p.exists()] == []
    assert keep.exists()


def test_sweep_stale_never_follows_a_link_nor_removes_a_folder_unasked(tmp_path: Path) -> None:
    from coverage._atomic import sweep_stale

    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (outside / "a.txt").write_text("x", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    link = work / ".region-abcd1234"
    link.symlink_to(outside)
    folder = work / ".region-efgh5678"
    folder.mkdir()
    _age(link, folder)
    assert sweep_stale(work, ".region-") == 1  # the link itself, not what it points to
    assert not link.is_symlink() and (outside / "a.txt").exists() and folder.is_dir()
    assert sweep_stale(work, ".region-*") == 1  # the former glob form: folders too
    assert not folder.exists()


def test_refuse_inputs_catches_an_output_that_is_an_input(tmp_path: Path) -> None:
    from coverage._atomic import refuse_inputs
    from coverage._errors import ValidationError

    registry = tmp_path / "structures.csv"
    registry.write_text("id;name\n", encoding="utf-8")
    link = tmp_path / "lien.csv"
    link.symlink_to(registry)
    inputs = {"--registry": registry, "--aja-zones": None}
    refuse_inputs({"--csv": tmp_path / "communes.csv", "--report": None}, inputs)  # fine
    with pytest.raises(ValidationError, match=r"'.*structures\.csv' \(--csv\) est aussi le "):
        refuse_inputs({"--csv": registry}, inputs)
    with pytest.raises(ValidationError, match=r"lien\.csv' \(--report\).*--registry"):
        refuse_inputs({"--report": link}, inputs)  # a link to the registry
    relative = os.path.relpath(registry)
    with pytest.raises(ValidationError, match=r"--csv\) est aussi le fichier lu par --registry"):
        refuse_inputs({"--csv": relative}, inputs)
    with pytest.raises(ValidationError, match=r"\(--map\) est aussi la sortie de --report"):
        refuse_inputs({"--report": tmp_path / "a.html", "--map": tmp_path / "a.html"}, inputs)
    assert registry.read_text(encoding="utf-8") == "id;name\n"
