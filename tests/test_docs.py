"""The README is a door and docs/ its rooms: every relative link and anchor resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _prose(text: str) -> str:
    """The text outside fenced code blocks (a `[x](y)` in code is not a link)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation but '-' and '_' dropped, spaces to '-',
    a repeated heading numbered (`-1`, `-2`)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", _prose(path.read_text()), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(path: Path) -> list[str]:
    return [target for target in LINK.findall(_prose(path.read_text()))
            if not re.match(r"^[a-z]+:", target)]  # https:, mailto: ... are not ours to check


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in links(page):
        file, _, anchor = target.partition("#")
        resolved = (page.parent / file).resolve() if file else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (resolved.suffix != ".md" or anchor not in anchors(resolved)):
            broken.append(f"{target}: no such heading in {resolved.relative_to(ROOT)}")
    assert not broken, broken


def test_the_readme_is_a_door_to_every_page():
    readme = links(ROOT / "README.md")
    missing = [p.name for p in PAGES[1:] if f"docs/{p.name}" not in readme]
    assert not missing, f"docs pages the README does not link: {missing}"
    assert len((ROOT / "README.md").read_text().splitlines()) <= 300  # a door, not the house


def test_the_anchor_rule_is_githubs():
    page = ROOT / "docs" / "guardrails.md"
    assert "centralized-root-access" in anchors(page)
    assert "moving-from-iam_users-to-identity_center" in anchors(ROOT / "docs" / "access.md")


def _section(page: Path, heading: str) -> str:
    """The text of a `## heading` section (up to the next `## `)."""
    text = page.read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_the_first_sign_in_section_is_in_step_with_the_cli_and_the_message():
    """docs/access.md's colleague's first sign-in: each awsenvs command it shows is one the CLI
    takes (its verb and options), and each command a colleague types is one the message of
    `signin --user` gives them (for the example organizations, whose users the page names)."""
    import shlex

    from awsenvs.cli import cli
    from awsenvs.config import load
    from awsenvs.welcome import welcome
    from conftest import IDENTITY_CENTER, TWO_PRODUCTS

    section = _section(ROOT / "docs" / "access.md", "A colleague's first sign-in")
    ours = re.findall(r"`((?:make \w+(?: ARGS=\"[^\"]*\")?)|(?:python main\.py [^`]+))`", section.replace("\n   ", " "))
    assert len(ours) >= 5, ours
    for command in ours:
        words = shlex.split(command)
        if words[0] == "make":  # make VERB ARGS="...": the Makefile passes ARGS to the verb
            words = [words[1], *shlex.split(words[2].split("=", 1)[1] if len(words) > 2 else "")]
        else:
            words = words[2:]
        verb, *args = words
        found = cli.get_command(cli.make_context("awsenvs", []), verb)
        assert found is not None, command
        found.make_context(verb, list(args))  # an unknown option or a missing argument raises

    blocks = re.findall(r"^ *```sh\n(.*?)^ *```", section, flags=re.M | re.S)
    assert len(blocks) == 2, blocks
    for block, path, name in zip(blocks, (IDENTITY_CENTER, TWO_PRODUCTS), ("maria", "bob")):
        org = load(path)
        ids = {env.stack: f"{100000000000 + i}" for i, env in enumerate(org.environments)}
        person = next(u for u in org.people if u.name == name)
        message = welcome(org, ids, "d-1234567890", person).message
        for line in filter(None, (line.strip() for line in block.splitlines())):
            assert f"     {line}\n" in message, (line, message)
