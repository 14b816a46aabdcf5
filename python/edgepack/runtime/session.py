"""`edgepack.load(bundle) -> Session`: the on-device runtime. One call picks the artifact (bundle/choose.py),
checks its sha256, loads it in its engine, and `Session.run(image)` does pre-processing, inference and
post-processing (pre/post in the C++ kernels) and returns a typed result.

Thread safety: `Session.run` may be called from any number of threads at once. Pre- and post-processing
run concurrently (the kernels are stateless and release the GIL); inference on the one loaded engine is
serialised by a per-session lock, because ncnn extractors, MNN modules and LiteRT interpreters are not
safe to run concurrently on one instance, and each engine already spreads one inference over `threads`
cores. For parallel inference, open one Session per worker thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.bundle.choose import Choice, choose
from edgepack.runtime.bundle.manifest import Manifest
from edgepack.runtime.bundle.reader import Bundle
from edgepack.runtime.engines import get_engine
from edgepack.runtime.pipeline.post import Postprocessor
from edgepack.runtime.pipeline.pre import Preprocessor
from edgepack.runtime.pipeline.results import Classification, Detections, Mask

Result = Classification | Detections | Mask | dict[str, np.ndarray]


class Session:
    """A loaded bundle. `task`, `labels`, `engine`, `precision`, `choice` (why this artifact) describe it;
    `run(x)` returns Classification, Detections, Mask, or {output name: array} for task 'raw'."""

    def __init__(self, path: str | Path, engine: str = "auto", precision: str = "auto", threads: int | None = None,
                 device: dict | None = None) -> None:
        bundle = Bundle(path)
        try:
            self.manifest: Manifest = bundle.manifest
            self.choice: Choice = choose(bundle.manifest, engine, precision, threads, device)
            engine_cls = get_engine(self.choice.engine)
            artifact, check = bundle.artifact_deferred(self.choice.engine, self.choice.precision,
                                                       engine_cls.memory_roles())
            self._engine = None
            try:  # the sha256 check runs while the engine parses the files; a mismatch refuses the load
                self._engine = engine_cls.load(artifact, threads=self.choice.threads, device=self.choice.device_kind)
            finally:
                artifact.memory.clear()  # engines copy what they keep; the bundle's map closes below
                check.wait()
        except BaseException:
            if getattr(self, "_engine", None) is not None:
                self._engine.close()
            bundle.close()
            raise
        # extracted files live as long as the session: LiteRT maps its model file, and deleting them is not
        # load-path work (close() or garbage collection removes them)
        bundle.close_archive()
        self._bundle = bundle
        self.path = Path(path)
        self.task = self.manifest.task
        self.labels = self.manifest.labels
        self._lock = threading.Lock()
        self._tensors = (list(self._engine.inputs), list(self._engine.outputs))  # still readable after close()
        self._pre = self._post = None
        ins = {t.name: t for t in self._engine.inputs}
        outs = {t.name: t for t in self._engine.outputs}
        pre, post = self.manifest.preprocess, self.manifest.postprocess
        if pre is not None:
            self._pre = Preprocessor(pre, ins[pre.input].shape, ins[pre.input].dtype)
        if post.kind != "none":
            self._post = Postprocessor(post, self.labels, outs[post.output].shape)

    @property
    def engine(self) -> str:
        return self.choice.engine

    @property
    def precision(self) -> str:
        return self.choice.precision

    @property
    def inputs(self):
        return self._tensors[0]

    @property
    def outputs(self):
        return self._tensors[1]

    def run(self, x: Any, color: str = "RGB", raw: bool = False) -> Result:
        """x: uint8 (H, W, 3) array whose channel order is `color` ('RGB' or 'BGR' as OpenCV gives), (H, W)
        gray, an image path, a PIL image, or an edgepack.Frame (NV21/NV12). Task 'raw' takes
        {input name: array} (or one array for a one-input model) and returns the outputs. raw=True returns the
        output arrays of a preprocessed image without post-processing."""
        if self._pre is None:
            return self.infer(self._raw_feeds(x))
        p = self._pre(x, color)
        outputs = self.infer({self._pre.spec.input: p.tensor})
        if self._post is None or raw:
            return outputs
        return self._post(outputs, p.info, p.source_size)

    def infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Inference alone on ready tensors ({ONNX input name: array} -> {ONNX output name: array})."""
        with self._lock:  # checked under the lock: close() from another thread cannot slip in between
            if self._engine is None:
                raise InputError("this Session is closed; load the bundle again with edgepack.load")
            return self._engine.run(feeds)

    def _raw_feeds(self, x: Any) -> dict[str, np.ndarray]:
        if isinstance(x, dict):
            return x
        if len(self.inputs) != 1:
            raise InputError(f"this model has {len(self.inputs)} inputs; pass a dict {{name: array}} with "
                             f"{[t.name for t in self.inputs]}")
        return {self.inputs[0].name: np.asarray(x)}

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
                self._bundle.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Session({self.manifest.name!r}, task={self.task}, engine={self.choice.engine}, "
                f"precision={self.choice.precision}, threads={self.choice.threads})")


def load(path: str | Path, engine: str = "auto", precision: str = "auto", threads: int | None = None) -> Session:
    """Open a bundle (.edgepack zip or directory): validate the manifest, choose the artifact (engine='auto':
    fastest measured on this device class, else the default order; `Session.choice.explain()` says why),
    check its sha256 and load it. threads=None uses min(4, cores). A plain name that is not a path loads the
    model installed from its wheel (edgepack wheel; runtime/installed.py)."""
    from edgepack.runtime.installed import resolve

    return Session(resolve(path), engine=engine, precision=precision, threads=threads)
