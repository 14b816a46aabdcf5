"""Target: manifest.json validation (schema + cross-field consistency) on arbitrary JSON documents, the layer
below the zip container where most of a bundle's structure is."""

from __future__ import annotations

import json

from expect import rejected_cleanly

from edgepack.runtime.bundle.manifest import validate


def one_input(data: bytes) -> None:
    try:
        doc = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return  # not JSON: the reader turns this into a BundleError before validate (fuzz_bundle covers it)
    with rejected_cleanly("manifest"):
        validate(doc, "fuzz manifest.json")
