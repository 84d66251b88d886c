"""The browser tests' Chromium fixture, for the shipped nginx config driven by a real browser."""

from tests.web.conftest import browser, chromium

__all__ = ["browser", "chromium"]
