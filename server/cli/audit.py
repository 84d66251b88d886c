"""``parley audit``: the audit log for operators (PROTOCOL.md section 16), newest first.

parley audit [--actor NAME] [--action ACTION] [--since ISO-or-DAYS] [--limit N] [--json]

``--actor`` matches the name an audit row keeps (any case; ``cli`` for the command line,
``admin-ui:<name>`` for the Admin UI), ``--action`` one action name exactly (``topic.kick``;
the list is in docs/PROTOCOL.md), ``--since`` an ISO 8601 moment (UTC when it names no zone) or
a number of days back (``7`` or ``7d``). Reading the log writes no row.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel

from server.chat.audit.schemas import AuditOut
from server.cli.operator import Operator, table

if TYPE_CHECKING:
    from server.cli.operator import Actions
    from server.config import Settings

DAYS = re.compile(r"(\d{1,5})d?")
MAX_LIMIT = 10_000


def since(text: str) -> datetime:
    """``--since``: days back from now, or an ISO 8601 moment."""
    days = DAYS.fullmatch(text.strip())
    if days is not None:
        return datetime.now(UTC) - timedelta(days=int(days.group(1)))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError("invalid: an ISO 8601 date or time, or a number of days") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"invalid: a number from 1 to {MAX_LIMIT}")
    return value


PLACE = 40  # where ``parley --help`` lists the group, after the built-in commands (cli/__init__.py)


def commands(sub: Actions, operator: Operator) -> None:
    AuditCommand(operator).register(sub)


class AuditCommand:
    def __init__(self, operator: Operator) -> None:
        self.operator = operator

    def register(self, sub: Actions) -> None:
        parser = self.operator.command(
            sub, "audit", "the audit log, newest first (PROTOCOL.md 16)", self._audit
        )
        parser.add_argument("--actor", help="who acted (a username, cli, admin-ui:NAME)")
        # not ``dest="action"``: the command's own name is kept there (``Operator.command``)
        parser.add_argument("--action", dest="wanted", help="one action, e.g. topic.kick or user.disable")
        parser.add_argument("--since", type=since, help="an ISO 8601 date or time, or days back (7)")
        parser.add_argument("--limit", type=limit, default=100, help="rows at most (default 100)")

    def _audit(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(
            settings,
            args,
            lambda chat: chat.audit.newest(args.limit, args.actor, args.wanted, args.since),
            _audit_table,
        )


def _audit_table(result: BaseModel) -> str:
    assert isinstance(result, AuditOut)
    if not result.entries:
        return "no audit rows\n"
    rows = [
        (
            e.at,
            e.actor,
            e.action,
            e.target,
            e.topic,
            json.dumps(e.details, sort_keys=True) if e.details else None,
        )
        for e in result.entries
    ]
    return table(("AT", "ACTOR", "ACTION", "TARGET", "TOPIC", "DETAILS"), rows)
