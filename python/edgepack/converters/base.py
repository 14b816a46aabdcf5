"""The converter contract and the helpers every converter shares (running a tool out of process)."""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from pathlib import Path

from edgepack.converters.prepare import PreparedModel
from edgepack.errors import ConversionError, EngineCrashError
from edgepack.runtime._isolate import signal_name, tail
from edgepack.runtime.artifact import Artifact

PRECISIONS = ("fp32", "fp16")


class Converter(ABC):
    """Turns a prepared ONNX model into one engine's files. Subclasses set `name` (converter), `engine`
    (the engine that runs the result) and implement `convert`."""

    name: str = ""
    engine: str = ""
    precisions: tuple[str, ...] = PRECISIONS

    @abstractmethod
    def convert(self, prepared: PreparedModel, out_dir: Path, precision: str) -> Artifact: ...

    @abstractmethod
    def version(self) -> str: ...


def run_tool(cmd: list[str], cwd: Path, what: str, timeout: float = 900) -> str:
    """Run a converter out of process so that a crash in it cannot take edgepack down. Returns its
    combined output; raises EngineCrashError on a signal, ConversionError on timeout."""
    try:
        proc = subprocess.run(cmd, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, text=True, errors="replace")
    except subprocess.TimeoutExpired as e:
        raise ConversionError(f"{what} did not finish within {timeout:.0f} s; the model may be too large "
                              "for this converter") from e
    if proc.returncode < 0:
        raise EngineCrashError(f"{what} crashed ({signal_name(-proc.returncode)}) on this model; "
                               f"last output: {tail(proc.stdout)}")
    if proc.returncode != 0:
        raise ConversionError(f"{what} failed (exit {proc.returncode}): {tail(proc.stdout)}")
    return proc.stdout
