"""The lifecycle as a Mermaid state diagram, generated from the transition table."""

from __future__ import annotations

from workflows.states import State
from workflows.transitions import TRANSITIONS

START = "<!-- lifecycle-diagram:start -->"
END = "<!-- lifecycle-diagram:end -->"


def mermaid() -> str:
    """A stateDiagram-v2 with one arrow per (source, transition)."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    lines += [f"    {s.value}: {s.value} {s.label}" for s in State]
    for t in TRANSITIONS.values():
        roles = "/".join(sorted(r.value for r in t.roles))
        for source in sorted(t.sources, key=list(State).index):
            lines.append(f"    {source.value} --> {t.target.value}: {t.name} ({roles})")
    lines += ["    exited --> [*]", "    rejected --> [*]", "    withdrawn --> [*]"]
    return "\n".join(lines)


def replace_in_readme(text: str) -> str:
    """The README with the block between the markers replaced by the current diagram."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n```mermaid\n{mermaid()}\n```\n{END}{tail}"
