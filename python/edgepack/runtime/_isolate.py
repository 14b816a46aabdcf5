"""Run a function in a fresh Python process, so that an engine crash (segfault, abort) on a new artifact
becomes an EngineCrashError instead of killing edgepack. The child is `python -m edgepack.runtime._worker`, not a
multiprocessing child, so callers need no `if __name__ == "__main__"` guard. Arguments and results travel
as pickles through temporary files (engines print to stdout, so stdout cannot carry them)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgepack.errors import EngineCrashError, EngineRunError
from edgepack.runtime._fsutil import private_tempdir


def call_isolated(fn: Callable, *args: Any, what: str = "engine", timeout: float = 1800, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) in a child process. fn must be a module-level function; arguments and return
    value must be picklable. edgepack errors raised in the child are re-raised here."""
    with private_tempdir("worker") as tmp:
        req, res = Path(tmp) / "request.pkl", Path(tmp) / "result.pkl"
        req.write_bytes(pickle.dumps((fn.__module__, fn.__qualname__, args, kwargs)))
        env = dict(os.environ)
        pkg_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            proc = subprocess.run([sys.executable, "-m", "edgepack.runtime._worker", str(req), str(res)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, text=True,
                                  errors="replace")
        except subprocess.TimeoutExpired as e:
            raise EngineCrashError(f"{what} did not finish within {timeout:.0f} s on this model") from e
        if res.exists():
            status, value = pickle.loads(res.read_bytes())
            if status == "ok":
                return value
            if status == "error":
                raise value
            first = value.splitlines()[0] if value else "unknown failure"
            raise EngineRunError(f"{what} failed to run this model ({first}); set EDGEPACK_DEBUG=1 for the "
                                 "traceback, and report it if the model runs in ONNX Runtime", details=value)
        code = proc.returncode
        how = signal_name(-code) if code < 0 else f"exit code {code}"
        raise EngineCrashError(f"{what} crashed ({how}) on this model; the artifact cannot be used with it "
                               f"(last output: {tail(proc.stderr)})")


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def tail(text: str, lines: int = 3) -> str:
    keep = [ln.strip() for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return " | ".join(keep)[:600] or "(no output)"
