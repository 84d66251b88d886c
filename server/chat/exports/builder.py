"""What an export's ZIP holds (PROTOCOL.md section 16), written entry by entry:

- ``profile.json``: the account and its profile (section 14), notification preferences and the
  email address (section 15);
- ``topics.json``: the user's memberships and roles;
- ``messages.jsonl``: one line per message the user sent that is not deleted, as it is now (an
  edited one's latest body), with its topic (a direct conversation's as ``"@other"``), ``seq``,
  times, what it replies to and the thread it is in, and the archive paths of its files;
- ``files/``: the user's uploads under their names (a name met twice gets `` (2)``...).

Rows are read a page at a time and each page handed to the archive, which writes in a thread; no
other user's messages are read at all, so nothing of anyone's private conversations but the
user's own messages can reach the ZIP.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from db.exports.repository import ExportRepository, SentMessage
from db.notifications.repository import PrefsRecord
from db.records import FileRecord, MembershipRecord, TopicRecord, UserRecord
from db.uow import Database
from server.chat.exports.ports import Archive
from server.chat.files.service import FileStore
from server.chat.kernel.views import iso

log = logging.getLogger("parley.exports")
PAGE = 500  # rows read per query


def _when(moment: datetime | None) -> str | None:
    """The wire's times (ISO 8601 UTC with ``Z``): SQLite hands back naive ones, which lost the Z."""
    return iso(moment)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


class Builder:
    """Writes one user's export into an ``Archive``."""

    def __init__(self, db: Database, files: FileStore | None, user_id: int, page: int = PAGE) -> None:
        self.db = db
        self.files = files
        self.user_id = user_id
        self.page = page  # rows per query
        self._names: dict[int, str] = {}  # usernames of direct partners, asked once each
        self._paths: dict[str, str] = {}  # a file's id -> its path in the archive
        self._taken: set[str] = set()

    async def write(self, archive: Archive) -> None:
        async with self.db.read() as repos:
            user = await repos.users.by_id(self.user_id)
            prefs = await repos.notifications.prefs(self.user_id)
            memberships = await repos.memberships.of_user(self.user_id)
        if user is None:
            raise LookupError(f"no user with id {self.user_id}")
        await self._files(archive)  # first: the profile and the messages name their files' paths
        await archive.add_bytes("profile.json", _json(profile(user, prefs, self._paths)))
        topics = [await self._membership(topic, member) for topic, member in memberships]
        await archive.add_bytes("topics.json", _json({"topics": topics}))
        await self._messages(archive)

    async def _files(self, archive: Archive) -> None:
        after = ""
        while True:
            async with self.db.read() as repos:
                page = await repos.of(ExportRepository).uploads_after(self.user_id, after, self.page)
            for record in page:
                await self._file(archive, record)
            if len(page) < self.page:
                return
            after = page[-1].id

    async def _file(self, archive: Archive, record: FileRecord) -> None:
        source = None if self.files is None else self.files.blob(record.sha256)
        if source is None:
            log.warning("an uploaded file's bytes are missing", extra={"file": record.id})
            return
        path = self._unique(f"files/{_safe(record.name)}")
        await archive.add_file(path, source)
        self._paths[record.id] = path

    def _unique(self, path: str) -> str:
        candidate, n = path, 1
        pure = PurePosixPath(path)
        while candidate in self._taken:
            n += 1
            candidate = str(pure.with_name(f"{pure.stem} ({n}){pure.suffix}"))
        self._taken.add(candidate)
        return candidate

    async def _messages(self, archive: Archive) -> None:
        await archive.begin("messages.jsonl")
        after = 0
        while True:
            async with self.db.read() as repos:
                page = await repos.of(ExportRepository).messages_after(self.user_id, after, self.page)
            lines = [json.dumps(await self._message(m), ensure_ascii=False).encode() + b"\n" for m in page]
            await archive.append(lines)
            if len(page) < self.page:
                break
            after = page[-1].id
        await archive.end()

    async def _message(self, message: SentMessage) -> dict[str, Any]:
        line: dict[str, Any] = {
            "id": message.id,
            "topic": await self._topic_name(message.topic, message.kind),
            "seq": message.seq,
            "body": message.body,
            "created_at": _when(message.created_at),
            "edited_at": _when(message.edited_at),
        }
        if message.type != "text":
            line["type"] = message.type
        if message.reply_to_id is not None:
            line["reply_to"] = message.reply_to_id
        if message.thread_root_id is not None:
            line["thread"] = message.thread_root_id
        files = [_attached(f, self._paths) for f in json.loads(message.files)] if message.files else []
        if files:
            line["files"] = files
        return line

    async def _membership(self, topic: TopicRecord, member: MembershipRecord) -> dict[str, Any]:
        return {
            "topic": await self._topic_name(topic.name, topic.kind),
            "kind": topic.kind,
            "role": member.role,
            "joined_at": _when(member.joined_at),
            "notify": member.notify_level,
        }

    async def _topic_name(self, name: str, kind: str) -> str:
        """A topic's name; a direct conversation's is ``"@"`` and the other member's username."""
        if kind != "direct":
            return name
        ids = [int(part) for part in name.split(":")[1:]]
        other = next((i for i in ids if i != self.user_id), self.user_id)
        if other not in self._names:
            async with self.db.read() as repos:
                found = await repos.users.by_id(other)
            self._names[other] = found.username if found is not None else "[deleted]"
        return "@" + self._names[other]


def profile(user: UserRecord, prefs: PrefsRecord, paths: dict[str, str]) -> dict[str, Any]:
    """``profile.json``: the account, its profile (section 14; the avatar as its file's id and
    place in the archive) and its notification settings and email address (section 15)."""
    status = None
    if user.status_text is not None:
        status = {
            "emoji": user.status_emoji,
            "text": user.status_text,
            "expires_at": _when(user.status_expires_at),
        }
    avatar = user.avatar_file_id
    quiet = None
    if prefs.quiet_from is not None and prefs.quiet_to is not None:
        quiet = {"from": prefs.quiet_from, "to": prefs.quiet_to}
    return {
        "id": user.id,
        "username": user.username,
        "created_at": _when(user.created_at),
        "last_seen": _when(user.last_seen_at),
        "bot": user.bot,
        "display_name": user.display_name,
        "title": user.title,
        "timezone": user.timezone,
        "avatar": None if avatar is None else {"id": avatar, "path": paths.get(avatar)},
        "status": status,
        "availability": user.availability,
        "notifications": {
            "push": prefs.push,
            "email": prefs.email,
            "email_digest_minutes": prefs.email_digest_minutes,
            "quiet_hours": quiet,
        },
        "email": {"address": prefs.email_address, "verified": prefs.email_verified_at is not None},
    }


def _attached(file: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    """An attached file as a message line names it: its id, name and place in the archive (None
    when it is another user's upload or its bytes were missing)."""
    return {"id": file.get("id"), "name": file.get("name"), "path": paths.get(str(file.get("id")))}


def _safe(name: str) -> str:
    """A file name as one archive path segment (no directories, nothing hidden above ``files/``)."""
    cleaned = name.replace("/", "_").replace("\\", "_").strip().lstrip(".")
    return cleaned or "file"
