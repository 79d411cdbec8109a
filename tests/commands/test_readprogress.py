"""Progress while reading: live lines per collection on a terminal, a line now and then
otherwise, nothing for a quick read, and never on stdout."""

from __future__ import annotations

import io

from flexctl.commands.readprogress import ReadProgress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_quick_read_shows_nothing() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ReadProgress(out, tty=True, clock=clock)
    for page in range(1, 20):
        clock.now += 0.01
        progress("fees", page, 40)
    progress.done()
    assert out.getvalue() == ""


def test_a_terminal_gets_one_live_line_per_collection_with_the_time_left() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ReadProgress(out, tty=True, clock=clock)
    clock.now = 2.0
    progress("companies", 10, 40)
    clock.now = 2.5
    progress("memberships", 5, None)
    text = out.getvalue()
    assert "companies" in text and "10/40 pages" in text and "about 6 s left" in text
    assert "memberships" in text and "5 pages" in text
    assert "\x1b[2F" in text  # the second drawing rewrites the first (two lines) in place
    assert "15 pages read" in text


def test_without_a_terminal_a_line_every_few_seconds() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ReadProgress(out, tty=False, clock=clock)
    for step in range(1, 121):  # 12 s of reading, a page every 0.1 s
        clock.now = step / 10
        progress("fees", step, 600)
    lines = out.getvalue().splitlines()
    assert 2 <= len(lines) <= 3
    assert lines[0].startswith("Reading: fees ") and "/600 pages" in lines[0]
    assert "\x1b" not in out.getvalue()


def test_one_page_is_one_page() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ReadProgress(out, tty=False, clock=clock)
    clock.now = 10.0
    progress("companies", 1, None)
    assert out.getvalue() == "Reading: companies 1 page (1 page, 6/min)\n"
