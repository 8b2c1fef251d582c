"""docs/parameters.md is exactly what docs.py renders from spec.py, and covers all of it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from animate.runware import docs, spec

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "parameters.md"


def test_the_committed_reference_is_what_spec_renders() -> None:
    # On failure, regenerate: .venv/bin/python -m animate.runware.docs > docs/parameters.md
    assert COMMITTED.read_text(encoding="utf-8") == docs.render()


def test_running_the_module_prints_the_reference_as_utf8() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "animate.runware.docs"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert result.stdout.decode("utf-8") == docs.render()


@pytest.mark.parametrize("param", spec.PARAMETERS, ids=lambda p: p.path)
def test_every_parameter_has_a_row_with_its_label_and_what_it_accepts(param: spec.Parameter) -> None:
    [row] = [line for line in docs.render().splitlines() if line.startswith(f"| `{param.path}` |")]
    assert f"| {param.label} |" in row
    assert spec.describe(param) in row


def test_every_group_has_a_section_in_order() -> None:
    rendered = docs.render()
    positions = [rendered.index(f"\n## {title}\n") for _, title in spec.GROUPS]
    assert positions == sorted(positions)


def test_the_dimension_table_and_every_rule_and_code_are_rendered() -> None:
    rendered = docs.render()
    for width, height, label in spec.DIMENSIONS:
        assert f"| `{label}` | `{width}x{height}` |" in rendered
    for rule in spec.RULES:
        assert f"- {rule}\n" in rendered
    for code, meaning in spec.ERROR_CODES.items():
        assert f"| `{code}` | {meaning} |" in rendered


def test_defaults_and_pairings_are_shown() -> None:
    rendered = docs.render()
    assert "| `fps` | Frames per second | integer |  | `16` | an integer from 4 to 60 |" in rendered
    assert "| `safety.checkContent` | Check content | boolean |  | `false` |" in rendered
    assert "one of 480, 704, 832, 1280; use with `height`; not with `resolution` |" in rendered
    assert "one of 480p, 580p, 720p; not with `width` or `height` |" in rendered
