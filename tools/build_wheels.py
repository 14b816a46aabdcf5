#!/usr/bin/env python3
"""Build edgepack's runtime wheels for a device, on this x86 machine, without docker.

    python tools/build_wheels.py --platform linux_aarch64 --python 3.10,3.11,3.12,3.13 -o DIR
    python tools/build_wheels.py --platform linux_x86_64 --python 3.11 -o DIR

The build is edgepack.deploy.cross_build (zig, glibc 2.17 floor, plain armv8-a on aarch64, auditwheel retag and
an ISA scan), which `edgepack wheelhouse` calls too; this script runs it on the checkout it sits in.
Needs: pip install "edgepack[build]".
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))

from edgepack.deploy.cross_build import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
