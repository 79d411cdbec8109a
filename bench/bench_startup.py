"""Benchmark: start-up of the `flexctl` program as a user installs it.

    .venv/bin/python bench/bench_startup.py [--runs 15]

A development checkout's virtual environment runs flexctl from an editable install, whose
import hook (a `.pth` file that site processes at every start) costs tens of milliseconds
before any of flexctl's code runs; a user's `pip install flexctl` has none. So the benchmark
lays flexctl out as a wheel installs it, in a fresh virtual environment of its own: the package
copied into site-packages, the console script pip writes, and the dependencies reachable from
the development environment by a plain path line (a `.pth` that imports nothing). Then it runs,
alternating, `flexctl --help`, `flexctl validate examples/harbor-works` and the floor,
`python -c pass` in the same environment, and prints each one's median and best wall time.
Its caches are in a directory of its own: `validate` reads the configuration the warm-up stored
(see docs/writing-configuration.md, the loaded-configuration cache), as a user's next run does.
Targets: `flexctl --help` under 150 ms, `flexctl validate examples/harbor-works` under 350 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "harbor-works"
TARGETS = {"flexctl --help": 0.150, "flexctl validate examples/harbor-works": 0.350}
# What pip writes as the `flexctl` console script of an installed wheel.
SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from flexctl.cli import entry
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(entry())
"""


def installed(into: Path) -> Path:
    """A fresh virtual environment with flexctl laid out as its wheel installs it; its bin/."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(into)], check=True)
    python = into / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    shutil.copytree(ROOT / "flexctl", site / "flexctl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([str(python), "-m", "compileall", "-q", str(site / "flexctl")], check=True)
    # The dependencies, from this environment: a path line, as any installed library is found.
    (site / "flexctl-bench-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = into / "bin" / "flexctl"
    script.write_text(SCRIPT.format(python=python))
    script.chmod(0o755)
    found = subprocess.run([str(python), "-c", "import flexctl; print(flexctl.__file__)"],
                           check=True, capture_output=True, text=True, cwd=into).stdout.strip()
    if not found.startswith(str(site)):  # the copy, not the checkout's editable install
        raise SystemExit(f"flexctl was imported from {found}, not from {site}")
    return into / "bin"


def wall(command: list[str], env: dict[str, str], cwd: Path) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False, cwd=cwd)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLEXCTL_", "PYTHON"))}
    with tempfile.TemporaryDirectory() as tmp:
        env["FLEXCTL_CACHE_DIR"] = str(Path(tmp) / "cache")  # never the user's cache
        bin_dir = installed(Path(tmp) / "venv")
        commands = {
            "python -c pass (floor)": [str(bin_dir / "python"), "-c", "pass"],
            "flexctl --help": [str(bin_dir / "flexctl"), "--help"],
            "flexctl validate examples/harbor-works": [str(bin_dir / "flexctl"), "validate",
                                                       str(EXAMPLE)],
        }
        for command in commands.values():  # warm the page cache and the bytecode
            wall(command, env, Path(tmp))
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(wall(command, env, Path(tmp)))
    floor = statistics.median(times["python -c pass (floor)"])
    ok = True
    print(f"wall seconds over {args.runs} runs each, alternating (flexctl installed as a "
          "wheel installs it)")
    for name, runs in times.items():
        median = statistics.median(runs)
        line = (f"  {name:40} median {median:.3f} s, best {min(runs):.3f} s "
                f"({median / floor:.1f}x the floor)")
        target = TARGETS.get(name)
        if target is not None:
            met = median < target
            ok = ok and met
            line += f"; target under {target * 1000:.0f} ms: {'met' if met else 'NOT met'}"
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
