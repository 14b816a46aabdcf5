"""What the Session costs on top of the engine (P2) and what load() costs on top of loading the artifact (P5).

P2: median of full `Session.run(image)` (preprocess kernel + inference + postprocess kernel) over the median
of the engine's `run(feeds)` alone (the Engine adapter, ONNX names in and out) on the tensor made from the
same image; the two are timed alternately, call by call, so that drift affects both alike.
P5: `edgepack.load(bundle)` (manifest validation, choice, sha256 check, extraction) + the first
`Session.run(image)`, over loading the already-extracted artifact with its engine + its first `run(feeds)`,
in wall time and in CPU time (all threads; the sha256 thread's work counts even where it runs in parallel).
Each sample is a fresh process (a warm process would hide the load cost); the two kinds alternate. Module
imports happen before the clock starts on both sides (the engine's package; edgepack's session and kernels).
"""

from __future__ import annotations

import contextlib
import statistics
import time
from pathlib import Path

import numpy as np

from edgepack.errors import Error, InputError
from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact


def camera_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth synthetic RGB frame (gradients + noise): the pixel values do not change latency."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // max(1, width - 1), yy * 255 // max(1, height - 1), (xx + yy) % 256], axis=2)
    return np.clip(base + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8)


def session_overhead(bundle: str, engine: str, precision: str, threads: int, runs: int,
                     image_size: tuple[int, int] | None = None) -> dict:
    """Runs in a child process. Returns {"ratio", "session_ms", "engine_ms", "post"}."""
    from edgepack.runtime.session import Session

    s = Session(bundle, engine=engine, precision=precision, threads=threads)
    try:
        if s._pre is None:
            raise InputError("a raw bundle has no pre/post-processing: its Session overhead is not defined")
        spec = s._pre.spec
        img = camera_image(*(image_size or (spec.width, spec.height)))
        feeds = {spec.input: s._pre(img).tensor}
        eng = s._engine
        post = s._post is not None and s._post.kernels_present()  # else: time pre + inference only
        for _ in range(3):
            s.run(img, raw=not post)
            eng.run(feeds)
        ts, te = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            s.run(img, raw=not post)
            t1 = time.perf_counter()
            eng.run(feeds)
            t2 = time.perf_counter()
            ts.append(t1 - t0)
            te.append(t2 - t1)
    finally:
        s.close()
    sm, em = statistics.median(ts) * 1000, statistics.median(te) * 1000
    return {"ratio": sm / em, "session_ms": sm, "engine_ms": em, "post": post}


def _timed_session_load(bundle: str, engine: str, precision: str, threads: int,
                        image: np.ndarray) -> tuple[float, float]:
    from edgepack.runtime import engines, kernels  # noqa: F401 - imports are not load work, on either side
    from edgepack.runtime.pipeline import post, pre  # noqa: F401
    from edgepack.runtime.session import load

    with contextlib.suppress(Error):
        kernels.active_isa()  # imports the C++ core, as the engine's package is imported on the other side
    engines.get_engine(engine)
    _import_engine_package(engine)
    t0, c0 = time.perf_counter(), time.process_time()
    s = load(bundle, engine=engine, precision=precision, threads=threads)
    s.run(image, raw=s._post is None or not s._post.kernels_present())
    t, c = time.perf_counter() - t0, time.process_time() - c0
    s.close()
    return t * 1000, c * 1000


def _timed_engine_load(artifact: Artifact, threads: int, feeds: dict) -> tuple[float, float]:
    from edgepack.runtime import engines

    cls = engines.get_engine(artifact.engine)
    _import_engine_package(artifact.engine)
    t0, c0 = time.perf_counter(), time.process_time()
    eng = cls.load(artifact, threads=threads)
    eng.run(feeds)
    t, c = time.perf_counter() - t0, time.process_time() - c0
    eng.close()
    return t * 1000, c * 1000


def _import_engine_package(engine: str) -> None:
    import importlib

    from edgepack.runtime._quiet import quiet_stdout
    from edgepack.runtime.engines import provider

    with quiet_stdout():
        importlib.import_module(provider(engine) or engine)


def load_overhead(bundle: str | Path, artifact: Artifact, threads: int, repeats: int = 5,
                  image_size: tuple[int, int] | None = None) -> dict:
    """P5 from fresh processes: artifact is the same artifact already extracted (and checked) on disk."""
    from edgepack.runtime.bundle.reader import Bundle

    with Bundle(bundle) as b:
        pre = b.manifest.preprocess
    if pre is None:
        raise InputError("a raw bundle has no Session load path to compare; P5 needs an image task")
    img = camera_image(*(image_size or (pre.width, pre.height)))
    from edgepack.runtime.session import Session

    with Session(bundle, engine=artifact.engine, precision=artifact.precision, threads=threads) as s:
        feeds = {pre.input: s._pre(img).tensor}
    ts, te = [], []
    for _ in range(repeats):
        te.append(call_isolated(_timed_engine_load, artifact, threads, feeds, what="raw engine load"))
        ts.append(call_isolated(_timed_session_load, str(bundle), artifact.engine, artifact.precision, threads,
                                img, what="session load"))
    sm, em = statistics.median(t[0] for t in ts), statistics.median(t[0] for t in te)
    # CPU time (all threads of the process) beside wall time: on a shared, oversubscribed machine the wall
    # time of a fresh process is mostly waiting for a core, the CPU time is the work each side does
    sc, ec = statistics.median(t[1] for t in ts), statistics.median(t[1] for t in te)
    return {"ratio": sm / em, "session_ms": sm, "engine_ms": em,
            "cpu_ratio": sc / ec, "session_cpu_ms": sc, "engine_cpu_ms": ec}


def measure_session_overhead(bundle: str | Path, engine: str, precision: str, threads: int, runs: int = 50,
                             image_size: tuple[int, int] | None = None) -> dict:
    return call_isolated(session_overhead, str(bundle), engine, precision, threads, runs, image_size,
                         what=f"session overhead {engine} ({precision})")
