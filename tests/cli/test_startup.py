"""What ``parley`` loads before it runs a command: the suite starts it hundreds of times.

Every command that does not serve stays off the web and realtime stacks (FastAPI, Starlette,
uvicorn, python-socketio, engineio), off Redis without ``PARLEY_REDIS_URL``, and ``--help`` off
the chat service and the database layer too. Each check runs in a fresh interpreter, where
``sys.modules`` holds only what the command loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.runner import place_in

WEB = {"fastapi", "starlette", "uvicorn", "socketio", "engineio"}
DATABASE = {"sqlalchemy", "sqlmodel", "alembic", "db"}


def loaded_after(code: str, **options: Any) -> Any:
    """Run ``code`` in a new interpreter; it prints one JSON document as its last line."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, **options
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_command_line_loads_no_web_or_realtime_stack():
    result = loaded_after(
        "import json, sys, server.cli; print(json.dumps({'modules': sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {sorted(WEB)!r})}}))"
    )
    assert result["modules"] == []


def test_help_loads_neither_the_chat_service_nor_the_database_layer():
    result = loaded_after(
        "import contextlib, io, json, sys\n"
        "from server.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit as exc:\n"
        "        code = exc.code\n"
        "print(json.dumps({'code': code, 'help': out.getvalue(), 'modules': sorted(sys.modules)}))\n"
    )
    assert result["code"] == 0
    assert "serve" in result["help"] and "bot" in result["help"]
    modules: list[str] = result["modules"]
    assert [m for m in modules if m.split(".")[0] in WEB | DATABASE] == []
    assert "server.chat.service" not in modules


def test_a_database_command_without_redis_loads_neither_the_web_stack_nor_redis(tmp_path: Path):
    place = place_in(tmp_path)
    result = loaded_after(
        "import json, sys\n"
        "from server.cli import main\n"
        "code = main(['user', 'list', '--json'])\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n",
        cwd=place.cwd,
        env=place.env,
    )
    assert result["code"] == 0
    modules: list[str] = result["modules"]
    assert "server.chat.service" in modules  # it did build the chat
    assert [m for m in modules if m.split(".")[0] in WEB | {"redis"}] == []
    # PostgreSQL's driver: only db/reads_postgres.py and db/sends_postgres.py import it
    assert [m for m in modules if m.split(".")[0] == "asyncpg"] == []
