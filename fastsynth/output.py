"""The output directory (``cdktf.out``) is always whole: a synthesis is switched in in one step.

Readers of the output (people, ``cdktf diff``/``deploy``, the review, the
policy scan, an editor) must never see it half-written. A synthesis is
written to a directory beside the output (``.cdktf.out.<random>``), then,
under a lock, the two directories are exchanged in one system call
(``renameat2(RENAME_EXCHANGE)`` on Linux, ``renamex_np(RENAME_SWAP)`` on
macOS) and the previous output, now in the temporary directory, is removed.
A reader sees the old tree or the new one, never a mixture, never nothing.
Elsewhere two renames stand in (the output is absent for a moment, never
partial). The output stays a real directory at the same depth, so the state
stack's ``../../../terraform.<stack>.tfstate`` still points at the
repository root, and ``terraform -chdir=cdktf.out/stacks/<stack>`` works.

The lock is ``flock`` on the output's parent directory, so no lock file is
left behind; it serializes only the short publish step: two syntheses run
side by side and both succeed.

A synthesis of some environments (``--env production``) keeps the other
environments' stacks: they are carried over from the current output into
the new one, and ``manifest.json`` lists every stack present, as a
synthesis of all of them writes it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from fastsynth import cleanup

__all__ = [
    "MANIFEST",
    "cdktf_json",
    "environment_of",
    "exchange",
    "keep_other_environments",
    "locked",
    "merge_outputs",
    "new_output_dir",
    "publish",
]

MANIFEST = "manifest.json"
STACKS = "stacks"


def new_output_dir(outdir: Path) -> Path:
    """An empty directory beside ``outdir`` to synthesize into (on the same file system, as the switch
    needs), removed if the process is interrupted; ``cleanup.tracked(new_output_dir(outdir))`` removes it
    however the run ends."""
    import tempfile

    outdir.parent.mkdir(parents=True, exist_ok=True)
    with cleanup.uninterruptible():  # never created and left untracked
        path = cleanup.track(Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent)))
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output is not secret
    return path


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (``flock`` on the directory itself: no lock file)."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def publish(new: Path, outdir: Path, *, keep: Callable[[str], bool] | None = None) -> None:
    """Make ``new``, a finished synthesis beside ``outdir``, the output in one step; ``new`` is used up.

    ``keep(stack_name)`` chooses the stacks of the current output to carry over (the environments that
    were not synthesized); None keeps none.
    """
    with locked(outdir.parent):
        if keep is not None and (outdir / MANIFEST).is_file():
            _carry_over(outdir, new, keep)
        cleanup.checkpoint("locked")
        with cleanup.uninterruptible():
            previous = _swap(new, outdir)
    cleanup.checkpoint("swapped")
    if previous is not None:
        if previous.is_symlink():  # the output was a symbolic link: the link is what was replaced
            previous.unlink()
        shutil.rmtree(previous, ignore_errors=True)
        cleanup.untrack(previous)


def _swap(new: Path, outdir: Path) -> Path | None:
    """Put ``new`` at ``outdir``; return where the previous output is now (to remove), if there was one."""
    try:
        os.rename(new, outdir)  # no output yet (or an empty directory): nothing to exchange
        return None
    except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
            raise
    if exchange(new, outdir):
        return new
    aside = cleanup.track(new.with_name(new.name + "-previous"))
    os.rename(outdir, aside)
    os.rename(new, outdir)
    return aside


_libc: ctypes.CDLL | None = None


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False if this system or file system cannot."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    old, new = os.fsencode(a), os.fsencode(b)
    if sys.platform.startswith("linux") and hasattr(_libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        result = _libc.renameat2(at_fdcwd, old, at_fdcwd, new, rename_exchange)
    elif sys.platform == "darwin" and hasattr(_libc, "renamex_np"):
        rename_swap = 2
        result = _libc.renamex_np(old, new, rename_swap)
    else:
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # e.g. a file system without exchange support
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _carry_over(current: Path, new: Path, keep: Callable[[str], bool]) -> None:
    """Copy the kept stacks of ``current`` into ``new`` and list them in its manifest."""
    manifest = json.loads((new / MANIFEST).read_text())
    previous = json.loads((current / MANIFEST).read_text())
    for name, entry in previous.get("stacks", {}).items():
        if name in manifest["stacks"] or not keep(name):
            continue
        source = current / STACKS / name
        if source.is_dir():
            shutil.copytree(source, new / STACKS / name, symlinks=True, copy_function=_link_or_copy)
        manifest["stacks"][name] = entry
    (new / MANIFEST).write_text(cdktf_json(manifest))


def _link_or_copy(source: str, target: str) -> None:
    """Hard links: the output's files are replaced, never changed in place, so sharing them is safe."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def environment_of(stack: str, environments: Iterable[str]) -> str | None:
    """The environment a stack named ``<environment>-<layer>`` belongs to (the longest matching name)."""
    owners = [env for env in environments if stack.startswith(f"{env}-")]
    return max(owners, key=len) if owners else None


def keep_other_environments(synthesized: Iterable[str], environments: Iterable[str]) -> Callable[[str], bool]:
    """``publish``'s ``keep``: the stacks of every known environment that was not synthesized."""
    known, done = list(environments), set(synthesized)

    def keep(stack: str) -> bool:
        owner = environment_of(stack, known)
        return owner is not None and owner not in done

    return keep


def merge_outputs(parts: Sequence[Path], target: Path) -> None:
    """Merge per-environment syntheses into ``target``, as one synthesis of them all writes it."""
    manifest: dict = {"version": None, "stacks": {}}
    for part in parts:
        own = json.loads((part / MANIFEST).read_text())
        manifest["version"] = own["version"]
        manifest["stacks"].update(own["stacks"])
        shutil.copytree(part / STACKS, target / STACKS, dirs_exist_ok=True)
    (target / MANIFEST).write_text(cdktf_json(manifest))


def cdktf_json(value: object, indent: str = "") -> str:
    """JSON as cdktf writes manifest.json: keys sorted, two-space indent, empty lists broken over lines."""
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(key)}: {cdktf_json(item, inner)}" for key, item in sorted(value.items())]
        return "{\n" + ",\n".join(items) + ("\n" if items else "") + indent + "}"
    if isinstance(value, list):
        items = [inner + cdktf_json(item, inner) for item in value]
        return "[\n" + ",\n".join(items) + ("\n" if items else "") + indent + "]"
    return json.dumps(value)
