"""The loader: exact values, positions, directory merging and digests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flexctl.config.loader import load_tree
from flexctl.errors import ConfigError
from flexctl.kinds.configuration import load_config
from tests.config.cfg_helpers import Write
from tests.config_sections import sections

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
    config = sections(load_config("c.yaml").config)
    assert config.plans["printing"].price == Decimal("0.10")
    assert str(config.plans["hot-desk"].price) == "250.00"  # exact source text, not a float
    acme = config.companies["acme"]
    assert acme.memberships[1].price == Decimal("1E+2")
    assert acme.memberships[0].start == date(2026, 12, 1)
    assert acme.fees[0].quantity == 120


def test_positions_of_keys_and_list_items(write: Write) -> None:
    write("c.yaml", HEAD + LOCATIONS + PLANS + COMPANIES)
    loaded = load_config("c.yaml")
    assert "index" not in vars(loaded)  # positions are not kept once the config is valid
    assert loaded.locate(("plans", "hot-desk", "price")) == ("c.yaml", 11, 5)  # read again
    assert "index" in vars(loaded)  # once
    assert loaded.locate(("plans", "printing", "price")) == ("c.yaml", 12, 48)
    assert loaded.locate(("companies", "acme", "memberships", 0)) == ("c.yaml", 18, 9)
    assert loaded.locate(("companies", "acme", "memberships", 1, "price")) == ("c.yaml", 20, 45)
    assert loaded.locate(("companies", "acme", "fees", 0, "quantity")) == ("c.yaml", 22, 42)
    # a path that is not written falls back to its closest written ancestor
    assert loaded.locate(("plans", "printing", "deposit")) == ("c.yaml", 12, 3)
    issue = loaded.issue(("companies", "acme", "memberships", 1), "example")
    assert str(issue) == "c.yaml:20:9: companies.acme.memberships[1]: example"


def test_without_positions_the_index_composes_the_same_bytes_when_first_asked(
    write: Write,
) -> None:
    write("c.yaml", HEAD + LOCATIONS + PLANS + COMPANIES)
    lean = load_tree(Path("c.yaml"), positions=False)
    assert lean.index.per_file == [None]  # nothing composed twice while nothing is asked
    assert lean.data == load_tree(Path("c.yaml")).data
    write("c.yaml", "\n\n\n" + HEAD + LOCATIONS + PLANS + COMPANIES)  # edited meanwhile
    assert lean.index.locate(("plans", "hot-desk", "price")) == ("c.yaml", 11, 5)  # as read
    assert lean.index.per_file[0] is not None


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
    assert list(sections(loaded.config).plans) == ["hot-desk", "printing", "day-pass"]
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


def test_block_scalars_escapes_and_folded_lines_load(write: Write) -> None:
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
    plan = sections(load_config(path).config).plans["hot-desk"]
    assert plan.name == "Hot Desk"
    assert plan.description == "Any free desk.\n"
    assert plan.billing == "recurring"


def test_an_empty_section_is_an_empty_mapping(write: Write) -> None:
    write("conf/a.yaml", HEAD + LOCATIONS + "plans:\ncompanies:\n  # acme: {name: Acme}\n")
    write("conf/b.yaml", PLANS)
    loaded = load_config("conf")
    config = sections(loaded.config)
    assert list(config.plans) == ["hot-desk", "printing"]
    assert config.companies == {}
