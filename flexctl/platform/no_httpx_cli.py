"""Imported before httpx (by the modules that import it): flexctl skips httpx's CLI.

httpx's package imports its command-line tool (`httpx._main`: click, rich, pygments) whenever
those are installed, to offer `httpx.main`; flexctl never calls it. An entry of None in
`sys.modules` is Python's own way to make an import fail: httpx then takes its documented
fallback (a `main` that says the CLI is not installed), and flexctl does not pay for rich and
pygments on every start (~0.1 s CPU). A program that imported httpx first keeps its CLI.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
