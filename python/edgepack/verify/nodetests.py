"""ONNX backend node tests through every engine, with edgepack's own prepare / converters / engines, so the
coverage measured is what users get. Each case runs in a long-lived worker process; a worker that crashes
(segfault in an engine) or hangs costs only the engine it was on: the pool records that, starts a fresh
worker and carries on with the case's remaining engines. `tools/coverage.py` writes the report from this.

A case is a directory `<name>/model.onnx` + `test_data_set_0/{input,output}_*.pb` (the onnx wheel layout).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import shutil
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

import numpy as np

RTOL, ATOL = 1e-3, 1e-4
REFERENCE = "onnxruntime"
PASS, FAIL, NA = "pass", "fail", "n/a"

Result = dict  # {"status": PASS|FAIL|NA, "reason": short text, "detail": longer text (optional)}


@dataclass
class NodeCase:
    """One node test: the op it tests, whether every input/output is float32, whether it is one node."""

    name: str
    path: Path
    op: str
    float32: bool
    single_node: bool
    non_tensor: str = ""  # "input" / "output" when a graph input/output is a sequence, optional or map

    @property
    def expanded(self) -> bool:
        return not self.single_node


def engine_names() -> list[str]:
    """The reference runtime, then every registered conversion target."""
    from edgepack.converters import targets

    return [REFERENCE, *targets()]


def find_cases(data_dir: str | Path, ops: Iterable[str] | None = None, limit: int | None = None,
               names: Iterable[str] | None = None) -> list[NodeCase]:
    """The node-test cases under `data_dir`, optionally only those testing `ops` (case-insensitive op
    types) or named `names`, at most `limit` of them."""
    root = Path(data_dir)
    dirs = sorted(p for p in root.iterdir() if (p / "model.onnx").is_file())
    if names is not None:
        wanted = set(names)
        dirs = [d for d in dirs if d.name in wanted]
    cases = describe_cases(dirs)
    if ops:
        keep = {o.strip().lower() for o in ops if o.strip()}
        cases = [c for c in cases if c.op.lower() in keep]
    return cases[:limit] if limit else cases


def describe_cases(dirs: list[Path]) -> list[NodeCase]:
    """Read each model once: op under test, dtypes, node count. Multi-node cases (function expansions,
    `*_expanded`) take the op of their single-node counterpart."""
    import onnx

    cases, single_ops = [], {}
    for d in dirs:
        g = onnx.load(str(d / "model.onnx"), load_external_data=False).graph
        inits = {i.name for i in g.initializer}
        ins = [i for i in g.input if i.name not in inits]
        non_tensor = ("input" if any(not i.type.HasField("tensor_type") for i in ins) else
                      "output" if any(not o.type.HasField("tensor_type") for o in g.output) else "")
        f32 = not non_tensor and all(v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
                                     for v in [*ins, *g.output])
        op = ""
        if len(g.node) == 1:
            n = g.node[0]
            op = f"{n.domain}.{n.op_type}" if n.domain not in ("", "ai.onnx") else n.op_type
            single_ops[d.name] = op
        cases.append(NodeCase(d.name, d, op, f32, len(g.node) == 1, non_tensor))
    for c in cases:
        if not c.op:
            base = re.sub(r"_expanded(_ver\d+)?$", "", c.name)
            c.op = single_ops.get(base) or _op_from_name(c.name, single_ops)
    return cases


def _op_from_name(name: str, single_ops: dict[str, str]) -> str:
    """The op of the single-node case sharing the longest name prefix (for a multi-node case whose
    counterpart is not in the selection)."""
    best, op = 0, "(multi-node)"
    for other, o in single_ops.items():
        k = len(os.path.commonprefix([name, other]))
        if k > best:
            best, op = k, o
    return op


# ---------------------------------------------------------------- one case, inside a worker


def read_case_data(case_dir: Path) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """(name, array) of every input_*.pb and output_*.pb of test_data_set_0, in index order."""
    import onnx
    from onnx import numpy_helper

    def read(prefix: str) -> list[tuple[str, np.ndarray]]:
        files = sorted((case_dir / "test_data_set_0").glob(f"{prefix}_*.pb"),
                       key=lambda p: int(p.stem.split("_")[-1]))
        out = []
        for f in files:
            t = onnx.TensorProto()
            t.ParseFromString(f.read_bytes())
            out.append((t.name, numpy_helper.to_array(t)))
        return out

    return read("input"), read("output")


def _by_name(items: list[tuple[str, np.ndarray]], names: list[str]) -> dict[str, np.ndarray]:
    """Match test data to graph tensors by name, falling back to position for unnamed data."""
    named = {n: a for n, a in items if n}
    return {name: named[name] if name in named else items[i][1] for i, name in enumerate(names)
            if name in named or i < len(items)}


def compare_outputs(expected: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> tuple[str, str]:
    """(status, reason): every expected output within rtol/atol, same element count (reshaped to the
    expected shape: ncnn drops a leading batch of 1), NaN where NaN is expected."""
    worst = 0.0
    for name, e in expected.items():
        if name not in got:
            return FAIL, f"output '{name}' missing"
        g = np.asarray(got[name])
        if g.size != e.size:
            return FAIL, f"shape {list(g.shape)} != {list(e.shape)}"
        g = g.reshape(e.shape)
        if e.dtype.kind in "OSUb" or g.dtype.kind in "OSUb":
            if not np.array_equal(g.astype(e.dtype), e):
                return FAIL, "mismatch (exact values)"
            continue
        ef, gf = e.astype(np.float64), g.astype(np.float64)
        if not np.array_equal(np.isnan(ef), np.isnan(gf)):
            return FAIL, "mismatch (NaN)"
        fin = np.isfinite(ef)
        if not np.array_equal(ef[~fin & ~np.isnan(ef)], gf[~fin & ~np.isnan(ef)]):
            return FAIL, "mismatch (inf)"
        diff = np.abs(gf[fin] - ef[fin])
        if diff.size and np.any(diff > ATOL + RTOL * np.abs(ef[fin])):
            worst = max(worst, float(np.nanmax(diff)))
    if worst > 0:
        return FAIL, f"mismatch max abs {worst:.2g}"
    return PASS, ""


def run_case(case_dir: Path, engines: list[str], work: Path, emit: Callable[[tuple], None]) -> None:
    """Run one case through `engines`, emitting ("stage", engine|None, stage) before each step and
    ("result", engine, Result) after each engine. Any failure is recorded; nothing escapes."""
    emit(("stage", None, "prepare"))
    try:
        import onnx

        from edgepack.converters.prepare import prepare

        g = onnx.load(str(case_dir / "model.onnx"), load_external_data=False).graph
        inits = {i.name for i in g.initializer}
        graph_ins = [i for i in g.input if i.name not in inits]
        if any(not v.type.HasField("tensor_type") for v in [*graph_ins, *g.output]):
            which = "input" if any(not i.type.HasField("tensor_type") for i in graph_ins) else "output"
            for eng in engines:
                emit(("result", eng, {"status": NA, "reason": f"n/a: non-tensor {which}"}))
            return
        ins, outs = read_case_data(case_dir)
        feeds_all = _by_name(ins, [i.name for i in graph_ins])
        shapes = {k: list(v.shape) for k, v in feeds_all.items()}
        prepared = prepare(case_dir / "model.onnx", work / "prepared", input_shapes=shapes, simplify=True)
        feeds = {t.name: feeds_all[t.name] for t in prepared.inputs}
        expected = _by_name(outs, [o.name for o in g.output])
    except Exception as e:  # the case cannot even be prepared: every engine fails the same way
        r = {"status": FAIL, "reason": short_reason(e, "prepare"), "detail": _detail(e)}
        for eng in engines:
            emit(("result", eng, r))
        return
    for eng in engines:
        emit(("result", eng, run_engine(eng, prepared, feeds, expected, work / eng, emit)))


def run_engine(engine: str, prepared, feeds: dict[str, np.ndarray], expected: dict[str, np.ndarray],
               out_dir: Path, emit: Callable[[tuple], None]) -> Result:
    from edgepack.runtime.engines import get_engine

    stage = "convert"
    try:
        emit(("stage", engine, stage))
        artifact = build_artifact(engine, prepared, out_dir)
        stage = "load"
        emit(("stage", engine, stage))
        eng = get_engine(artifact.engine).load(artifact, threads=1)
        try:
            stage = "run"
            emit(("stage", engine, stage))
            got = eng.run(feeds)
        finally:
            eng.close()
    except Exception as e:  # recorded as this engine's result for the case
        return {"status": FAIL, "reason": short_reason(e, stage), "detail": _detail(e)}
    status, reason = compare_outputs(expected, got)
    return {"status": status, "reason": reason} if reason else {"status": status}


def build_artifact(engine: str, prepared, out_dir: Path):
    """The artifact a user gets for `engine`: the prepared ONNX model itself for the reference runtime,
    else the registered converter's output (fp32)."""
    from edgepack.converters import get_converter
    from edgepack.runtime.artifact import Artifact

    if engine == REFERENCE:
        return Artifact(REFERENCE, "fp32", {"model": prepared.path.name}, str(prepared.path.parent),
                        prepared.inputs, prepared.outputs)
    return get_converter(engine).convert(prepared, out_dir, "fp32")


_CONVERT_REASONS = [
    (r"cannot read ONNX opset (\d+)", lambda m: f"pnnx: opset {m.group(1)} > 25"),
    (r"0-d input", lambda m: "pnnx: 0-d input"),
    (r"at most 4 dims", lambda m: "ncnn: input > 4-d"),
    (r"wrote no \.param", lambda m: "pnnx: no .param written"),
    (r"produced \d+ inputs/\d+ outputs", lambda m: "pnnx: input/output folded away"),
    (r"unsupported tensor elem data type", lambda m: "pnnx: unsupported tensor dtype"),
    (r"input_shapes\[\d+\] expect \S+ but got", lambda m: "pnnx: input dtype rejected"),
    (r"wrote no model", lambda m: "mnn: no model written"),
    (r"did not finish within", lambda m: "convert: timeout"),
    (r"failed \(exit (-?\d+)\)", lambda m: f"convert: converter exit {m.group(1)}"),
]


def short_reason(e: BaseException, stage: str) -> str:
    """A short, groupable reason for a failure at `stage` (prepare / convert / load / run)."""
    from edgepack.errors import ConversionError, EngineCrashError, ModelError, UnsupportedOpError

    msg = str(e)
    if isinstance(e, EngineCrashError):
        m = re.search(r"\((SIG\w+|signal \d+|exit code -?\d+)\)", msg)
        where = "converter" if stage == "convert" else stage
        return f"crash ({m.group(1) if m else 'unknown'}) in {where}"
    if isinstance(e, UnsupportedOpError):
        if e.op_type == "Input":
            return f"{e.engine}: non-float input"
        return f"convert: unsupported op {e.op_type}"
    if isinstance(e, ConversionError):
        for pat, fmt in _CONVERT_REASONS:
            m = re.search(pat, msg)
            if m:
                return fmt(m)
        return "convert: " + _first(msg, 50)
    if stage == "prepare":
        if isinstance(e, ModelError) and "checker" in msg:
            return "prepare: ONNX checker failed"
        return f"prepare: {type(e).__name__}"
    if stage == "load":
        return "load failed"
    if stage == "run":
        if "elements, expected shape" in msg or "cannot reshape" in msg:
            return "run: wrong output size"
        if "must have batch 1" in msg:
            return "ncnn: leading dim != 1 (taken as batch)"
        if isinstance(e, KeyError) or re.search(r"returned 0 outputs", msg):
            return "run: output not produced"
        if re.search(r"Numpy_type \d+ can't be converted|No corresponding Numpy type", msg):
            return "run: dtype not accepted by the Python API"
        if "<built-in function const>" in msg:
            return "run: input dtype rejected (F.const)"
        if "failed to compute output" in msg:
            return "run: extract failed"
        return f"run failed ({type(e).__name__})"
    return f"{stage}: {type(e).__name__}"


def _first(msg: str, n: int) -> str:
    line = (msg.strip().splitlines() or [""])[0]
    return line[:n]


def _detail(e: BaseException) -> str:
    return f"{type(e).__name__}: {_first(str(e), 240)}"


# ---------------------------------------------------------------- the crash-tolerant worker pool


def _worker_main(conn, log_path: str, mem_limit: int) -> None:
    """Worker loop: one case at a time. Its own process group, so a timeout kills converters with it;
    an address-space cap, so an engine that tries to allocate wildly fails instead of starving the host."""
    os.setpgrp()
    if mem_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    while True:
        task = conn.recv()
        if task is None:
            return
        name, case_dir, engines, work = task
        try:
            run_case(Path(case_dir), engines, Path(work), conn.send)
        except Exception:  # run_case records failures itself; this is a harness bug, keep it visible
            conn.send(("stage", None, "harness"))
            traceback.print_exc()
            return
        finally:
            shutil.rmtree(work, ignore_errors=True)
        conn.send(("done", name))


@dataclass
class _Task:
    case: NodeCase
    engines: list[str]
    engine: str | None = None
    stage: str = "queued"
    since: float = field(default_factory=time.monotonic)


class _Worker:
    def __init__(self, ctx, log_path: Path, mem_limit: int) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, str(log_path), mem_limit), daemon=True)
        self.proc.start()
        child.close()
        self.task: _Task | None = None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.kill()


OnResult = Callable[[NodeCase, str, Result], None]


def run_cases(cases: list[NodeCase], engines: list[str], work_dir: str | Path, jobs: int = 2,
              timeout: float = 120.0, on_result: OnResult | None = None,
              on_case_done: Callable[[NodeCase], None] | None = None,
              mem_limit: int = 8 << 30) -> dict[str, dict[str, Result]]:
    """Run every case through every engine on `jobs` worker processes. Returns {case: {engine: Result}}.
    A worker that dies marks its in-flight engine crashed; one stuck longer than `timeout` seconds in a
    step is killed and its engine marked timed out; the case's other engines go on in a fresh worker.
    Workers (and the converters they start) get at most `mem_limit` bytes of address space (0: no cap)."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Result]] = {c.name: {} for c in cases}
    queue = deque(_Task(c, list(engines)) for c in cases)
    ctx = mp.get_context("spawn")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the spawned workers
    workers = [_Worker(ctx, work / f"worker-{i}.log", mem_limit) for i in range(max(1, jobs))]

    def record(task: _Task, engine: str, res: Result) -> None:
        if engine in task.engines:
            task.engines.remove(engine)
        results[task.case.name][engine] = res
        if on_result:
            on_result(task.case, engine, res)

    def lost(i: int, reason: str) -> None:
        """Worker i died or hung: blame its current step, requeue the rest of its case."""
        w = workers[i]
        task = w.task
        w.kill()
        workers[i] = _Worker(ctx, work / f"worker-{i}.log", mem_limit)
        if task is None:
            return
        blamed = task.engines[:] if task.engine is None else [task.engine]
        for eng in blamed:
            record(task, eng, {"status": FAIL, "reason": f"{reason} in {task.stage}"})
        if task.engines:
            queue.appendleft(_Task(task.case, task.engines))
        elif on_case_done:
            on_case_done(task.case)

    try:
        while queue or any(w.task for w in workers):
            for i, w in enumerate(workers):
                if w.task is None and queue:
                    t = queue.popleft()
                    t.since = time.monotonic()
                    w.task = t
                    w.conn.send((t.case.name, str(t.case.path), t.engines[:], str(work / f"w{i}-{t.case.name}")))
            busy = [w for w in workers if w.task]
            wait([x for w in busy for x in (w.conn, w.proc.sentinel)], timeout=1.0)
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                try:
                    while w.conn.poll():
                        _handle(w, w.conn.recv(), record, on_case_done)
                        if w.task is None:
                            break
                except (EOFError, OSError):
                    pass
                if w.task is None:
                    continue
                if not w.proc.is_alive():
                    code = w.proc.exitcode or 0
                    how = signal_name(-code) if code < 0 else f"exit {code}"
                    lost(i, f"crash ({how})")
                elif time.monotonic() - w.task.since > timeout:
                    lost(i, f"timeout (>{timeout:.0f} s)")
    finally:
        for w in workers:
            w.stop()
    return results


def _handle(w: _Worker, msg: tuple, record: Callable, on_case_done: Callable | None) -> None:
    kind = msg[0]
    task = w.task
    if kind == "stage":
        task.engine, task.stage, task.since = msg[1], msg[2], time.monotonic()
    elif kind == "result":
        record(task, msg[1], msg[2])
        task.engine = None
    elif kind == "done":
        w.task = None
        if on_case_done:
            on_case_done(task.case)


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def regressions(baseline: dict[str, dict[str, Result]], current: dict[str, dict[str, Result]]) -> list[str]:
    """'case engine: reason' for every (case, engine) that passes in `baseline` but not in `current`.
    Newly passing cases are not regressions."""
    out = []
    for case, per in sorted(current.items()):
        for eng, res in sorted(per.items()):
            base = baseline.get(case, {}).get(eng)
            if base and base.get("status") == PASS and res.get("status") != PASS:
                out.append(f"{case} [{eng}]: {res.get('reason') or res.get('status')}")
    return out
