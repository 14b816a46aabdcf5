"""bundle/schema_check.py (the runtime's small validator) against the jsonschema package on real manifests."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from edgepack.runtime.bundle.manifest import schema
from edgepack.runtime.bundle.reader import Bundle
from edgepack.runtime.bundle.schema_check import check_schema, iter_errors

MUTATIONS = [
    lambda d: None,
    lambda d: d.pop("labels"),
    lambda d: d.update(extra=1),
    lambda d: d.update(schema_version=1.0),  # valid: JSON Schema compares numbers by value
    lambda d: d.update(schema_version=True),
    lambda d: d.update(task=3),
    lambda d: d["inputs"][0].update(shape=[1, -3]),
    lambda d: d["inputs"].clear(),
    lambda d: d["preprocess"].update(std=[1, 0, 1]),
    lambda d: d["preprocess"].update(mean=[1, 2, 3, 4]),
    lambda d: d["preprocess"].update(crop_fraction=0),
    lambda d: d["preprocess"].update(pad_value=256),
    lambda d: d.update(preprocess=None),
    lambda d: d.update(preprocess="x"),
    lambda d: d["postprocess"].update(kind="nms"),
    lambda d: d["postprocess"].update(iou_threshold=1.5),
    lambda d: d["artifacts"][0]["files"].update(bin="../x"),
    lambda d: d["artifacts"][0]["files"].update(bin="/abs"),
    lambda d: d["artifacts"][0]["files"].update(bin="a\\\\b"),
    lambda d: d["artifacts"][0]["sha256"].update({"../y": "0" * 64}),
    lambda d: d["artifacts"][0]["sha256"].update({"ok/path": "XYZ"}),
    lambda d: d["artifacts"][0].update(files={}),
    lambda d: d["artifacts"][0].update(precision="int4"),
    lambda d: d["artifacts"][0]["verification"].update(cosine="high"),
    lambda d: d["benchmarks"][0].update(device_kind="gpu"),
    lambda d: d["benchmarks"][0]["device"].update(cores=0),
    lambda d: d["benchmarks"][0].pop("device"),
    lambda d: d["model"].update(name=""),
]


def test_schema_uses_only_implemented_keywords_and_is_valid_2020_12():
    check_schema(schema())
    jsonschema.Draft202012Validator.check_schema(schema())
    with pytest.raises(ValueError, match="does not implement"):
        check_schema({"properties": {"a": {"uniqueItems": True}}})


@pytest.mark.parametrize("i", range(len(MUTATIONS)))
def test_agrees_with_jsonschema(digits_bundle, i):
    doc = copy.deepcopy(Bundle(digits_bundle).manifest.doc)
    MUTATIONS[i](doc)
    ours = sorted("/".join(map(str, p)) for p, _ in iter_errors(doc, schema(), schema()))
    ref = jsonschema.Draft202012Validator(schema())
    theirs = sorted("/".join(map(str, e.absolute_path)) for e in ref.iter_errors(doc))
    assert bool(ours) == bool(theirs) == (i not in (0, 3, 12))  # 12: null preprocess is valid JSON Schema-wise
    assert set(ours) == set(theirs)
