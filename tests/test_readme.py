"""The README starts with the two fresh-machine commands, and .ci/run runs the second one."""

from __future__ import annotations

from conftest import ROOT


def test_readme_opens_with_install_demo_and_test_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[0] == "```bash" and lines[3] == "```"
    assert lines[1].endswith("&& edgepack demo") and "pip install" in lines[1]
    assert "pip install" in lines[2] and "[dev]" in lines[2] and "pytest" in lines[2]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "sed -n '3p' README.md" in ci and 'bash -c "$TEST_COMMAND"' in ci
