"""Run a function in a fresh child process, so that an engine crash (segfault, abort) on a new artifact
becomes an EngineCrashError instead of killing edgepack. Uses the 'spawn' start method: forking a process
that already runs engine thread pools can deadlock."""

from __future__ import annotations

import multiprocessing as mp
import traceback
from typing import Any, Callable

from .errors import EngineCrashError, Error


def _child(conn, fn: Callable, args: tuple, kwargs: dict) -> None:
    try:
        conn.send(("ok", fn(*args, **kwargs)))
    except Error as e:
        conn.send(("error", e))
    except BaseException as e:  # report any failure to the parent with its traceback
        conn.send(("exception", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def call_isolated(fn: Callable, *args: Any, what: str = "engine", timeout: float = 1800, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) in a child process; its return value must be picklable."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs), daemon=True)
    proc.start()
    child.close()
    result = None
    try:
        if parent.poll(timeout):
            result = parent.recv()
    except EOFError:
        result = None
    proc.join(10)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if result is None:
        code = proc.exitcode
        if code is None:
            raise EngineCrashError(f"{what} did not finish within {timeout:.0f} s")
        from .converters.base import signal_name

        how = signal_name(-code) if code < 0 else f"exit code {code}"
        raise EngineCrashError(f"{what} crashed ({how}) on this model; the artifact cannot be used with it")
    status, value = result
    if status == "ok":
        return value
    if status == "error":
        raise value
    raise RuntimeError(f"{what} failed in its worker process: {value}")
