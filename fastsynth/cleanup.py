"""Leave nothing behind: temporary paths, jsii's folders in ``$TMPDIR``, and Node, even on Ctrl-C.

jsii writes to the temporary directory twice per process: the Python
runtime extracts its ``jsii-runtime.js`` into a ``tmp*`` folder, and the
Node kernel extracts and links packages in a ``jsii-kernel-*`` folder. Both
are removed only on a normal exit; Ctrl-C (which the terminal sends to
Python and to both Node processes at once) leaves them behind, along with
whatever half-written output the synthesis had started.

``install()``, called first by the project's command-line entry points,
gives the process a private temporary directory (``$TMPDIR`` and Python's
``tempfile`` point into it, so jsii's folders land there), removes it at
exit, and turns SIGINT, SIGTERM and SIGHUP into: stop jsii's Node, remove
every path registered with ``track()`` and the private directory, exit. A
private directory left by a process that was killed outright (SIGKILL) is
removed by the next run. ``uninterruptible()`` defers a signal past a step
that must not be cut in two (swapping the output). Library callers (the
tests) do not install it: nothing here changes signal handling unless asked.

``CDKTF_INTERRUPT_AT=<point>`` makes the process send itself Ctrl-C (to its
whole process group, as a terminal does) when it reaches ``checkpoint(point)``:
how the tests interrupt a synthesis at an exact step (``main.py`` has
``started``, ``built``, ``synthesized``; ``output.publish`` has ``locked``
and ``swapped``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

__all__ = ["PRIVATE_PREFIX", "checkpoint", "install", "installed", "jsii_node", "on_interrupt", "stop_jsii",
           "track", "tracked", "uninterruptible", "untrack"]

#: Private temporary directories are ``cdktf-<pid>-<random>`` in the user's temporary directory.
PRIVATE_PREFIX = "cdktf-"
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_paths: list[Path] = []
_hooks: list[Callable[[], None]] = []
_installed = False
_exit_code: Callable[[int], int] = lambda signum: 128 + signum  # noqa: E731 - the shell's convention
_message = ""
_depth = 0
_pending: int | None = None


def track(path: Path) -> Path:
    """Remove ``path`` if the process is interrupted before ``untrack(path)``."""
    if path not in _paths:
        _paths.append(path)
    return path


def untrack(path: Path) -> None:
    with contextlib.suppress(ValueError):
        _paths.remove(path)


@contextlib.contextmanager
def tracked(path: Path) -> Iterator[Path]:
    """``path`` (a directory) is removed when the block ends, however it ends."""
    track(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        untrack(path)


def on_interrupt(hook: Callable[[], None]) -> None:
    """Run ``hook`` first when interrupted (e.g. stop worker processes); it must not raise."""
    _hooks.append(hook)


@contextlib.contextmanager
def uninterruptible() -> Iterator[None]:
    """A signal that arrives inside the block takes effect when the block ends."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            signum, _pending = _pending, None
            _shutdown(signum)


def checkpoint(point: str) -> None:
    """Act as if Ctrl-C were pressed here when ``CDKTF_INTERRUPT_AT`` names ``point`` (for the tests).

    ``<point>:self`` signals this process alone, as ``kill -INT <pid>`` would: jsii's Node keeps running.
    """
    wanted = os.environ.get("CDKTF_INTERRUPT_AT", "")
    if wanted == point:
        os.killpg(os.getpgid(0), signal.SIGINT)
    elif wanted == f"{point}:self":
        os.kill(os.getpid(), signal.SIGINT)


def installed() -> bool:
    return _installed


def install(*, message: str = "", exit_code: Callable[[int], int] | None = None) -> Path:
    """Give this process a private temporary directory and clean exits on signals; returns the directory.

    Call before anything starts jsii (the first cdktf import). ``message`` is printed to stderr when
    interrupted; ``exit_code(signum)`` is the status then (default 128 + the signal number).
    """
    global _installed, _message, _exit_code
    _message = message
    if exit_code is not None:
        _exit_code = exit_code
    base = Path(tempfile.gettempdir())
    _remove_abandoned(base)
    private = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-", dir=base))
    os.environ["TMPDIR"] = str(private)  # Node's os.tmpdir() and any child process
    tempfile.tempdir = str(private)  # this process's tempfile, which read $TMPDIR once already
    track(private)
    atexit.register(_remove_private, private)  # runs after jsii's own atexit stop (registered later)
    for signum in _SIGNALS:
        signal.signal(signum, _on_signal)
    _installed = True
    return private


def _remove_private(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _remove_abandoned(base: Path) -> None:
    """Private directories of this user's processes that no longer run (killed with SIGKILL)."""
    for path in base.glob(f"{PRIVATE_PREFIX}*-*"):
        pid = path.name[len(PRIVATE_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if path.lstat().st_uid != os.getuid() or not path.is_dir():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:  # alive under another user, or gone meanwhile
            continue


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _depth:
        _pending = signum
        return
    _shutdown(signum)


def _shutdown(signum: int) -> None:
    for each in _SIGNALS:  # a second Ctrl-C must not cut the cleanup short
        signal.signal(each, signal.SIG_IGN)
    for hook in _hooks:
        with contextlib.suppress(Exception):
            hook()
    with contextlib.suppress(Exception):
        stop_jsii()
    for path in reversed(_paths):
        shutil.rmtree(path, ignore_errors=True)
    if _message:
        with contextlib.suppress(Exception):
            print(_message, file=sys.stderr, flush=True)
    os._exit(_exit_code(signum))  # not sys.exit: jsii's atexit handler would write to a dead Node


def jsii_node() -> subprocess.Popen | None:
    """jsii's Node process, if this process has started one (without starting it)."""
    kernel = getattr(sys.modules.get("jsii._runtime"), "kernel", None)  # None while jsii is being imported
    if kernel is None:
        return None
    started = type(kernel.provider).__dict__.get("_process")
    # jsii memoizes the started process in the property's closure (jsii._utils.memoized_property).
    for cell in getattr(getattr(started, "fget", None), "__closure__", None) or ():
        stored = cell.cell_contents
        if isinstance(stored, list) and stored:
            return getattr(stored[0], "_process", None)
    return None


def stop_jsii(timeout: float = 5.0) -> None:
    """Stop jsii's Node and wait for it, so that nothing writes into a directory about to be removed.

    SIGTERM reaches jsii's host process, which passes it to the kernel process and exits after it.
    """
    node = jsii_node()
    if node is None or node.poll() is not None:
        return
    node.terminate()
    try:
        node.wait(timeout)
    except subprocess.TimeoutExpired:
        node.kill()
        node.wait()
