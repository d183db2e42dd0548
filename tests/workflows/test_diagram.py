"""The lifecycle diagram in the README is generated from the transition table."""

from __future__ import annotations

from pathlib import Path

from workflows.diagram import END, START, mermaid, replace_in_readme
from workflows.transitions import TRANSITIONS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_diagram_matches_the_transition_table() -> None:
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text
    assert replace_in_readme(text) == text, "run `registry diagram --write-readme`"


def test_diagram_has_an_arrow_for_every_source_of_every_transition() -> None:
    diagram = mermaid()
    for transition in TRANSITIONS.values():
        for source in transition.sources:
            assert f"{source.value} --> {transition.target.value}: {transition.name}" in diagram
