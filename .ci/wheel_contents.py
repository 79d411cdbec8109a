"""CI: the wheel holds every file of the package that git tracks (code, package data, py.typed).

Usage: python3 .ci/wheel_contents.py dist/flexctl-*.whl (run from the repository's root).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile


def main(wheel: str) -> int:
    tracked = subprocess.run(["git", "ls-files", "flexctl"], capture_output=True, text=True,
                             check=True).stdout.split()
    packaged = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(name for name in tracked if name not in packaged)
    for name in missing:
        print(f"missing from the wheel: {name} (list it under [tool.setuptools.package-data])",
              file=sys.stderr)
    if not missing:
        print(f"{wheel}: every one of the {len(tracked)} files of the package is in the wheel")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
