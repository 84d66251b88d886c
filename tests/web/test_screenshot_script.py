"""docs/screenshot.py, which makes the README's picture (``make screenshot``), still runs: it
starts ``parley serve``, seeds a team through the API and writes a PNG of the page."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_screenshot", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_screenshot_script_writes_a_png_of_the_seeded_page(browser, tmp_path: Path) -> None:
    script = load_script()
    out = tmp_path / "shot.png"
    async with script.workspace() as (url, tokens), script.online(url, tokens, ["bob", "carol", "dan"]):
        await script.shoot(browser, url, out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (script.VIEWPORT["width"], script.VIEWPORT["height"])
