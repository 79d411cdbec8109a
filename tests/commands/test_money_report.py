"""`flexctl plan --report FILE.html`, opened by a real headless browser (Debian's `chromium`;
`.ci/run` installs it): the rendered page shows the summary figures and the customer rows, its
screenshot is not blank and shows the chart, and nothing from the platform or the config
becomes markup. Two browser launches in all: one dumps the DOM, one takes the screenshot."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.commands.money_scenario import AS_OF, rich
from tests.commands.plan_helpers import Sandbox, make_sandbox

BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")
AFTER_BAR = (0x2F, 0x6F, 0xDE)  # the chart's "after" colour
HOSTILE = "Liam <img src=x onerror=alert(1)> Walsh"


def chromium(tmp_path: Path, *args: str) -> str:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("the report test needs Debian's chromium: apt-get install -y chromium "
                    "(.ci/run installs it)")
    done = subprocess.run(
        [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_rows(data: bytes) -> tuple[int, list[bytes]]:
    """The pixel rows of an 8-bit RGB or RGBA PNG (what chromium writes), and the channels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, bytearray()
    width = height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(bytes(idat)), width * channels
    rows, prev, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, row = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        unfilter(kind, row, prev, channels)
        rows.append(bytes(row))
        prev = row
    return channels, rows


def unfilter(kind: int, row: bytearray, prev: bytearray, bpp: int) -> None:
    """Undo one scanline's PNG filter in place (None, Sub, Up, Average, Paeth)."""
    for x in range(len(row)):
        left = row[x - bpp] if x >= bpp else 0
        up, corner = prev[x], prev[x - bpp] if x >= bpp else 0
        if kind == 1:
            row[x] = (row[x] + left) & 255
        elif kind == 2:
            row[x] = (row[x] + up) & 255
        elif kind == 3:
            row[x] = (row[x] + ((left + up) >> 1)) & 255
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            row[x] = (row[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) \
                & 255


@pytest.fixture
def report(tmp_path: Path, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> Path:
    sandbox: Sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    rich(sandbox)
    sandbox.edit("customers/members.yaml", "name: Liam Walsh", f"name: {HOSTILE}")
    path = tmp_path / "report.html"
    result = sandbox.run("plan", *AS_OF, "--report", str(path))
    assert result.code == 0, result.err
    assert f"Wrote the money report to {path}" in result.err
    return path


def test_the_report_is_self_contained(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"<[^>]*\b(src|href)=", html)  # no tag loads anything
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "Liam &lt;img src=x onerror=alert(1)&gt; Walsh" in html


@pytest.mark.slow
def test_a_headless_browser_renders_the_figures_and_the_chart(
    report: Path, tmp_path: Path
) -> None:
    dom = chromium(tmp_path, "--dump-dom", report.as_uri())
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))
    assert "Monthly run-rate 3050.00 3260.00 +210.00" in text
    assert "One-off charges added 11.19" in text and "One-off charges removed 15.00" in text
    assert "RETROACTIVE charged by the next bill run +3270.03" in text
    assert "Customers affected 6" in text
    assert "companies.acme 1750.00 420.00 -1330.00 0.00" in text
    assert "companies.lighthouse-labs 780.00 1850.00 +1070.00 0.00" in text
    assert "members.chen-wei 0.00 240.00 +240.00 +11.16" in text
    assert "MOVES MONEY NOW invoicing" in text
    assert "<img" not in dom  # the name from the config stayed text
    assert "Liam &lt;img src=x onerror=alert(1)&gt; Walsh" in dom
    assert dom.count("<rect") == 2 + 2 * 4 + 1  # legend, before/after for 4 plans, background

    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,900", report.as_uri())
    channels, rows = png_rows(shot.read_bytes())
    assert len(rows) == 900 and len(rows[0]) == 1200 * channels
    colours = {row[x:x + 3] for row in rows for x in range(0, len(row), channels)}
    assert len(colours) > 1, "the screenshot is blank"
    assert bytes(AFTER_BAR) in colours, "the chart's bars are not on the screenshot"


def test_a_report_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    result = sandbox.run("plan", "--report", str(tmp_path / "no" / "report.html"))
    assert result.code == 1
    assert "Error: cannot write the report" in result.err and "Traceback" not in result.err


def test_the_report_says_the_plan_is_blocked_and_what_that_means(report: Path) -> None:
    # The scenario trips a money guard: no change is left out of the figures, but apply makes
    # none of them without --force (blocked changes themselves: the text and markdown goldens).
    page = report.read_text(encoding="utf-8")
    assert re.search(r'<p id="blocked"><span class="flag">Blocked</span> a guard blocks the plan '
                     r"\(x above\): apply makes none of these changes unless it is re-run with "
                     r"--force\.</p>", page)
    assert "not counted" not in page.lower()


def test_the_report_shows_the_months_where_the_difference_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A price rise from a later month: today's run-rate does not move, so the summary's "from"
    # rows are the only place the report shows what the plan does to the monthly bill.
    sandbox: Sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    sandbox.seed()
    sandbox.edit("customers/members.yaml", "      - {plan: hot-desk, start: 2026-12-01}",
                 "      - {plan: hot-desk, start: 2026-12-01,\n"
                 "         changes: [{from: 2027-03-01, price: 270.00}]}")
    path = tmp_path / "report.html"
    result = sandbox.run("plan", "--as-of", "2026-12-15", "--report", str(path))
    assert result.code == 0, result.err
    turns = re.findall(r"from (\d{4}-\d{2}): ([+-]\d+\.\d{2}) a month", result.out)
    assert turns == [("2027-03", "+20.00")]
    page = re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))
    rows = re.findall(r'<tr class="turn"><td>from (\d{4}-\d{2})</td><td></td><td></td> '
                      r'<td class="num up">([+-]\d+\.\d{2}) a month</td></tr>', page)
    assert rows == turns
