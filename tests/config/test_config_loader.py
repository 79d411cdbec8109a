"""The loader: exact values, positions, directory merging, digests, and the fast reader."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from cfg_helpers import Write

from flexctl.config import composer, fastparse
from flexctl.config.composer import YamlProblem
from flexctl.config.loader import load_tree
from flexctl.errors import ConfigError
from flexctl.kinds.configuration import load_config

REPO = Path(__file__).resolve().parents[2]
HEAD = "version: 1\norganization: harbor-works\ncurrency: EUR\n"
LOCATIONS = "locations:\n  downtown: {name: Downtown}\n  riverside: {name: Riverside}\n"
PLANS = """\
plans:
  hot-desk:
    name: Hot Desk
    billing: recurring
    price: 250.00
  printing: {name: Printing, billing: one_off, price: 0.10}
"""
COMPANIES = """\
companies:
  acme:
    name: Acme Ltd
    location: downtown
    memberships:
      - plan: hot-desk
        start: 2026-12-01
      - {plan: hot-desk, start: 2027-01-01, price: 1e2}
    fees:
    - {plan: printing, date: 2026-12-03, quantity: 120}
"""


def issues_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(issue) for issue in caught.value.issues]


def test_values_are_exact(write: Write) -> None:
    write("c.yaml", HEAD + LOCATIONS + PLANS + COMPANIES)
    config = load_config("c.yaml").config
    assert config.plans["printing"].price == Decimal("0.10")
    assert str(config.plans["hot-desk"].price) == "250.00"  # exact source text, not a float
    acme = config.companies["acme"]
    assert acme.memberships[1].price == Decimal("1E+2")
    assert acme.memberships[0].start == date(2026, 12, 1)
    assert acme.fees[0].quantity == 120


def test_positions_of_keys_and_list_items(write: Write) -> None:
    write("c.yaml", HEAD + LOCATIONS + PLANS + COMPANIES)
    loaded = load_config("c.yaml")
    assert loaded.locate(("plans", "hot-desk", "price")) == ("c.yaml", 11, 5)
    assert loaded.locate(("plans", "printing", "price")) == ("c.yaml", 12, 48)
    assert loaded.locate(("companies", "acme", "memberships", 0)) == ("c.yaml", 18, 9)
    assert loaded.locate(("companies", "acme", "memberships", 1, "price")) == ("c.yaml", 20, 45)
    assert loaded.locate(("companies", "acme", "fees", 0, "quantity")) == ("c.yaml", 22, 42)
    # a path that is not written falls back to its closest written ancestor
    assert loaded.locate(("plans", "printing", "deposit")) == ("c.yaml", 12, 3)
    issue = loaded.issue(("companies", "acme", "memberships", 1), "example")
    assert str(issue) == "c.yaml:20:9: companies.acme.memberships[1]: example"


def test_root_files_and_digest(write: Write, workdir: Path) -> None:
    write("conf/a.yaml", HEAD + LOCATIONS)
    write("conf/sub/b.yml", PLANS)
    write("conf/.flexctl/sandbox.yaml", "not: [valid")  # sandbox state is never config
    write("conf/notes.txt", "ignored")
    loaded = load_config("conf")
    assert loaded.root == workdir / "conf"
    assert loaded.files == [Path("conf/a.yaml"), Path("conf/sub/b.yml")]
    assert loaded.digest.startswith("sha256:") and len(loaded.digest) == 71
    assert load_config("conf").digest == loaded.digest
    # the same configuration in one file, re-indented and commented, has the same digest
    reflowed = HEAD + "# comment\n" + LOCATIONS + PLANS.replace("  printing: {", "  printing:  {")
    write("one.yaml", reflowed)
    single = load_config("one.yaml")
    assert single.digest == loaded.digest
    assert single.root == workdir
    write("one.yaml", reflowed.replace("0.10", "0.1"))
    assert load_config("one.yaml").digest != loaded.digest


def test_directory_sections_merge_key_by_key(write: Write) -> None:
    write("conf/1.yaml", HEAD + LOCATIONS + PLANS)
    day_pass = "  day-pass: {name: Day Pass, billing: one_off, price: 25}\n"
    write("conf/2.yaml", "version: 1\nplans:\n" + day_pass)
    loaded = load_config("conf")
    assert list(loaded.config.plans) == ["hot-desk", "printing", "day-pass"]
    assert loaded.locate(("plans", "day-pass", "price")) == ("conf/2.yaml", 3, 48)
    assert loaded.locate(("plans", "hot-desk")) == ("conf/1.yaml", 8, 3)
    assert loaded.locate(("version",)) == ("conf/1.yaml", 1, 1)


def test_key_defined_in_two_files_names_both(write: Write) -> None:
    write("conf/1.yaml", HEAD + LOCATIONS + PLANS)
    write("conf/2.yaml", "plans:\n  hot-desk: {name: Hot Desk, billing: recurring, price: 1}\n")
    write("conf/3.yaml", "currency: USD\n")
    assert issues_of(Path("conf")) == [
        "conf/2.yaml:2:3: plans.hot-desk: key 'hot-desk' of 'plans' is already defined at "
        "conf/1.yaml:8:3",
        "conf/3.yaml:1:1: currency: 'currency' is already defined at conf/1.yaml:3:1 "
        "with a different value",
    ]


def test_same_scalar_in_two_files_is_fine_but_not_a_different_type(write: Write) -> None:
    write("conf/1.yaml", HEAD + LOCATIONS)
    write("conf/2.yaml", "version: 1\ncurrency: EUR\n")
    assert load_config("conf").config.currency == "EUR"
    write("conf/3.yaml", "version: true\n")
    assert issues_of(Path("conf")) == [
        "conf/3.yaml:1:1: version: 'version' is already defined at conf/1.yaml:1:1 "
        "with a different value"
    ]


def test_yes_and_on_stay_strings(write: Write) -> None:
    write("c.yaml", "a: yes\nb: on\nc: true\nd: 'true'\ne: ~\nf: 007\ng: 2026-12-01T10:00:00\n")
    data = load_tree(Path("c.yaml")).data
    assert data == {
        "a": "yes",
        "b": "on",
        "c": True,
        "d": "true",
        "e": None,
        "f": 7,
        "g": "2026-12-01T10:00:00",
    }


def test_full_yaml_outside_the_fast_subset_still_loads(write: Write) -> None:
    text = (
        HEAD
        + LOCATIONS
        + (
            "plans:\n"
            "  hot-desk:\n"
            "    name: >-\n"
            "      Hot\n"
            "      Desk\n"
            "    description: |\n"
            "      Any free desk.\n"
            '    billing: "recur\\x72ing"\n'
            "    price: 250\n"
        )
    )
    path = write("c.yaml", text)
    with pytest.raises(fastparse.Unsupported):
        fastparse.parse(text)
    plan = load_config(path).config.plans["hot-desk"]
    assert plan.name == "Hot Desk"
    assert plan.description == "Any free desk.\n"
    assert plan.billing == "recurring"


# Texts inside the fast reader's subset: both readers must give identical values and positions.
SAME = [
    HEAD + LOCATIONS + PLANS + COMPANIES,
    "a:\n- 1\n- two\nb: {x: [1, 2, {y: z}], q: 'v'}\n",
    "a:\n  - b: 1\n    c:\n    - d\n    - e\n  - f\nz: end\n",
    "k: 'it''s'  # comment\nl: \"double\"\nm: plain text, with a comma\n",
    "n: [ a , 'b' , \"c\" ]\no: {}\np: []\nq: -5\nr: +.5\ns: .inf\nt: 1_000\n",
    "a:\n  b:\n    c:\nd: ~\ne: null\nf: 12:30\ng: a#b\nh: x # y\n",
    "- top\n- {a: 1}\n- [x]\n",
    "name: Café ☕\nemail: jane@acme.example\n",
    "a:   \n  b: 1\n\n\n# trailing comment\n",
]


@pytest.mark.parametrize("text", SAME, ids=range(len(SAME)))
def test_fast_reader_matches_composer(text: str) -> None:
    fast = fastparse.parse(text)
    full = composer.compose(text)
    assert fast.value == full.value
    assert fast.positions == full.positions
    assert [type(v) for v in _leaves(fast.value)] == [type(v) for v in _leaves(full.value)]


def test_fast_reader_matches_composer_on_examples() -> None:
    files = sorted((REPO / "examples" / "harbor-works").rglob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        text = path.read_text()
        fast, full = fastparse.parse(text), composer.compose(text)
        assert (fast.value, fast.positions) == (full.value, full.positions), path


# Fragments that break or bend YAML, inserted at random into valid texts.
PIECES = [
    ":",
    ": ",
    "- ",
    "#",
    " #",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a",
    "*a",
    "!",
    "|",
    ">",
    "\t",
    " ",
    "  ",
    "\n",
    "\n  ",
    "-",
    "?",
    "x",
    "1.5",
    "~",
    "%",
    "@",
    "\\",
    "''",
    "---",
    "é",
    "\u00a0",
    "2026-02-30",
    "yes",
    ".inf",
    "1e5",
    ":x",
    "a: b",
    "- a: b",
]


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(text) + 1)
        choice = rng.random()
        if choice < 0.5:
            text = text[:at] + rng.choice(PIECES) + text[at:]
        elif choice < 0.8:
            text = text[:at] + text[at + rng.randint(1, 3) :]
        else:
            lines = text.split("\n")
            line = rng.randrange(len(lines))
            lines[line] = " " * rng.randint(0, 6) + lines[line].lstrip(" ")
            text = "\n".join(lines)
    return text


def test_fast_reader_never_disagrees_on_mutated_texts() -> None:
    """Whatever the fast reader accepts, the composer accepts with the same result."""
    rng = random.Random(2026)
    seeds = [*SAME, *(p.read_text() for p in (REPO / "examples").rglob("*.yaml"))]
    accepted = 0
    for _ in range(1500):
        text = _mutate(rng, rng.choice(seeds))
        try:
            fast = fastparse.parse(text)
        except fastparse.Unsupported:
            continue
        accepted += 1
        try:
            full = composer.compose(text)
        except YamlProblem as problem:
            raise AssertionError(f"fast reader accepted invalid YAML: {text!r}") from problem
        assert (fast.value, fast.positions) == (full.value, full.positions), text
        assert [type(v) for v in _leaves(fast.value)] == [type(v) for v in _leaves(full.value)]
    assert accepted > 300  # the mutations leave plenty inside the subset


# Texts outside the subset: the fast reader must decline rather than guess.
DECLINED = [
    "a: &x 1\n",
    "a: !!str 1\n",
    "a: |\n  text\n",
    "a: multi\n  line\n",
    "a: 1\na: 2\n",
    "a: {b: 1, b: 2}\n",
    "a: [1, 2\n",
    "a:\tb\n",
    "---\na: 1\n",
    "a: 'unterminated\n",
    '"quoted key": 1\n',
    "a: b: c\n",
    "a: [b: c]\n",
    "a: {b}\n",
    "a: [1, 2,]\n",
    "a: 2026-02-30\n",
    "a:\n-\n  b\n",
    'a: "esc\\n"\n',
    "a: 1\r\nb: 2\r\n",
    "  a: 1\n",
    "",
]


@pytest.mark.parametrize("text", DECLINED, ids=range(len(DECLINED)))
def test_fast_reader_declines_what_it_does_not_handle(text: str) -> None:
    with pytest.raises(fastparse.Unsupported):
        fastparse.parse(text)


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_an_empty_section_is_an_empty_mapping(write: Write) -> None:
    write("conf/a.yaml", HEAD + LOCATIONS + "plans:\ncompanies:\n  # acme: {name: Acme}\n")
    write("conf/b.yaml", PLANS)
    loaded = load_config("conf")
    assert list(loaded.config.plans) == ["hot-desk", "printing"]
    assert loaded.config.companies == {}
