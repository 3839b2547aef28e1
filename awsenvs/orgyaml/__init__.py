"""`import`'s writer of org.yaml: live facts -> a draft (`decide`, every decision with its
reason) -> YAML text (`text`, each reason a comment beside what it decided).  Pure: no
AWS here; snapshot.py reads the facts, output.py writes the file."""

from __future__ import annotations

from dataclasses import dataclass

from awsenvs.live.facts import LiveSnapshot
from awsenvs.orgyaml.decide import DraftRefused, decide
from awsenvs.orgyaml.text import text

__all__ = ["DraftRefused", "Written", "render"]


@dataclass(frozen=True)
class Written:
    text: str
    access: str
    found: tuple[str, ...]  # what was found in the organization, one line each
    left_out: tuple[str, ...]  # what it left out of the file, and why
    counts: str  # what the file holds: `2 products, 3 environments, 2 groups`


def render(snapshot: LiveSnapshot, source: str) -> Written:
    """The org.yaml that describes `snapshot`; `source` says where it was read (the header)."""
    draft = decide(snapshot)
    return Written(text(draft, source), draft.access, draft.found, draft.left_out, draft.counts)
