"""On-device verification (`edgepack verify BUNDLE`): run the bundle's reference samples through every artifact
whose engine is installed here and compare with the ONNX Runtime fp32 outputs stored at pack time, with the
tolerances of runtime/metrics.py (the same test pack applied on the workstation). Needs numpy and the
engines only: no ONNX Runtime on the device."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgepack import __version__
from edgepack.errors import BundleError, EngineUnavailableError, Error
from edgepack.runtime.bundle.reader import Bundle
from edgepack.runtime.bundle.references import DEFAULT_SAMPLES, MAX_REFERENCE_BYTES, References, decode
from edgepack.runtime.engines import ENGINES, get_engine
from edgepack.runtime.metrics import TOLERANCE, Agreement, agreement, passes, worst


class NoReferencesError(BundleError):
    """The bundle was packed without reference samples (an older edgepack, or --references 0)."""


@dataclass
class ArtifactCheck:
    """One artifact against the references. status: pass | FAIL | error | skipped."""

    key: str
    engine: str
    precision: str
    status: str
    tolerance: float
    agreement: Agreement | None = None
    top1: tuple[int, int] | None = None  # (samples whose top-1 class matches, samples) for classifiers
    packed_ok: bool = True  # passed verification at pack time (load() only picks those)
    note: str = ""

    @property
    def counts(self) -> bool:
        """Whether this result decides the exit status: checked, and an artifact load() may choose."""
        return self.status in ("pass", "FAIL", "error") and self.packed_ok

    def to_dict(self) -> dict:
        a = self.agreement
        return {"artifact": self.key, "engine": self.engine, "precision": self.precision, "status": self.status,
                "cosine": None if a is None else _finite(a.cosine),
                "max_abs": None if a is None else _finite(a.max_abs),
                "mismatch": None if a is None else a.mismatch, "tolerance": self.tolerance,
                "top1": None if self.top1 is None else {"agree": self.top1[0], "samples": self.top1[1]},
                "passed_at_pack": self.packed_ok, "note": self.note}


@dataclass
class RefReport:
    bundle: str
    samples: int
    checks: list[ArtifactCheck] = field(default_factory=list)

    @property
    def checked(self) -> list[ArtifactCheck]:
        return [c for c in self.checks if c.counts]

    @property
    def ok(self) -> bool:
        return bool(self.checked) and all(c.status == "pass" for c in self.checked)

    def to_dict(self) -> dict:
        return {"bundle": self.bundle, "samples": self.samples, "ok": self.ok,
                "artifacts": [c.to_dict() for c in self.checks]}


def load_references(bundle: Bundle) -> References:
    """The bundle's reference samples, size- and sha256-checked; NoReferencesError if it has none."""
    entry = bundle.manifest.references
    if entry is None:
        raise NoReferencesError(f"bundle '{bundle.path}' carries no reference samples (packed by edgepack "
                                f"{bundle.manifest.doc.get('edgepack_version', '?')} or with --references 0); "
                                f"repack it with edgepack >= {__version__} (edgepack pack stores {DEFAULT_SAMPLES} by "
                                "default) to verify it on the device")
    data = bundle.read_file(entry["file"], entry["size_bytes"], entry["sha256"], MAX_REFERENCE_BYTES)
    m = bundle.manifest
    return decode(data, entry, m.inputs, m.outputs, f"bundle '{bundle.path}'")


def check_bundle(path: str | Path, engine: str | None = None, threads: int | None = None) -> RefReport:
    """Every artifact (or those of `engine`) against the reference samples. Artifacts whose engine is not
    installed are reported as skipped."""
    with Bundle(path) as b:
        refs = load_references(b)
        if engine is not None and engine not in {a["engine"] for a in b.manifest.artifacts}:
            have = ", ".join(sorted({a["engine"] for a in b.manifest.artifacts}))
            raise BundleError(f"the bundle has no {engine} artifact; it has {have}")
        report = RefReport(str(path), refs.samples)
        for entry in b.manifest.artifacts:
            if engine is not None and entry["engine"] != engine:
                continue
            report.checks.append(_check_artifact(b, entry, refs, threads))
    return report


def _check_artifact(b: Bundle, entry: dict, refs: References, threads: int | None) -> ArtifactCheck:
    eng_name, precision = entry["engine"], entry["precision"]
    c = ArtifactCheck(f"{eng_name}-{precision}", eng_name, precision, "skipped", TOLERANCE.get(precision, 0.99),
                      packed_ok=bool(entry["verification"]["passed"]))
    if not c.packed_ok:
        c.note = "failed verification at pack time: load() does not choose it"
    try:
        cls = get_engine(eng_name)
    except EngineUnavailableError as e:
        pkg = ENGINES[eng_name][2] if eng_name in ENGINES else eng_name
        c.note = _join(c.note, f"engine not usable here ({str(e).split(';')[0]}; pip install {pkg})")
        return c
    try:
        artifact = b.artifact(eng_name, precision)  # sha256-checked before the engine sees it
        from edgepack.runtime.bundle.choose import default_threads

        eng = cls.load(artifact, threads=threads or default_threads())
        try:
            got = [_run_in_onnx_layout(eng, artifact, feeds) for feeds in refs.inputs]
        finally:
            eng.close()
    except Error as e:
        c.status, c.note = "error", _join(c.note, str(e))
        return c
    except Exception as e:  # an engine's own failure on this artifact is the answer, not a crash of verify
        c.status, c.note = "error", _join(c.note, f"{type(e).__name__}: {str(e)[:300]}")
        return c
    per = {}
    for name in refs.outputs[0]:
        ref = np.concatenate([np.asarray(s[name], np.float64).ravel() for s in refs.outputs])
        out = np.concatenate([np.asarray(s[name], np.float64).ravel() for s in got])
        per[name] = agreement(ref, out, precision)
    c.agreement = worst(per)
    c.top1 = _top1(b, refs, got)
    c.status = "pass" if passes(c.agreement, precision) else "FAIL"  # the criterion pack applied; top-1 is shown
    return c


def _run_in_onnx_layout(eng, artifact, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """References are in the ONNX layout; tensors an artifact exposes channels-last (layout NHWC) are
    transposed on the way in and back on the way out."""
    nhwc_in = {t.name for t in artifact.inputs if t.layout == "NHWC"}
    nhwc_out = {t.name for t in artifact.outputs if t.layout == "NHWC"}
    out = eng.run({k: v.transpose(0, 2, 3, 1) if k in nhwc_in else v for k, v in feeds.items()})
    return {k: v.transpose(0, 3, 1, 2) if k in nhwc_out else v for k, v in out.items()}


def _top1(b: Bundle, refs: References, got: list[dict[str, np.ndarray]]) -> tuple[int, int] | None:
    """Classifiers: in how many samples the engine's top-1 class equals the reference's."""
    post = b.manifest.postprocess
    if post.kind != "topk":
        return None
    agree = sum(int(np.array_equal(np.argmax(r[post.output], axis=-1), np.argmax(g[post.output], axis=-1)))
                for r, g in zip(refs.outputs, got))
    return agree, len(got)


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
