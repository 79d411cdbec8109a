"""The README and docs/ stand alone: nothing points outside the repository (no developer notes,
no placeholder repository or tag), every relative link names a file of the repository and
every anchor a heading of it; the platform's capabilities page agrees with the kinds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flexctl.kinds import registry
from flexctl.kinds.base import Capability, Profile

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# What a user of the repository cannot follow: developer notes, placeholders, a tag never made.
OUTSIDE = re.compile(r"\.\./shared|/work/|SPEC\.md|SPEC section|SPEC's|as SPEC says|flex-api\.md"
                     r"|\(reference \d|<you>|@v0\.1\.0|rev: v0\.1\.0")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the headings of a markdown page."""
    found = set()
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_nothing_points_outside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert [m.group() for m in OUTSIDE.finditer(text)] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_exists(page: Path) -> None:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # https://..., mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        inside = linked.exists() and REPO in (linked, *linked.parents)
        headed = not anchor or linked.suffix != ".md" or anchor in anchors(linked)
        if not (inside and headed):
            broken.append(target)
    assert broken == []


def test_the_link_check_notices_a_missing_file_and_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[a](missing.md) [b](#nowhere) [c](#title)\n", encoding="utf-8")
    assert anchors(page) == {"title"}
    assert not (tmp_path / "missing.md").exists()


def letters(capability: Capability) -> str:
    flags = (capability.read, capability.create, capability.update, capability.delete)
    return "".join(letter for letter, on in zip("RCUD", flags, strict=True) if on) or "—"


def test_the_platform_page_states_each_kinds_capabilities_on_officernd() -> None:
    text = (REPO / "docs" / "platform.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| (\S+) \|", text, re.M))
    assert rows == {k.name: letters(k.capability(Profile.OFFICERND)) for k in registry()}
