"""Target selection (SPEC §1): flags > environment > defaults, guards and messages."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from flexctl.commands.options import target_options
from flexctl.errors import TargetError, UsageError
from flexctl.kinds.base import Profile
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import (
    OFFICERND_TOKEN_URL,
    Target,
    TargetOptions,
    default_scopes,
    resolve_target,
)

CREDS = {"FLEXCTL_CLIENT_ID": "cid", "FLEXCTL_CLIENT_SECRET": "top-secret-value"}


def test_default_is_the_local_sandbox_next_to_the_config(tmp_path: Path) -> None:
    target = resolve_target(None, None, None, "harbor-works", tmp_path, env={})
    assert target.api_url == "local" and target.is_local
    assert target.sandbox_db == tmp_path / ".flexctl" / "sandbox.db"
    assert target.org == "harbor-works"
    assert target.token_url is None and target.client_secret is None
    assert not (tmp_path / ".flexctl").exists()  # created only when the sandbox is opened


def test_local_without_a_config_root_uses_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = resolve_target("local", "demo", None, None, None, env={})
    assert target.sandbox_db == tmp_path / ".flexctl" / "sandbox.db"


def test_local_file_names_another_sandbox(tmp_path: Path) -> None:
    target = resolve_target(f"local:{tmp_path}/x.db", None, None, "acme", tmp_path, env={})
    assert target.sandbox_db == tmp_path / "x.db" and target.api_url == f"local:{tmp_path}/x.db"
    with pytest.raises(UsageError, match="local:FILE"):
        resolve_target("local:", None, None, "acme", tmp_path, env={})


def test_flags_win_over_environment() -> None:
    env = {**CREDS, "FLEXCTL_API_URL": "http://127.0.0.1:9999/api/v2", "FLEXCTL_ORG": "env-org",
           "FLEXCTL_TOKEN_URL": "http://127.0.0.1:9999/token"}
    target = resolve_target("http://127.0.0.1:8765/api/v2/", "flag-org", "http://t/oauth", None,
                            None, env=env)
    assert target.api_url == "http://127.0.0.1:8765/api/v2/"
    assert target.org == "flag-org" and target.token_url == "http://t/oauth"
    from_env = resolve_target(None, None, None, None, None, env=env)
    assert from_env.api_url == "http://127.0.0.1:9999/api/v2" and from_env.org == "env-org"
    assert from_env.token_url == "http://127.0.0.1:9999/token"
    assert (from_env.client_id, from_env.client_secret) == ("cid", "top-secret-value")


def test_token_url_defaults() -> None:
    real = resolve_target("https://app.officernd.com/api/v2", None, None, "acme", None, env=CREDS)
    assert real.token_url == OFFICERND_TOKEN_URL == "https://identity.officernd.com/oauth/token"
    served = resolve_target("http://127.0.0.1:8765/api/v2", None, None, "acme", None, env=CREDS)
    assert served.token_url == "http://127.0.0.1:8765/oauth/token"


def test_org_flag_that_differs_from_the_config_is_refused() -> None:
    with pytest.raises(TargetError, match=r"--org is 'other'.*'harbor-works'.*refusing"):
        resolve_target(None, "other", None, "harbor-works", None, env={})
    with pytest.raises(TargetError, match="FLEXCTL_ORG is 'other'"):
        resolve_target(None, None, None, "harbor-works", None, env={"FLEXCTL_ORG": "other"})
    same = resolve_target(None, "harbor-works", None, "harbor-works", None, env={})
    assert same.org == "harbor-works"


def test_an_organization_is_required() -> None:
    with pytest.raises(TargetError, match="no organization"):
        resolve_target(None, None, None, None, None, env={})
    with pytest.raises(TargetError, match="invalid organization slug"):
        resolve_target(None, "a/b", None, None, None, env={})


def test_http_targets_need_credentials_and_name_the_variables() -> None:
    with pytest.raises(TargetError) as info:
        resolve_target("https://app.officernd.com/api/v2", None, None, "acme", None,
                       env={"FLEXCTL_CLIENT_ID": "cid"})
    message = str(info.value)
    assert "FLEXCTL_CLIENT_ID" in message and "missing: FLEXCTL_CLIENT_SECRET" in message


@pytest.mark.parametrize("url", ["ftp://x/api", "app.officernd.com/api/v2", "https://",
                                 "http://[::1/api/v2", "http://host:port/api/v2"])
def test_bad_api_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError, match="invalid --api-url") as info:
        resolve_target(url, None, None, "acme", None, env=CREDS)
    assert info.value.exit_code == 64  # a bad option value


@pytest.mark.parametrize("url", ["notaurl", "ftp://x/oauth/token", "https://u:p@x/oauth",
                                 "https://[x/oauth/token"])
def test_bad_token_urls_are_refused_before_any_request(url: str) -> None:
    with pytest.raises(UsageError, match="--token-url"):
        resolve_target("https://app.officernd.com/api/v2", None, url, "acme", None, env=CREDS)
    with pytest.raises(UsageError, match="FLEXCTL_TOKEN_URL"):
        resolve_target("https://app.officernd.com/api/v2", None, None, "acme", None,
                       env={**CREDS, "FLEXCTL_TOKEN_URL": url})


def test_api_url_with_credentials_is_refused() -> None:
    with pytest.raises(UsageError, match="must not contain credentials"):
        resolve_target("https://u:p@app.officernd.com/api/v2", None, None, "acme", None,
                       env=CREDS)


def test_secret_never_in_repr_or_description() -> None:
    target = resolve_target("https://app.officernd.com/api/v2", None, None, "acme", None,
                            env=CREDS)
    assert "top-secret-value" not in repr(target)
    assert "top-secret-value" not in str(target.describe())
    assert target.describe() == {"api_url": "https://app.officernd.com/api/v2", "org": "acme",
                                 "profile": None}


def test_default_scopes() -> None:
    real = Target(api_url="https://app.officernd.com/api/v2", org="a")
    served = Target(api_url="http://127.0.0.1:8765/api/v2", org="a")
    public, full = profile_scopes(Profile.OFFICERND), profile_scopes(Profile.FULL)
    assert default_scopes(real, env={}) == (public, None)
    assert "flex.billing.plans.read" in public
    assert "flex.billing.plans.create" not in public  # not grantable on the real API
    assert default_scopes(served, env={}) == (full, public)
    assert "flex.billing.plans.create" in full
    assert default_scopes(real, env={"FLEXCTL_SCOPES": "a.b, c.d e.f"}) == (
        ("a.b", "c.d", "e.f"), None)


def test_read_only_commands_ask_only_for_read_scopes() -> None:
    # plan and drift never write: a CI job's read-only application must be enough for them.
    real = Target(api_url="https://app.officernd.com/api/v2", org="a")
    served = Target(api_url="http://127.0.0.1:8765/api/v2", org="a")
    scopes, fallback = default_scopes(real, env={}, read_only=True)
    assert fallback is None and "flex.community.members.read" in scopes
    assert all(s.endswith(".read") for s in scopes)
    scopes, fallback = default_scopes(served, env={}, read_only=True)
    assert "flex.settings.organization.read" in scopes and fallback is not None
    assert all(s.endswith(".read") for s in (*scopes, *fallback))
    assert default_scopes(real, env={"FLEXCTL_SCOPES": "x.y.create"}, read_only=True) == (
        ("x.y.create",), None)  # an explicit list is taken as given


def test_target_options_decorator_collects_the_flags() -> None:
    seen: list[TargetOptions] = []

    @click.command()
    @target_options
    @click.argument("path", default=".")
    def cmd(path: str, target_opts: TargetOptions) -> None:
        seen.append(target_opts)

    result = CliRunner().invoke(cmd, ["cfg", "--api-url", "local:x.db", "--org", "acme",
                                      "--read-rate", "10/s"])
    assert result.exit_code == 0, result.output
    assert seen == [TargetOptions(api_url="local:x.db", org="acme", read_rate="10/s")]
    help_text = CliRunner().invoke(cmd, ["--help"]).output
    for flag in ("--api-url", "--org", "--token-url", "--read-rate", "--write-rate"):
        assert flag in help_text
    bad = CliRunner().invoke(cmd, ["--write-rate", "lots"])
    assert isinstance(bad.exception, UsageError)


def test_a_warning_is_shown_as_one_prefixed_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flexctl.cli import main

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "id")
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", "a-secret-value")
    example = Path(__file__).parents[2] / "examples" / "harbor-works"
    # A host that cannot be resolved: the run fails at once, after the warning.
    code = main(["plan", str(example), "--api-url", "http://flexctl-test.invalid/api/v2",
                 "--token-url", "http://flexctl-test.invalid/oauth/token"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 1
    assert lines[0] == "Warning: credentials will be sent without TLS to flexctl-test.invalid"
    assert lines[-1].startswith("Error: POST /oauth/token: cannot connect to "
                                "http://flexctl-test.invalid")
    assert len(lines) == 2
