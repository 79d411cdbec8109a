"""A corpus of malformed inputs: each exits 1 with a located message and no traceback."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest

from flexctl.errors import ConfigError
from flexctl.kinds.configuration import load_config
from tests.config.cfg_helpers import Run, Write

HEAD = "version: 1\norganization: harbor-works\ncurrency: EUR\n"
LOCATED = re.compile(r"^\S+:\d+:\d+: \S+: .+", re.MULTILINE)

ALIAS_BOMB = HEAD + "\n".join(
    ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
)
DEEP_FLOW = HEAD + "plans: " + "[" * 100 + "]" * 100 + "\n"
DEEP_BLOCK = HEAD + "".join(f"{'  ' * n}k{n}:\n" for n in range(100)) + "  " * 100 + "x: 1\n"
PLAN = "plans:\n  hot-desk:\n    name: Hot Desk\n    billing: recurring\n    price: 250\n"

# (id, content, "line:col" of the first message, a phrase the message must contain)
CASES: list[tuple[str, str | bytes, str, str]] = [
    ("unclosed-flow", HEAD + "plans: {hot-desk: {name: Hot Desk\n", "5:1", "syntax error"),
    ("unclosed-quote", HEAD + 'organization: "harbor\n', "5:1", "syntax error"),
    ("tab-indent", HEAD + "plans:\n\thot-desk: {}\n", "5:1", "tab character"),
    ("bad-indent", HEAD + "plans:\n  a: 1\n b: 2\n", "6:2", "syntax error"),
    ("mapping-in-scalar", HEAD + "currency: EUR: USD\n", "4:14", "syntax error"),
    ("duplicate-key", HEAD + "currency: USD\n", "4:1", "duplicate key 'currency'"),
    (
        "duplicate-nested",
        HEAD + PLAN + "    billing: one_off\n",
        "9:5",
        "duplicate key 'billing' (first defined at config.yaml:7:5)",
    ),
    ("unknown-top-key", HEAD + "plan: {}\n", "4:1", "unknown key 'plan' (did you mean 'plans'?)"),
    ("unknown-nested-key", HEAD + PLAN + "    pricee: 1\n", "9:5", "unknown key 'pricee'"),
    ("string-price", HEAD + PLAN.replace("250", "'250'"), "8:5", "expected a number"),
    ("list-as-string", HEAD + PLAN + "    locations: downtown\n", "9:5", "expected a list"),
    ("yes-boolean", HEAD + PLAN + "    prorate: yes\n", "9:5", "expected a boolean"),
    ("on-boolean", HEAD + "invoicing: {pay_now_button: on}\n", "4:13", "got 'on'"),
    ("float-overflow", HEAD + PLAN.replace("250", "1e400"), "8:5", "too large"),
    ("infinity", HEAD + PLAN.replace("250", ".inf"), "8:5", "finite"),
    ("nan", HEAD + PLAN.replace("250", ".nan"), "8:5", "finite"),
    ("alias-bomb", ALIAS_BOMB, "4:5", "anchors (&a0) are not allowed"),
    ("alias", HEAD + "plans: *x\n", "4:8", "aliases (*x) are not allowed"),
    ("python-tag", HEAD + "plans: !!python/object:os.system {}\n", "4:8", "explicit tags"),
    ("str-tag", "currency: !!str EUR\n", "1:11", "explicit tags"),
    ("multi-document", HEAD + "---\nversion: 1\n", "4:1", "only one YAML document"),
    ("yaml-directive", "%YAML 1.1\n---\n" + HEAD, "2:1", "directives"),
    ("deep-flow", DEEP_FLOW, "4:71", "nesting deeper than 64"),
    ("deep-block", DEEP_BLOCK, "68:129", "nesting deeper than 64"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "3:1", "binary content"),
    ("utf16", "version: 1\n".encode("utf-16"), "1:4", "binary content"),
    ("latin1", HEAD.encode() + "plans: {caf\xe9: {}}\n".encode("latin-1"), "4:12", "not UTF-8"),
    ("control-char", HEAD + "currency: EU\x07R\n", "4:13", "U+0007"),
    ("control-char-cr", (HEAD + "currency: EU\x07R\n").replace("\n", "\r"), "4:13", "U+0007"),
    ("line-separator", HEAD + "currency: EUR\u2028\n", "4:14", "line separator U+2028"),
    ("next-line", HEAD + "currency: EUR\x85\n", "4:14", "line separator U+0085"),
    (
        "crlf-duplicate-nested",
        (HEAD + PLAN + "    billing: one_off\n").replace("\n", "\r\n"),
        "9:5",
        "duplicate key 'billing' (first defined at config.yaml:7:5)",
    ),
    ("crlf-tab", (HEAD + "plans:\n  hot-desk:\tx\n").replace("\n", "\r\n"), "5:12", "tab"),
    ("unknown-escape", HEAD + 'plans: "C:\\plans"\n', "4:11", "unknown escape character '\\p'"),
    ("empty", "", "1:1", "the file is empty"),
    ("whitespace-only", "  \n\n", "1:1", "the file is empty"),
    ("comments-only", "# nothing here\n# still nothing\n", "1:1", "no configuration"),
    ("null-document", "~\n", "1:1", "no configuration"),
    ("top-level-list", "- version: 1\n", "1:1", "must be a mapping"),
    ("top-level-scalar", "hello\n", "1:1", "must be a mapping"),
    ("invalid-date", HEAD + "policy: {lock_date: 2026-02-30}\n", "4:21", "invalid date"),
    ("empty-key", HEAD + ": value\n", "4:1", "empty key"),
    ("complex-key", HEAD + "? [a, b]\n: value\n", "4:3", "keys must be plain strings"),
    (
        "literal-secret",
        HEAD + "gateways:\n  s:\n    provider: stripe\n    account: a\n"
        "    secret_key: sk_live_123\n",
        "8:5",
        "a literal secret is not allowed",
    ),
    (
        "missing-version",
        "organization: harbor-works\ncurrency: EUR\n",
        "1:1",
        "required key 'version' is missing",
    ),
    ("huge-integer", "version: " + "9" * 5000 + "\n" + HEAD[11:], "1:1", "expected 1, got 999"),
]


@pytest.mark.parametrize(
    ("content", "where", "phrase"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_input_is_reported_located(
    run: Run,
    write: Write,
    content: str | bytes,
    where: str,
    phrase: str,
) -> None:
    write("config.yaml", content)
    result = run("validate", "config.yaml")
    assert result.code == 1
    assert result.out == ""
    err = result.err
    assert "Traceback" not in err and "Internal error" not in err
    assert LOCATED.match(err), err
    first = err.splitlines()[0]
    assert first.startswith(f"config.yaml:{where}: "), err
    assert phrase in err


def test_an_impossible_date_names_its_key_and_hides_no_other_error(run: Run, write: Write) -> None:
    write("config.yaml", HEAD + "members:\n  x:\n    fees:\n      - {plan: p, date: 2027-02-30}\n")
    result = run("validate", "config.yaml")
    assert result.code == 1
    assert result.err.splitlines() == [
        "config.yaml:5:3: members.x.email: required key 'email' is missing",
        "config.yaml:5:3: members.x.location: required key 'location' is missing",
        "config.yaml:5:3: members.x.name: required key 'name' is missing",
        "config.yaml:7:25: members.x.fees[0].date: invalid date '2027-02-30': "
        "day is out of range for month",
    ], result.err


def test_secret_value_is_never_echoed(run: Run, write: Write) -> None:
    write(
        "config.yaml",
        HEAD + "gateways:\n  s:\n    provider: stripe\n    account: a\n"
        "    secret_key: sk_live_supersecret\n",
    )
    result = run("validate", "config.yaml", "--format", "json")
    assert "supersecret" not in result.out + result.err


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("4242424242424242", "a literal secret is not allowed"),  # unquoted: read as a number
        ("4242.4242", "a literal secret is not allowed"),
        ("{env: 4242-4242}", "must name an environment variable"),  # the key pasted as a name
        ("{env: 4242424242424242}", "'env' must be a non-empty string"),
        ("{file: 4242424242424242}", "'file' must be a non-empty string"),
        ("{env: sk_live_4242abcd}", "looks like a key itself"),  # a valid-looking name
        ("{file: rk_test_4242abcd}", "looks like a key itself"),
    ],
)
def test_a_secret_of_any_shape_is_never_echoed(
    run: Run, write: Write, value: str, phrase: str
) -> None:
    write(
        "config.yaml",
        HEAD + f"gateways:\n  s:\n    provider: stripe\n    account: a\n    secret_key: {value}\n",
    )
    result = run("validate", "config.yaml")
    assert result.code == 1
    assert result.err.startswith("config.yaml:8:5: gateways.s.secret_key: "), result.err
    assert phrase in result.err
    assert "4242" not in result.out + result.err


def test_a_secret_key_in_the_publishable_key_is_refused_unechoed(run: Run, write: Write) -> None:
    write(
        "config.yaml",
        HEAD + "gateways:\n  s:\n    provider: stripe\n    account: a\n"
        "    secret_key: {env: K}\n    publishable_key: sk_live_4242abcd\n",
    )
    result = run("validate", "config.yaml")
    assert result.code == 1
    assert result.err.startswith("config.yaml:9:5: gateways.s.publishable_key: this is a secret")
    assert "4242" not in result.out + result.err


def test_huge_file_is_refused_quickly(run: Run, workdir: Path) -> None:
    big = workdir / "big.yaml"
    with big.open("w") as handle:
        handle.write(HEAD + "members:\n")
        line = "  m{0}: {{name: Member {0}, email: m{0}@example.org, location: downtown}}\n"
        while handle.tell() < 20 * 1024 * 1024:
            handle.write("".join(line.format(n) for n in range(handle.tell(), handle.tell() + 500)))
    result = run("validate", "big.yaml")
    assert result.code == 1
    assert result.err.startswith("big.yaml:1:1: <root>: the file is 20.0 MB")
    assert "split the configuration" in result.err


def test_directory_without_yaml(run: Run, write: Write) -> None:
    write("conf/readme.txt", "not yaml")
    write("conf/.flexctl/state.yaml", HEAD)  # hidden directories are not config
    result = run("validate", "conf")
    assert result.code == 1
    assert result.err == "conf:1:1: <root>: no *.yaml or *.yml files in this directory\n"


def test_missing_path(run: Run) -> None:
    result = run("validate", "nowhere.yaml")
    assert result.code == 1
    assert result.err == "nowhere.yaml:1:1: <root>: no such file or directory\n"


def test_dangling_symlink_in_directory(run: Run, write: Write, workdir: Path) -> None:
    write("conf/a.yaml", HEAD)
    os.symlink(workdir / "missing.yaml", workdir / "conf" / "b.yaml")
    result = run("validate", "conf")
    assert result.code == 1
    assert result.err.startswith("conf/b.yaml:1:1: <root>: cannot read the file: ")


def test_unreadable_directory_named_like_a_file(run: Run, write: Write, workdir: Path) -> None:
    (workdir / "x.yaml").mkdir()
    result = run("validate", "x.yaml")
    assert result.code == 1
    assert result.err == "x.yaml:1:1: <root>: no *.yaml or *.yml files in this directory\n"


def test_errors_in_every_file_are_reported_together(run: Run, write: Write) -> None:
    write("conf/a.yaml", HEAD + "plans: *x\n")
    write("conf/b.yaml", "plans:\n\tx: 1\n")
    write("conf/c.yaml", b"\xff\xfe")
    result = run("validate", "conf")
    lines = result.err.splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        "conf/a.yaml:4:8",
        "conf/b.yaml:2:1",
        "conf/c.yaml:1:1",
    ]


def test_fifo_is_refused_without_waiting(run: Run, workdir: Path) -> None:
    os.mkfifo(workdir / "pipe.yaml")
    result = run("validate", "pipe.yaml")
    assert result.code == 1
    assert result.err == "pipe.yaml:1:1: <root>: cannot read: it is not a regular file\n"


def test_path_too_long_for_the_file_system(run: Run) -> None:
    result = run("validate", "a" * 5000)
    assert result.code == 1
    assert result.err.endswith(":1:1: <root>: cannot use this path: File name too long\n")


def test_symlink_loop(run: Run, workdir: Path) -> None:
    os.symlink(workdir / "b.yaml", workdir / "a.yaml")
    os.symlink(workdir / "a.yaml", workdir / "b.yaml")
    result = run("validate", "a.yaml")
    assert result.code == 1
    assert result.err.startswith("a.yaml:1:1: <root>: cannot read the file: ")


def test_mutated_configs_only_ever_raise_config_errors(workdir: Path) -> None:
    """Random damage to valid files: always a located ConfigError, never another exception."""
    examples = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
    seeds = [path.read_text() for path in sorted(examples.rglob("*.yaml"))]
    lines = [
        "price: 1e-400",
        "quantity: 99999999999999999999",
        "end: 0001-01-01",
        "rate: 101",
        "secret_key: {env: X}",
        "default: true",
        "id: 0123456789abcdef01234567",
        "unit: day",
        "billing: one_off",
        "- {plan: x, start: 2026-01-01}",
        "max_change_ratio: .nan",
    ]
    rng = random.Random(7)
    target = workdir / "c.yaml"
    for _ in range(300):
        text = rng.choice(seeds).split("\n")
        at = rng.randrange(len(text))
        indent = len(text[at]) - len(text[at].lstrip(" "))
        text.insert(at, " " * indent + rng.choice(lines))
        if rng.random() < 0.5:
            del text[rng.randrange(len(text))]
        target.write_text("\n".join(text))
        try:
            load_config(target)
        except ConfigError as exc:
            assert exc.issues and all(i.line >= 1 and i.column >= 1 for i in exc.issues)
