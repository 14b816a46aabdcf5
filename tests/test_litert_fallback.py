"""The litert engine's reading of a loader failure (the end-to-end fallback, with ai-edge-litert really failing to
load on an old libstdc++, runs in tests/test_board_emulated.py)."""

from __future__ import annotations

from edgepack.runtime.engines.litert import load_failure

# the dynamic loader's message for ai-edge-litert 2.3.0 on Debian 11 arm64's libstdc++, as seen under qemu
LOADER = ("/opt/oldlib/libstdc++.so.6: version `GLIBCXX_3.4.29' not found (required by "
          "/opt/edgepack/lib/python3.11/site-packages/ai_edge_litert/libLiteRt.so)")


def test_missing_symbol_versions_are_named():
    why = load_failure("ai-edge-litert", OSError(LOADER))
    assert why.startswith("ai-edge-litert cannot load on this system: its libraries need GLIBCXX_3.4.29,")
    assert "\n" not in why


def test_several_missing_versions_listed_once_each():
    text = LOADER + "\n" + LOADER.replace("GLIBCXX_3.4.29", "GLIBC_2.34").replace("libstdc++.so.6", "libc.so.6")
    why = load_failure("ai-edge-litert", ImportError(text))
    assert "GLIBCXX_3.4.29" in why and "GLIBC_2.34" in why and why.count("GLIBCXX_3.4.29") == 1


def test_other_import_errors_keep_their_first_line():
    why = load_failure("tflite-runtime", ImportError("No module named 'tflite_runtime._pywrap'\nmore"))
    assert why == "tflite-runtime failed to import (No module named 'tflite_runtime._pywrap')"
