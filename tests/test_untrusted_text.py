"""Text from a bundle is untrusted (issue 14 §5): labels and names with OSC/CSI escapes or line breaks must
not reach the terminal raw (an OSC retitles the window, CSI 2J clears it, a newline fakes result lines)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from edgepack.cli.term import Table, clean

EVIL = ["\x1b]0;pwned\x07zero", "one\x1b[2J", "two\nthree: 0.99", "\u202efour", "five\r", "6", "7", "8", "9", "10"]


def test_clean_escapes_controls_and_keeps_text():
    assert clean("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert clean("l1\nl2\r") == "l1\\nl2\\r"
    assert clean("\u202eabc") == "\\u202eabc"
    assert clean("Grüße 猫") == "Grüße 猫"
    t = Table("t\x1b]0;x\x07", ("a", "b"))
    t.add_row("x\ny", 1)
    assert "\x1b" not in t.render() and t.render().count("\n") == 3


@pytest.fixture(scope="module")
def evil_bundle(digits_bundle, tmp_path_factory) -> Path:
    """The digits bundle with hostile labels and model name written into its manifest."""
    out = tmp_path_factory.mktemp("evil") / "evil.edgepack"
    with zipfile.ZipFile(digits_bundle) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json":
                doc = json.loads(data)
                doc["labels"] = EVIL
                doc["model"]["name"] = "m\x1b]2;title\x07\x1b[31m"
                data = json.dumps(doc).encode()
            dst.writestr(info, data)
    return out


@pytest.mark.parametrize("cmd", ["info", "run"])
def test_info_and_run_print_no_escape_from_the_bundle(evil_bundle, tmp_path, cmd):
    from PIL import Image

    from edgepack.demo import load_demo

    img = tmp_path / "d.png"
    Image.fromarray(load_demo().images[0]).save(img)
    r = run_cli(cmd, str(evil_bundle), *([str(img)] if cmd == "run" else []))
    assert r.returncode == 0, r.stderr
    for stream in (r.stdout, r.stderr):
        assert "\x1b" not in stream and "\r" not in stream and "\u202e" not in stream
    if cmd == "run":
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith(str(img))]
        assert len(lines) == 1, r.stdout  # a label's newline did not fake a second result line
