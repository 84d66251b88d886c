"""``parley backup DIR`` and ``parley restore DIR`` (PROTOCOL.md section 16; docs/deploy.md "Backups").

A backup directory holds what a restored server needs to carry on where the old one was:

- ``parley.db``: a consistent snapshot of the SQLite database, taken with SQLite's online backup
  API while the server runs and takes sends (``db/backup.py``). On PostgreSQL the database is not
  copied: the command prints the ``pg_dump -Fc`` command for the configured database, which
  writes ``parley.pgdump`` into the same directory.
- ``files/``: the file store (``PARLEY_FILES_DIR``, default ``<data dir>/files``) without the
  uploads still being received (``tmp/``). Blobs are content-addressed and never rewritten, so
  copying them after the snapshot is safe: a blob is at most extra (uploaded since), or missing
  when a cleanup removed it meanwhile (or an upload's row was committed before its blob was in
  place); the manifest counts those and the command says so.
- the keys the server generated into its data directory (the JWT secret: issued tokens stay
  valid; the VAPID key: browsers' push subscriptions keep working). A secret given by a setting
  is not in the data directory and not in the backup: it stays with the configuration.
- ``manifest.json``, written last (a directory without one is an interrupted backup): when, the
  schema revision, a few counts, the database file's SHA-256.

A restore goes into an empty data directory only, and checks the manifest and the database's
hash first, and drops the copied servers' heartbeat rows (no server runs on the copy yet);
``parley serve`` then starts on it and migrates a backup of an older schema.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shlex
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server import __version__
from server.cli.operator import CommandError
from server.config import SECRET_FILE, VAPID_KEY_FILE, Settings

if TYPE_CHECKING:
    from server.cli.operator import Actions, Operator

MANIFEST = "manifest.json"
FORMAT = "parley-backup"
VERSION = 1
DATABASE = "parley.db"
FILES = "files"
PG_DUMP = "parley.pgdump"
STAGING = "tmp"  # the file store's uploads being received: not part of any message yet


PLACE = 20  # where ``parley --help`` lists the group, after the built-in commands (cli/__init__.py)


def commands(sub: Actions, _operator: Operator) -> None:
    backup = sub.add_parser(
        "backup",
        help="copy the database and the files into a new directory",
        description=(
            "Copy a consistent snapshot of the SQLite database (while the server runs), the files "
            "directory and the keys kept in the data directory into DIR, which must be new or empty. "
            "On PostgreSQL, copy the files and keys and print the pg_dump command for the database."
        ),
    )
    backup.add_argument("dir", type=Path, metavar="DIR")
    backup.set_defaults(run=_refusing_os_errors(backup_command))
    restore = sub.add_parser(
        "restore",
        help="restore a backup into an empty data directory",
        description=(
            "Check DIR's manifest and copy its database, files and keys into the configured data "
            "directory, which must be empty (or not exist yet). Then start `parley serve`."
        ),
    )
    restore.add_argument("dir", type=Path, metavar="DIR")
    # main() must not generate a JWT secret into the data directory this command needs empty
    restore.set_defaults(run=_refusing_os_errors(restore_command), fresh_data_dir=True)


def _refusing_os_errors(command: Callable[[argparse.Namespace, Settings], int]) -> Any:
    """A file system that refuses (permissions, a full disk) is reported in one line, not a traceback."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return command(args, settings)
        except OSError as exc:
            raise CommandError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None

    return run


# --- backup ---------------------------------------------------------------------------------------


def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    target: Path = args.dir
    files_dir = settings.resolved_files_dir
    if _inside(target, files_dir):
        raise CommandError(f"{target} is inside the files directory {files_dir}: choose another place")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(f"{target} is not empty: a backup goes into a new or empty directory")
    database = _sqlite_database(settings)
    if database is not None and not database.is_file():
        raise CommandError(f"there is no database at {database}: nothing to back up")
    with _undone_on_failure(target):
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        blobs: frozenset[str] = frozenset()  # the blobs the database snapshot names
        if database is not None:
            manifest, lines, blobs = _back_up_sqlite(database, target)
        else:
            manifest, lines = _postgres_advice(settings, target)
        copied = _copy_store(files_dir, target / FILES)
        manifest["files"] = {"dir": FILES, "count": copied.count, "bytes": copied.bytes}
        missing = blobs - copied.hashes
        if missing:
            manifest["files"]["missing"] = len(missing)
            lines.append(
                f"note: {len(missing)} file(s) the database names were not in the files directory "
                "when it was copied (a cleanup or an upload finishing meanwhile); they are not in it"
            )
        manifest["keys"], notes = _copy_keys(settings, target)
        lines += notes
        _write_json(target / MANIFEST, manifest)
    summary = f"backup in {target}: {copied.count} file(s) ({copied.bytes} bytes)"
    sys.stdout.write("\n".join([summary, *lines]) + "\n")
    return 0


def _back_up_sqlite(database: Path, target: Path) -> tuple[dict[str, Any], list[str], frozenset[str]]:
    from db.backup import snapshot

    partial = target / f".{DATABASE}.partial"
    try:
        taken = snapshot(database, partial)
    except sqlite3.Error as exc:
        raise CommandError(f"the database could not be copied: {exc}") from None
    os.chmod(partial, 0o600)  # password hashes, messages: for the operator only
    os.replace(partial, target / DATABASE)
    counts = ", ".join(f"{count} {name}" for name, count in taken.counts.items())
    manifest = _manifest_head() | {
        "database": {
            "kind": "sqlite",
            "file": DATABASE,
            "revision": taken.revision,
            "sha256": taken.sha256,
            "bytes": taken.size,
        },
        "counts": taken.counts,
    }
    return manifest, [f"database: {DATABASE} at revision {taken.revision} ({counts})"], taken.blobs


def _postgres_advice(settings: Settings, target: Path) -> tuple[dict[str, Any], list[str]]:
    uri, has_password = _libpq_uri(settings.resolved_database_url)
    dump = target / PG_DUMP
    manifest = _manifest_head() | {"database": {"kind": "postgresql", "dump": PG_DUMP}}
    lines = [
        "the database is PostgreSQL: parley backup copies the files and keys only. Dump the "
        "database into the same directory with:",
        f"  pg_dump -Fc --file={shlex.quote(str(dump))} {shlex.quote(uri)}",
    ]
    if has_password:
        lines.append("  (the password is not shown: give it in PGPASSWORD or ~/.pgpass)")
    return manifest, lines


def _manifest_head() -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"format": FORMAT, "version": VERSION, "created_at": now, "parley": __version__}


@dataclass
class Copied:
    count: int = 0
    bytes: int = 0
    hashes: set[str] = field(default_factory=set)  # the names of the blobs and thumbnails copied


def _copy_store(source: Path, target: Path) -> Copied:
    """Copy the file store's blobs and thumbnails (not its ``tmp/``), skipping any that vanish."""
    copied = Copied()
    target.mkdir(mode=0o700, exist_ok=True)
    if not source.is_dir():
        return copied
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if relative.parts[0] == STAGING or not path.is_file():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(path, destination)
        except FileNotFoundError:
            continue  # removed by the cleanup since it was listed
        copied.count += 1
        copied.bytes += destination.stat().st_size
        copied.hashes.add(path.name)
    return copied


def _kept_keys_names() -> tuple[str, str]:
    """The key files a server keeps in its data directory: the JWT secret, the VAPID key."""
    return SECRET_FILE, VAPID_KEY_FILE


def _kept_keys(settings: Settings) -> dict[str, bool]:
    """The key files, each with whether a setting gives that key instead."""
    secret, vapid = _kept_keys_names()
    return {secret: bool(settings.jwt_secret), vapid: settings.vapid_private_key is not None}


def _copy_keys(settings: Settings, target: Path) -> tuple[list[str], list[str]]:
    copied, notes = [], []
    for name, given in _kept_keys(settings).items():
        source = settings.data_dir / name
        if source.is_file():
            shutil.copy2(source, target / name)
            os.chmod(target / name, 0o600)
            copied.append(name)
        if given:
            notes.append(
                f"note: {name} is given by a setting, not kept in the data directory: keep that "
                "setting with your configuration (it is not in the backup)"
            )
    return copied, notes


# --- restore --------------------------------------------------------------------------------------


def restore_command(args: argparse.Namespace, settings: Settings) -> int:
    source: Path = args.dir
    manifest = _read_manifest(source)
    kind = manifest["database"]["kind"]
    database = _sqlite_database(settings)
    if kind == "sqlite" and database is None:
        raise CommandError(
            f"{source} holds an SQLite database but PARLEY_DATABASE_URL names PostgreSQL: restore "
            "it with the SQLite default (PARLEY_DATABASE_URL unset)"
        )
    if kind == "postgresql" and database is not None:
        raise CommandError(
            f"{source} is a PostgreSQL backup (files and keys only): configure PARLEY_DATABASE_URL"
        )
    _refuse_unless_empty(settings, database)
    if kind == "sqlite":
        _check_database(source, manifest["database"])
    lines: list[str] = []
    with _undone_on_failure(settings.data_dir), _undone_on_failure(settings.resolved_files_dir):
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if database is not None:
            _copy_file(source / DATABASE, database)
            revision = _check_restored(database, manifest["database"])
            _forget_servers(database)
            lines.append(f"database {database} at revision {revision}; `parley serve` migrates it if older")
        else:
            lines += _pg_restore_advice(settings, source)
        copied = _copy_store(source / FILES, settings.resolved_files_dir)
        for name in manifest["keys"]:  # names _read_manifest checked: no path leads elsewhere
            _copy_file(source / name, settings.data_dir / name)
    head = f"restored the backup of {manifest['created_at']} into {settings.data_dir}"
    sys.stdout.write(
        "\n".join([head, *lines, f"{copied.count} file(s); start it with `parley serve`"]) + "\n"
    )
    return 0


def _read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise CommandError(
            f"{source} holds no backup: there is no {MANIFEST} in it (an interrupted backup has none)"
        )
    try:
        manifest = json.loads(path.read_text())
        if manifest["format"] != FORMAT or not isinstance(manifest["database"]["kind"], str):
            raise ValueError("not a Parley backup")
        if manifest["version"] > VERSION:
            raise CommandError(
                f"{source} was written by a newer Parley (backup format {manifest['version']})"
            )
        if manifest["database"]["kind"] not in ("sqlite", "postgresql"):
            raise ValueError(f"unknown database kind {manifest['database']['kind']!r}")
        unknown = set(manifest.setdefault("keys", [])) - set(_kept_keys_names())
        if unknown:
            raise ValueError(f"unknown key files {sorted(unknown)}")
        return dict(manifest)
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"{path} is not a Parley backup manifest: {exc}") from None


def _check_database(source: Path, described: dict[str, Any]) -> None:
    from db.backup import file_sha256, known_revisions

    path = source / DATABASE
    if not path.is_file():
        raise CommandError(f"{path} is missing: the backup is incomplete")
    if file_sha256(path) != described.get("sha256"):
        raise CommandError(f"{path} is not the file the backup wrote (its SHA-256 differs): it is damaged")
    revision = described.get("revision")
    if revision is not None and revision not in known_revisions():
        raise CommandError(
            f"the backup's schema revision {revision} is unknown to this Parley ({__version__}): "
            "restore it with the version that made it, or a newer one"
        )


def _check_restored(database: Path, described: dict[str, Any]) -> str:
    """The restored file's schema revision, once it is seen to be a Parley database at the revision
    the manifest names; else ``CommandError`` (the caller then empties the data directory again)."""
    from db.backup import NotParley, known_revisions, parley_revision

    try:
        revision = parley_revision(database, known_revisions())
    except NotParley as exc:
        raise CommandError(f"the backup's {DATABASE} is not a Parley database: {exc}") from None
    expected = described.get("revision")
    if expected is not None and revision != expected:
        raise CommandError(
            f"the backup's {DATABASE} is at schema revision {revision}, its manifest says {expected}: "
            "it is not the database this backup wrote"
        )
    return revision


def _forget_servers(database: Path) -> None:
    """Drop the restored copy's heartbeat rows (the ``node`` table, ``parley stats``' servers).

    A backup of a running server holds that server's row, which says it beat a moment ago: on the
    copy ``parley stats`` reported it as running until ``PARLEY_PRESENCE_TTL`` went by, though no
    server has served this database yet. The rows describe the processes on the source, never the
    copy, so the restore removes them (a backup of an older schema may have no such table).
    """
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        if connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'node'"
        ).fetchone():
            connection.execute("DELETE FROM node")


def _refuse_unless_empty(settings: Settings, database: Path | None) -> None:
    places = [settings.data_dir, settings.resolved_files_dir]
    for place in places:
        if place.exists() and (not place.is_dir() or any(place.iterdir())):
            raise CommandError(
                f"{place} is not empty: restore goes into an empty data directory only (move the "
                "current one aside, or point PARLEY_DATA_DIR at a new one)"
            )
    if database is not None and database.exists():
        raise CommandError(f"there is a database at {database} already: restore into an empty place only")


def _pg_restore_advice(settings: Settings, source: Path) -> list[str]:
    uri, has_password = _libpq_uri(settings.resolved_database_url)
    dump = source / PG_DUMP
    lines = [
        "the database is PostgreSQL: restore it with:",
        f"  pg_restore --clean --if-exists --dbname={shlex.quote(uri)} {shlex.quote(str(dump))}",
    ]
    if not dump.is_file():
        lines.append(f"  ({dump} is not there: use the dump you made with pg_dump -Fc)")
    if has_password:
        lines.append("  (the password is not shown: give it in PGPASSWORD or ~/.pgpass)")
    return lines


# --- shared ---------------------------------------------------------------------------------------


def _sqlite_database(settings: Settings) -> Path | None:
    """The SQLite file of the configured database, or None for PostgreSQL."""
    from db.backup import sqlite_path

    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is None and not url.startswith("postgresql"):
        raise CommandError("parley backup and restore know SQLite files and PostgreSQL only")
    return path


def _libpq_uri(url: str) -> tuple[str, bool]:
    """The configured URL as pg_dump and pg_restore take it: no driver, no password shown."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), parsed.password is not None


def _copy_file(source: Path, target: Path) -> None:
    """Copy through a temporary name, then rename: a crash leaves no half file under the real name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copy2(source, partial)
    os.chmod(partial, 0o600)
    os.replace(partial, target)


def _write_json(path: Path, value: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w") as handle:
        json.dump(value, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


@contextlib.contextmanager
def _undone_on_failure(place: Path) -> Iterator[None]:
    """``place`` is new or empty when this starts: if the work fails, it is left that way again."""
    existed = place.exists()
    try:
        yield
    except BaseException:
        if place.is_dir():
            for entry in place.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            if not existed:
                with contextlib.suppress(OSError):
                    place.rmdir()
        raise
