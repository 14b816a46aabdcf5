"""Target: opening a bundle file (zip container, manifest JSON, schema, consistency, integrity), as
`edgepack info` does, on arbitrary bytes. The file lives in /dev/shm where there is one (fast)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from expect import rejected_cleanly

from edgepack.runtime.bundle.reader import Bundle

_DIR = Path(tempfile.mkdtemp(prefix="edgepack-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
atexit.register(shutil.rmtree, _DIR, True)
_PATH = _DIR / "fuzz.edgepack"


def one_input(data: bytes) -> None:
    _PATH.write_bytes(data)
    with rejected_cleanly("bundle"):
        with Bundle(_PATH) as b:
            _ = b.manifest.doc
            b.verify()
