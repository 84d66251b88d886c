"""The operator commands of ``parley``: users, topics and numbers, as a table or ``--json``.

parley user create USERNAME [--password-stdin]
parley user list|disable NAME|enable NAME|delete NAME [--erase]|set-password NAME [--password-stdin]
parley user role NAME owner|admin|member
parley token USERNAME [--ttl SECONDS]
parley topic list [--all]|rename NAME NEW_NAME|delete NAME
parley stats
parley reports
parley search reindex

Each parses its arguments, calls one service of the chat domain (``Chat.accounts``,
``Chat.topic_admin``) and renders the result: a readable table, or with ``--json`` one JSON
document on stdout. The services make the changes and record the events that reach the
running servers (the Redis hub, or the relay table without Redis: ``server.adapters.cluster.db_relay``).
``user create`` and ``token`` print one line and take no ``--json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from pydantic import BaseModel, TypeAdapter, ValidationError

from server.chat.accounts.schemas import RegisterIn
from server.chat.kernel.actors import CLI
from server.chat.kernel.schemas import TopicName
from server.chat.moderation.schemas import ReportsOut
from server.chat.operators.schemas import (
    AccountOut,
    AccountsOut,
    DeletedAccountOut,
    ErasureOut,
    PasswordIn,
    RoleOut,
    StatsOut,
    TopicRowOut,
    TopicRowsOut,
)
from server.cli.operator import Operator, fail, invalid, read_password, table, with_chat
from server.edge.validation import reason

if TYPE_CHECKING:
    from server.chat.service import Chat
    from server.cli.operator import Actions
    from server.config import Settings


def add_user_create(user: Actions) -> None:
    create = user.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.set_defaults(run=_user_create)


def add_token(sub: Actions) -> None:
    token = sub.add_parser("token", help="print a token for a user (no password needed)")
    token.add_argument("username")
    token.add_argument("--ttl", type=_positive, help="lifetime in seconds")
    token.set_defaults(run=_token)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _user_create(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password(args.password_stdin)
    try:
        data = RegisterIn(username=args.username, password=password)
    except ValidationError as exc:
        return fail(f"invalid: {reason(exc.errors(include_url=False)[0])}")

    async def create(chat: Chat) -> int:
        await chat.users.create(data.username, data.password, by=CLI)  # an audit row
        sys.stdout.write(f"created user {data.username}\n")
        return 0

    return with_chat(settings, create)


def _token(args: argparse.Namespace, settings: Settings) -> int:
    async def issue(chat: Chat) -> int:
        token = await chat.users.issue_token(args.username, args.ttl)
        # Nothing is stored, but it is access given without a password: audited (section 16).
        await chat.audit.record(CLI, "token.issue", args.username, details={"ttl": args.ttl})
        sys.stdout.write(token.token + "\n")
        return 0

    return with_chat(settings, issue)


class AdminCommands:
    """``user`` (but ``create``), ``topic``, ``stats``, ``reports`` and ``search``, run by ``operator``."""

    def __init__(self, operator: Operator) -> None:
        self.operator = operator

    def register(self, sub: Actions, user: Actions) -> None:
        command = self.operator.command
        command(user, "list", "list the users", self._user_list)
        for action, text in (
            ("disable", "no login or connection; close their sockets"),
            ("enable", "allow logins again"),
            ("delete", "delete a user (their messages stay, as [deleted N]; --erase: erased with them)"),
        ):
            parser = command(user, action, text, self._user_change, "username")
        parser.add_argument(  # the last one: delete (PROTOCOL.md section 16)
            "--erase",
            action="store_true",
            help="erase the account: profile, uploads, reactions gone, messages tombstones sent by [deleted]",
        )
        change = command(
            user, "set-password", "set a new password; close their sockets", self._set_password, "username"
        )
        change.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        role = command(
            user,
            "role",
            "set a workspace role (PROTOCOL.md 19; the last owner stays one)",
            self._user_role,
            "username",
        )
        role.add_argument("role", choices=("owner", "admin", "member"))
        topic = sub.add_parser("topic", help="manage topics").add_subparsers(required=True, metavar="ACTION")
        listing = command(topic, "list", "list the topics", self._topic_list)
        listing.add_argument("--all", action="store_true", help="direct conversations too")
        command(
            topic,
            "rename",
            "rename a topic (members see the new name)",
            self._topic_rename,
            "name",
            "new_name",
        )
        command(topic, "delete", "delete a topic with its messages", self._topic_delete, "name")
        command(sub, "stats", "users, topics, messages, sockets and users per running server", self._stats)
        command(
            sub, "reports", "messages reported by their readers, newest first (PROTOCOL.md 10)", self._reports
        )
        search = sub.add_parser("search", help="the search index").add_subparsers(
            required=True, metavar="ACTION"
        )
        command(
            search, "reindex", "rebuild the search index from the messages (in batches)", self._search_reindex
        )

    def _user_list(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(settings, args, lambda chat: chat.accounts.list(), _accounts_table)

    def _user_change(self, args: argparse.Namespace, settings: Settings) -> int:
        def change(chat: Chat) -> Awaitable[BaseModel]:
            if args.action == "delete" and args.erase:
                return chat.erasure.erase(args.username, finish_here=True)
            if args.action == "delete":
                return chat.accounts.delete(args.username)
            if args.action == "disable":
                return chat.accounts.disable(args.username)
            return chat.accounts.enable(args.username)

        return self.operator.run(settings, args, change, _changed)

    def _set_password(self, args: argparse.Namespace, settings: Settings) -> int:
        try:
            password = PasswordIn(password=read_password(args.password_stdin, "New password: ")).password
        except ValidationError as exc:
            raise invalid(exc) from None

        def plain(result: BaseModel) -> str:
            return (
                f"set the password of {result.model_dump()['username']}: tokens revoked, open sockets close\n"
            )

        return self.operator.run(
            settings, args, lambda chat: chat.accounts.set_password(args.username, password), plain
        )

    def _user_role(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(
            settings, args, lambda chat: chat.workspace_users.set_role(args.username, args.role), _role_set
        )

    def _topic_list(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(settings, args, lambda chat: chat.topic_admin.list(args.all), _topics_table)

    def _topic_rename(self, args: argparse.Namespace, settings: Settings) -> int:
        try:
            new_name = TypeAdapter(TopicName).validate_python(args.new_name)
        except ValidationError as exc:
            raise invalid(exc) from None

        def plain(result: BaseModel) -> str:
            values = result.model_dump()
            return f"renamed {values['old_name']} to {values['topic']['name']}\n"

        return self.operator.run(
            settings, args, lambda chat: chat.topic_admin.rename(args.name, new_name), plain
        )

    def _topic_delete(self, args: argparse.Namespace, settings: Settings) -> int:
        def plain(result: BaseModel) -> str:
            values = result.model_dump()
            return f"deleted {values['name']} with its {values['last_seq']} messages\n"

        return self.operator.run(settings, args, lambda chat: chat.topic_admin.delete(args.name), plain)

    def _search_reindex(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(settings, args, lambda chat: chat.search.reindex(), _reindexed)

    def _stats(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(settings, args, lambda chat: chat.topic_admin.stats(), _stats_text)

    def _reports(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(settings, args, lambda chat: chat.reports.newest(), _reports_table)


def _reindexed(result: BaseModel) -> str:
    data = result.model_dump()
    return f"search index rebuilt: {data['messages']} messages, {data['bytes']} bytes\n"


def _changed(result: BaseModel) -> str:
    if isinstance(result, ErasureOut):
        done = "erased" if result.state == "erased" else "disabled; a running server finishes its erasure"
        return (
            f"{done} {result.username}: {result.messages} messages tombstoned as '[deleted]', "
            f"{result.memberships_removed} memberships removed, {result.bots_disabled} bots disabled\n"
        )
    if isinstance(result, DeletedAccountOut):
        return (
            f"deleted {result.username}: {result.messages_kept} messages kept as {result.placeholder!r}, "
            f"{result.memberships_removed} memberships removed\n"
        )
    assert isinstance(result, AccountOut)
    if result.state == "disabled":
        return f"disabled {result.username}: tokens revoked, open sockets close\n"
    return f"enabled {result.username}\n"


def _role_set(result: BaseModel) -> str:
    assert isinstance(result, RoleOut)
    if result.role == result.was:
        return f"{result.username} is already {result.role}\n"
    return f"{result.username} is now {result.role} (was {result.was})\n"


def _accounts_table(result: BaseModel) -> str:
    assert isinstance(result, AccountsOut)
    rows = [(u.username, u.role, u.state, u.created_at, u.last_seen) for u in result.users]
    return table(("USERNAME", "ROLE", "STATE", "CREATED", "LAST SEEN"), rows)


def _topics_table(result: BaseModel) -> str:
    assert isinstance(result, TopicRowsOut)
    rows = [_topic_row(t) for t in result.topics]
    return table(("NAME", "KIND", "OWNER", "MEMBERS", "MESSAGES", "CREATED"), rows)


def _topic_row(topic: TopicRowOut) -> tuple[object, ...]:
    return (topic.name, topic.kind, topic.owner, topic.members, topic.last_seq, topic.created_at)


def _stats_text(result: BaseModel) -> str:
    assert isinstance(result, StatsOut)
    sockets = sum(node.sockets for node in result.nodes)
    lines = [
        ("users", ", ".join(f"{n} {state}" for state, n in result.users.items())),
        ("topics", ", ".join(f"{n} {kind}" for kind, n in result.topics.items())),
        ("messages", str(result.messages)),
        ("servers", f"{len(result.nodes)} running, {sockets} sockets" if result.nodes else "none running"),
    ]
    summary = table(("", ""), lines).split("\n", 1)[1]
    if not result.nodes:
        return summary
    rows = [(n.node, n.sockets, n.users, n.started_at) for n in result.nodes]
    return summary + "\n" + table(("NODE", "SOCKETS", "USERS", "STARTED"), rows)


SHOWN_CHARS = 40  # of a reported message's excerpt and of the reason, in the table


def _reports_table(result: BaseModel) -> str:
    assert isinstance(result, ReportsOut)
    if not result.reports:
        return "no reports\n"
    rows = [
        (
            r.created_at,
            r.reporter,
            r.message.topic,
            r.message.sender,
            r.message.id,
            "(deleted)" if r.message.deleted else _short(r.message.excerpt),
            _short(r.reason),
            r.message.link,
        )
        for r in result.reports
    ]
    return table(("REPORTED", "BY", "TOPIC", "SENDER", "MESSAGE", "EXCERPT", "REASON", "LINK"), rows)


def _short(text: str) -> str:
    """One line of at most ``SHOWN_CHARS`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= SHOWN_CHARS else line[: SHOWN_CHARS - 1] + "\u2026"
