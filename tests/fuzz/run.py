"""Run one coverage-guided fuzz target (atheris = libFuzzer for Python): `python tests/fuzz/run.py TARGET
--runs N --corpus DIR`. A target is a module `fuzz_<name>.py` beside this file with `one_input(data: bytes)`.

An input may only end in an edgepack error whose message is one line; any other exception, a crash of the C++
core, or an input running longer than --timeout seconds (a hang) stops the run with a reproducer file, and the
exit code is non-zero. The last line printed is a JSON summary (target, runs, seconds)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
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
    count = [0]

    def one(data: bytes) -> None:
        count[0] += 1
        mod.one_input(data)

    start = time.monotonic()
    artifacts = a.artifacts or a.corpus
    atheris.Setup([sys.argv[0], f"-runs={a.runs}", f"-timeout={a.timeout}", f"-max_len={a.max_len}",
                   f"-artifact_prefix={artifacts.rstrip('/')}/", "-print_final_stats=1", a.corpus], one)
    try:
        atheris.Fuzz()
    except SystemExit:
        pass
    print(json.dumps({"target": a.target, "runs": count[0], "seconds": round(time.monotonic() - start, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
