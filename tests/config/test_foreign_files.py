"""Another tool's YAML file in a configuration directory (a docker-compose.yml, a playbook) is
one clear error that says what to do, not a clash of its keys with the configuration's; a
misspelt flexctl section is still a typo with a suggestion."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flexctl.errors import ConfigError
from flexctl.kinds.configuration import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
COMPOSE = 'version: "3.8"\nservices:\n  web:\n    image: nginx\n'


@pytest.fixture
def config(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    return root


def messages(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [f"{i.file}:{i.line}:{i.column}: {i.message}" for i in caught.value.issues]


@pytest.mark.parametrize(("name", "text", "keys"), [
    ("docker-compose.yml", COMPOSE, "'version', 'services'"),
    ("compose.yaml", "services:\n  db: {image: postgres}\nvolumes: {data: {}}\n",
     "'services', 'volumes'"),
])
def test_another_tools_file_is_one_error_that_says_what_to_do(
    config: Path, name: str, text: str, keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (config / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(config.parent)
    assert messages(config) == [
        f"config/{name}:1:1: this is not a flexctl configuration file (its top-level keys are "
        f"{keys}); flexctl reads every .yaml and .yml file under config, so if this file "
        "belongs to another tool, move it out of that directory (or keep the configuration in "
        "a directory of its own; hidden directories such as .github/ are skipped)"]


def test_a_list_at_the_top_of_a_file_in_a_directory_says_to_move_it(config: Path) -> None:
    (config / "playbook.yml").write_text("- hosts: all\n", encoding="utf-8")
    (message,) = messages(config)
    assert "the top level must be a mapping of sections, got a list; flexctl reads every" \
        in message and "move it out of that directory" in message


def test_a_misspelt_section_is_still_a_typo(config: Path) -> None:
    (config / "extra.yaml").write_text("plan:\n  spare: {}\n", encoding="utf-8")
    (message,) = messages(config)
    assert message.endswith("unknown key 'plan' (did you mean 'plans'?)")


def test_the_same_file_given_alone_is_read_as_a_configuration(tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(COMPOSE, encoding="utf-8")
    found = messages(compose)
    assert not any("not a flexctl configuration file" in m for m in found)
    assert any("unknown key 'services'" in m for m in found)


def test_the_example_hidden_directories_and_version_1_are_flexctl(config: Path) -> None:
    (config / ".github").mkdir()
    (config / ".github" / "compose.yml").write_text(COMPOSE, encoding="utf-8")
    (config / "version.yaml").write_text("version: 1\n", encoding="utf-8")
    assert load_config(config).config.organization == "harbor-works"
