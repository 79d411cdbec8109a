"""Start-up: `flexctl --help`, `flexctl validate` and `flexctl plan` import only what they use
(the timing is measured by bench/bench_startup.py; the imports are what a test can hold still)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "harbor-works"
HEAVY = ("pydantic", "httpx", "jinja2", "ruamel", "werkzeug", "yaml", "rich", "sqlite3")

_PROBE = """
import json, sys
from flexctl.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _imported(*args: str) -> tuple[int, set[str]]:
    env = {k: v for k, v in os.environ.items()
           if (not k.startswith("FLEXCTL_") and k != "PYDANTIC_DISABLE_PLUGINS")
           or k == "FLEXCTL_CACHE_DIR"}  # the test's own cache, never the user's
    run = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True,
                         check=False, timeout=60, env=env)
    found = json.loads(run.stderr.strip().splitlines()[-1])
    return found["code"], {name.split(".")[0] for name in found["modules"]} | set(
        name for name in found["modules"] if name.startswith("flexctl."))


def test_help_imports_no_command_and_no_heavy_library() -> None:
    code, modules = _imported("--help")
    assert code == 0
    assert not {name for name in modules if name.startswith("flexctl.commands.")} - {
        "flexctl.commands.helptext"}
    assert not modules & set(HEAVY)
    # --debug and errors load these when needed
    assert not modules & {"logging", "traceback", "dataclasses", "flexctl.errors"}


def test_validate_loads_no_http_stack_and_no_template_engine() -> None:
    code, modules = _imported("validate", str(EXAMPLE))
    assert code == 0
    assert {"pydantic", "yaml"} <= modules  # it does validate
    assert not modules & {"httpx", "jinja2", "werkzeug", "rich", "ruamel"}
    assert "flexctl.platform.client" not in modules
    assert not modules & {"logging", "traceback", "flexctl.config.schema"}


def test_plan_loads_no_template_engine_and_no_emulator_unless_asked() -> None:
    # Against an API (here one that refuses the connection) without --report: no jinja2 for
    # the report, no werkzeug for the embedded sandbox.
    code, modules = _imported("plan", str(EXAMPLE), "--api-url", "http://127.0.0.1:9/api/v2")
    assert code != 0
    assert "flexctl.commands.plan" in modules and "httpx" in modules
    assert not modules & {"jinja2", "werkzeug", "flexctl.emulator", "flexctl.reconcile.report"}


_PLUGINS_PROBE = """
import os, sys
from flexctl.cli import main
main(["--version"])
print(repr(os.environ.get("PYDANTIC_DISABLE_PLUGINS")), file=sys.stderr)
"""


def _plugins_setting(**given: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"} | given
    run = subprocess.run([sys.executable, "-c", _PLUGINS_PROBE], capture_output=True, text=True,
                         check=True, timeout=60, env=env)
    return run.stderr.strip().splitlines()[-1]


def test_pydantic_plugins_are_not_searched_for_unless_the_user_says() -> None:
    # The search reads the entry points of every installed distribution; flexctl's models take
    # no plugin. A value the user set (even empty: plugins on) is theirs.
    assert _plugins_setting() == "'__all__'"
    assert _plugins_setting(PYDANTIC_DISABLE_PLUGINS="") == "''"
    assert _plugins_setting(PYDANTIC_DISABLE_PLUGINS="logfire") == "'logfire'"
