"""docs/bad-input.md is what the commands print today (tools/bad_input_table.py regenerates it)."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import bad_input_table  # noqa: E402


def test_bad_input_doc_is_current(tmp_path):
    text = bad_input_table.render(tmp_path)
    for line in text.splitlines()[7:]:
        code = line.split(" | ")[2]
        assert code == "2", f"a bad input that is not a clean user error: {line}"
        assert "Traceback" not in line
    assert bad_input_table.DOC.read_text() == text, "docs/bad-input.md is stale: python tools/bad_input_table.py"
