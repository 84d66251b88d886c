"""``make test`` uses the local services it finds and says what it skipped and how to run it."""

from __future__ import annotations

import os

import pytest

from tests import services


def test_a_service_on_a_closed_port_is_not_used():
    assert services._postgres_answers("postgresql+asyncpg://postgres@127.0.0.1:1/test") is False
    assert services._redis_answers("redis://127.0.0.1:1/0") is False


def test_the_local_services_ci_names_answer():
    for env, answers in (
        (services.POSTGRES_ENV, services._postgres_answers),
        (services.REDIS_ENV, services._redis_answers),
    ):
        url = os.environ.get(env)
        if not url:
            pytest.skip(f"{env} is not set and nothing answers on the default port")
        assert answers(url) is True


def test_skips_are_counted_by_what_they_miss_with_how_to_run_them():
    reasons = [
        "PARLEY_TEST_DATABASE_URL is not set (e.g. postgresql+asyncpg://...)",
        "PARLEY_TEST_DATABASE_URL is not set (e.g. postgresql+asyncpg://...)",
        "no system Chromium (/usr/bin/chromium): apt-get install -y chromium",
        "something else entirely",
    ]
    assert services.skip_summary(reasons) == [
        f"2 skipped for want of PARLEY_TEST_DATABASE_URL: {services.HOW['PARLEY_TEST_DATABASE_URL']}",
        "1 skipped for want of chromium: apt-get install chromium",
        "1 skipped for want of something else entirely: see the reason above",
    ]
