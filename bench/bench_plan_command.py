"""Benchmark: the whole `flexctl plan` command against an emulator served from another process.

    .venv/bin/python bench/bench_plan_command.py [--scales 1,2] [--companies 2000 --members 10000
                                                  --memberships 12000 --fees 30000]
                                                 [--changed 0.01]

For each scale (1x = the snapshot benchmark's organization: 2,000 companies, 10,000 members,
12,000 memberships, 30,000 fees), seeds a served emulator (its own process) with the
organization, writes the configuration as YAML with a share of its objects changed, and runs
`flexctl plan` as a process of its own against it (unpaced, so reading is not rate-limited),
with an empty snapshot cache (a full read). Then it changes 1% of the objects directly on the
emulator (updates and creates, as `bench_paced.py` does) and runs `flexctl plan` again: an
incremental read through the cache the first run left. Prints each process's CPU seconds and
peak RSS (from the kernel's accounting of it alone), the wall seconds, and their floors and
ratios. Targets: at 1x under 4.5 s CPU for the full plan and under 3 s for the incremental
one; at 2x peak memory under 500 MB. Floors: the CPU of `python -c "import flexctl.session"` (what
any plan pays before it reads a byte) and that process's peak RSS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

# Run as a script, this directory is on sys.path: reuse the other benchmarks' pieces.
from bench_paced import change_live
from bench_plan import change_share
from bench_snapshot import ORG, generate_config_data, org_parser, seed
from served import served

from flexctl.emulator.app import Emulator
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import config_model
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client

CPU_TARGET_1X = 4.5
INCREMENTAL_CPU_TARGET_1X = 3.0
UNPACED = "1000000/min"
MEMORY_TARGET_2X_MB = 500


def flow(value: Any) -> str:
    """`value` as one line of YAML flow style (strings double-quoted, decimals exact)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_config(data: dict[str, Any], directory: Path) -> float:
    """The configuration as YAML, one line per object; returns its size in MB."""
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            lines.append(f"{key}:")
            lines += [f"  {name}: {flow(item)}" for name, item in value.items()]
        else:
            lines.append(f"{key}: {flow(value)}")
    text = "\n".join(lines) + "\n"
    (directory / "flexctl.yaml").write_text(text, encoding="utf-8")
    return len(text.encode()) / 1e6


def measured(command: Sequence[str], env: dict[str, str]) -> tuple[int, float, float, float]:
    """(exit code, CPU seconds, peak RSS MB, wall seconds) of `command` as its own process."""
    began = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - began
    if child.returncode not in (0, 2):
        sys.stderr.write(err.decode(errors="replace"))
    return child.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, wall


def _change_live(url: str, share: float) -> int:
    """Update and create `share` of the objects directly on the served emulator."""
    target = Target(api_url=f"{url}/api/v2", org=ORG, token_url=f"{url}/oauth/token",
                    client_id="emulator", client_secret="emulator")
    with open_client(target, scopes=profile_scopes(Profile.FULL), read_rate=UNPACED,
                     write_rate=UNPACED) as client:
        return change_live(client, share)


def figure(label: str, value: float, unit: str, floor: float, target: float | None) -> bool:
    """Print one figure with its ratio to the floor and, if it has one, its target; whether
    the target is met (True without one)."""
    width = 6 if unit == "s" else 4
    shown = f"{value:{width}.2f} {unit} " if unit == "s" else f"{value:{width + 2}.0f} {unit}"
    line = f"  {label} {shown} ({value / floor:.1f}x the floor)"
    met = target is None or value < target
    if target is not None:
        line += f"; target under {target} {unit}: {'met' if met else 'NOT met'}"
    print(line)
    return met


def main(argv: list[str] | None = None) -> int:
    parser = org_parser(__doc__ or "")
    parser.add_argument("--scales", default="1,2", help="comma-separated multiples of 1x")
    parser.add_argument("--changed", type=float, default=0.01)
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXCTL_")}
    env.update(FLEXCTL_CLIENT_ID="emulator", FLEXCTL_CLIENT_SECRET="emulator")
    python = sys.executable
    _, floor_cpu, floor_mb, _ = measured([python, "-c", "import flexctl.session"], env)
    print(f"floor: `import flexctl.session` {floor_cpu:.2f} s CPU, {floor_mb:.0f} MB peak")
    ok = True
    for scale in (int(s) for s in args.scales.split(",")):
        data = generate_config_data(args.companies * scale, args.members * scale,
                                    args.memberships * scale, args.fees * scale)
        config = config_model().model_validate(data, strict=False)

        def setup(app: Emulator, config: Any = config) -> None:
            seed(app, ORG, config)
            app.clock.advance(3600)  # the seeding is long past: not a change the next read sees

        edited = change_share(data, args.changed)
        with (tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cache,
              served((ORG,), setup) as emulator):
            megabytes = write_config(data, Path(tmp))
            command = [python, "-m", "flexctl", "plan", tmp, "--api-url",
                       f"{emulator.url}/api/v2", "--read-rate", UNPACED,
                       "--detailed-exitcode"]
            run_env = {**env, "FLEXCTL_CACHE_DIR": cache}
            code, cpu, peak, wall = measured(command, run_env)
            reads = int(emulator.current_stats()["reads"])
            inc_code = 0
            if code == 2:
                live = _change_live(emulator.url, args.changed)
                before = int(emulator.current_stats()["reads"])
                inc_code, inc_cpu, inc_peak, inc_wall = measured(command, run_env)
                inc_reads = int(emulator.current_stats()["reads"]) - before
        if code != 2 or inc_code != 2:
            print(f"{scale}x: plan exited {code}, then {inc_code} (expected 2: changes present)")
            return 1
        print(f"{scale}x: {megabytes:.1f} MB of YAML, {edited} objects changed, {reads} reads")
        ok = figure("CPU     ", cpu, "s", floor_cpu, CPU_TARGET_1X if scale == 1 else None) and ok
        ok = figure("peak RSS", peak, "MB", floor_mb,
                    MEMORY_TARGET_2X_MB if scale == 2 else None) and ok
        print(f"  wall     {wall:6.2f} s")
        print(f"  incremental plan after {live} objects changed on the emulator: "
              f"{inc_reads} reads")
        ok = figure("CPU     ", inc_cpu, "s", floor_cpu,
                    INCREMENTAL_CPU_TARGET_1X if scale == 1 else None) and ok
        figure("peak RSS", inc_peak, "MB", floor_mb, None)
        print(f"  wall     {inc_wall:6.2f} s  (emulator CPU {emulator.cpu:.2f} s for both runs "
              "and the changes, its own process)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
