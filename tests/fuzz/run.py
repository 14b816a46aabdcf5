"""Run one coverage-guided fuzz target (atheris = libFuzzer for Python): `python tests/fuzz/run.py TARGET
--runs N --corpus DIR`. A target is a module `fuzz_<name>.py` beside this file with `one_input(data: bytes)`.

An input may only end in an edgepack error whose message is one line; any other exception, a crash of the C++
core, or an input running longer than --timeout seconds (a hang) stops the run with a reproducer file, and the
exit code is non-zero. libFuzzer ends the process itself; its last line on stderr is "Done N runs in S second(s)"."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--timeout", type=int, default=20)
    ap.add_argument("--max-len", type=int, default=65536)
    ap.add_argument("--artifacts", default=None, help="where crash reproducers go [default: the corpus dir]")
    a = ap.parse_args()
    import atheris

    sys.path.insert(0, str(HERE))
    mod = importlib.import_module(f"fuzz_{a.target}")
    atheris.instrument_all()  # coverage of every loaded Python function (edgepack's editable loader defeats
    # instrument_imports); the C++ core is not instrumented, its crashes still stop the run
    artifacts = a.artifacts or a.corpus
    atheris.Setup([sys.argv[0], f"-runs={a.runs}", f"-timeout={a.timeout}", f"-max_len={a.max_len}",
                   f"-artifact_prefix={artifacts.rstrip('/')}/", "-print_final_stats=1", a.corpus], mod.one_input)
    atheris.Fuzz()  # does not return: libFuzzer exits with 0, or non-zero on a crash / timeout
    return 1


if __name__ == "__main__":
    sys.exit(main())
