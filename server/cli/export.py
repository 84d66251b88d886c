"""``parley export DIR`` (PROTOCOL.md section 16): everything, for an operator: every table of the
database as ``DIR/tables/<table>.jsonl`` (``db.dump``: one consistent snapshot) and the files
directory copied to ``DIR/files/`` (uploads in progress, ``tmp/``, and users' exports,
``exports/``, left out: they are copies of what the tables hold). It refuses a
``DIR`` that is not empty, and works while servers run: it reads, and the blobs it copies never
change once written (a blob removed meanwhile by the file cleanup is skipped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from server.cli.operator import Actions, CommandError, Operator
from server.config import Settings

PLACE = 30  # where ``parley --help`` lists the group, after the built-in commands (cli/__init__.py)


def commands(sub: Actions, _operator: Operator) -> None:
    export = sub.add_parser("export", help="write every table and the files to an empty directory")
    export.add_argument("directory", type=Path)
    export.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    target: Path = args.directory
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(f"{target} is not an empty directory")
    (target / "tables").mkdir(parents=True, exist_ok=True)
    rows = asyncio.run(_tables(settings, target / "tables"))
    copied = _copy_files(settings.resolved_files_dir, target / "files")
    summary = {"exported_at": datetime.now(UTC).isoformat(), "tables": rows, "files": copied}
    (target / "export.json").write_text(json.dumps(summary, indent=2) + "\n")
    total = sum(rows.values())
    sys.stdout.write(f"exported {len(rows)} tables ({total} rows) and {copied} files to {target}\n")
    return 0


async def _tables(settings: Settings, directory: Path) -> dict[str, int]:
    # Imported here: SQLAlchemy is a good part of a second of start (tests/cli/test_startup.py).
    from db.dump import dump
    from db.engine import make_engine

    engine = make_engine(settings.resolved_database_url)
    try:
        return await dump(engine, directory)
    finally:
        await engine.dispose()


def _copy_files(source: Path, target: Path) -> int:
    """Copy the files directory (without ``tmp/`` and ``exports/``); how many files were copied."""
    copied = 0

    def copy(src: str, dst: str) -> str:
        nonlocal copied
        with contextlib.suppress(FileNotFoundError):  # removed by the cleanup meanwhile
            shutil.copy2(src, dst)
            copied += 1
        return dst

    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("tmp", "exports"), copy_function=copy)
    else:
        target.mkdir()
    return copied
