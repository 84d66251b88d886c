"""The Dockerfile's steps, run without a Docker engine.

We cannot build the image here, so we check what can break silently: every
COPY source exists, ``pip install .`` yields a package that carries its
migrations, and the image's CMD with the image's ENV serves a ready server.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions(name: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.+)$", DOCKERFILE, re.MULTILINE)]


def _image_env() -> dict[str, str]:
    block = re.search(r"^ENV\s+((?:.*\\\n)*.*)$", DOCKERFILE, re.MULTILINE)
    assert block is not None
    pairs = re.findall(r"(\w+)=(\S+)", block.group(1))
    return dict(pairs)


def test_every_copy_source_is_in_the_repository() -> None:
    for line in _instructions("COPY"):
        if line.startswith("--from"):
            continue
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing"


def test_the_image_installs_the_package_and_runs_parley_serve() -> None:
    assert "pip install --no-cache-dir ." in DOCKERFILE
    assert _instructions("CMD") == ['["parley", "serve"]']


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install .`` as the image does it (dependencies come from the test venv)."""
    target = tmp_path_factory.mktemp("image-site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(ROOT)],
        check=True,
        cwd=build,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return target


def test_the_installed_package_carries_its_migrations(installed: Path) -> None:
    versions = installed / "db" / "migrations" / "versions"
    assert (installed / "db" / "migrations" / "env.py").is_file()
    assert any(versions.glob("0001_*.py"))


async def test_the_image_command_with_the_image_env_serves_a_ready_server(
    installed: Path, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **_image_env()}
    env.update(
        PYTHONPATH=str(installed),
        PARLEY_DATA_DIR=str(tmp_path / "data"),  # /data in the image
        PARLEY_HOST="127.0.0.1",
        PARLEY_PORT=str(port),
        PARLEY_WEB_DIR=str(ROOT / "web"),  # /app/web in the image
    )
    code = "import sys; from server.cli import main; sys.argv = ['parley', 'serve']; sys.exit(main())"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
            ready = await _poll_ready(http, process)
            assert ready.json()["status"] == "ready"
            assert (await http.get("/docs")).status_code == 200
        assert (tmp_path / "data" / "parley.db").is_file()
    finally:
        process.terminate()
        await process.wait()


async def _poll_ready(http: httpx.AsyncClient, process: asyncio.subprocess.Process) -> httpx.Response:
    for _ in range(200):  # bounded: at most ~20 s for start-up
        if process.returncode is not None:
            stderr = await process.stderr.read() if process.stderr else b""
            pytest.fail(f"the server exited: {stderr.decode()[-2000:]}")
        try:
            response = await http.get("/readyz")
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    pytest.fail("the server did not become ready")
