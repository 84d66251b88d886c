"""The durations table sums a JUnit report per file and per kind of test file."""

from __future__ import annotations

from pathlib import Path

from tests.durations import file_times, kind_of, table

REPORT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.web.test_chat" name="test_a" time="4.5" />
<testcase classname="tests.web.test_chat" name="test_b[x]" time="1.5" />
<testcase classname="tests.test_support.TestThing" name="test_c" time="0.25" />
</testsuite></testsuites>"""


def test_each_file_gets_its_tests_and_their_seconds(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    report.write_text(REPORT)

    assert file_times(report) == {"tests/web/test_chat.py": (2, 6.0), "tests/test_support.py": (1, 0.25)}


def test_a_file_is_of_the_costliest_kind_it_starts() -> None:
    assert kind_of("tests/web/test_chat.py") == "Chromium"
    assert kind_of("tests/durability/test_kill9.py") == "kill -9"
    assert kind_of("tests/test_config.py") == "in-process"
    assert kind_of("tests/no_such_file.py") == "in-process"


def test_the_table_puts_the_costliest_kind_and_file_first(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    report.write_text(REPORT)

    lines = table(report).splitlines()

    assert lines[1].split()[0] == "Chromium" and lines[1].split()[-2:] == ["6", "96.0%"]
    assert lines[3].split() == ["all", "2", "3", "6"]
    assert lines[6].split()[0] == "tests/web/test_chat.py"
