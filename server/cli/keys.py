"""``parley keys``: the server API's keys for operators (PROTOCOL.md section 17).

parley keys create --label L [--scope S ...]   (prints the key: the only time it is shown)
parley keys list
parley keys revoke ID                          (refused at once by every running server)

Each calls one method of ``Chat.server_keys`` as the operator and renders the result as text or,
with ``--json``, one JSON document (``create``: ``{"id", "key", "label", "scopes"}``). A
revocation reaches running servers like every operator change (the Redis hub, or the relay table
without Redis).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pydantic import BaseModel

from server.chat.backends.schemas import SCOPES, KeysOut
from server.chat.kernel.schemas import Empty
from server.cli.operator import Operator, table

if TYPE_CHECKING:
    from server.chat.service import Chat
    from server.cli.operator import Actions
    from server.config import Settings


PLACE = 15  # where ``parley --help`` lists the group, after the built-in commands (cli/__init__.py)


def commands(sub: Actions, operator: Operator) -> None:
    KeyCommands(operator).register(sub)


class KeyCommands:
    def __init__(self, operator: Operator) -> None:
        self.operator = operator

    def register(self, sub: Actions) -> None:
        parser = sub.add_parser("keys", help="manage the server API's keys")
        keys = parser.add_subparsers(required=True, metavar="ACTION")
        command = self.operator.command
        create = command(keys, "create", "make a server key (printed once)", self._create)
        create.add_argument("--label", required=True, help="what the key is for; its bot is named after it")
        create.add_argument(
            "--scope",
            action="append",
            choices=SCOPES,
            help="a scope the key holds (repeat it; default: all but as_user)",
        )
        command(keys, "list", "list the keys not revoked", self._list)
        command(keys, "revoke", "revoke a key: every server refuses it at once", self._revoke, "id")

    def _create(self, args: argparse.Namespace, settings: Settings) -> int:
        def plain(result: BaseModel) -> str:
            values = result.model_dump()
            scopes = ", ".join(values["scopes"])
            return f"{values['key']}\n(key id {values['id']}, scopes {scopes}; it is not shown again)\n"

        return self.operator.run(
            settings, args, lambda chat: chat.server_keys.create(args.label, args.scope), plain
        )

    def _list(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(settings, args, lambda chat: chat.server_keys.list(), _keys_table)

    def _revoke(self, args: argparse.Namespace, settings: Settings) -> int:
        async def revoke(chat: Chat) -> BaseModel:
            await chat.server_keys.revoke(args.id)
            return Empty()

        def plain(_result: BaseModel) -> str:
            return f"revoked server key {args.id}\n"

        return self.operator.run(settings, args, revoke, plain)


def _keys_table(result: BaseModel) -> str:
    assert isinstance(result, KeysOut)
    rows = [(key.id, key.label, ",".join(key.scopes), key.bot, key.created_at) for key in result.keys]
    return table(("id", "label", "scopes", "bot", "created"), rows)
