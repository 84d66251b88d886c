"""``parley bot``: bot accounts and their API tokens for operators (PROTOCOL.md section 12).

parley bot create NAME --owner USER
parley bot list
parley bot token NAME [--label L]     (prints the token: the only time it is shown)
parley bot revoke NAME TOKEN_ID       (sockets that use it close on every running server)

Each calls one method of ``Chat.bots`` as an operator (any bot, whoever owns it) and renders the
result as text or, with ``--json``, one JSON document. A revocation reaches running servers
like every operator change (the Redis hub, or the relay table without Redis).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pydantic import BaseModel

from server.chat.integrations.schemas import BotRowsOut
from server.chat.kernel.schemas import Empty
from server.cli.operator import Operator, table

if TYPE_CHECKING:
    from server.chat.service import Chat
    from server.cli.operator import Actions
    from server.config import Settings


PLACE = 10  # where ``parley --help`` lists the group, after the built-in commands (cli/__init__.py)


def commands(sub: Actions, operator: Operator) -> None:
    BotCommands(operator).register(sub)


class BotCommands:
    def __init__(self, operator: Operator) -> None:
        self.operator = operator

    def register(self, sub: Actions) -> None:
        parser = sub.add_parser("bot", help="manage bot accounts")
        bot = parser.add_subparsers(required=True, metavar="ACTION")
        command = self.operator.command
        create = command(bot, "create", "create a bot owned by a user", self._create, "name")
        create.add_argument("--owner", required=True, help="the user who owns it")
        command(bot, "list", "list the bots", self._list)
        token = command(bot, "token", "make an API token (printed once)", self._token, "name")
        token.add_argument("--label", default="", help="what the token is for (at most 64 characters)")
        command(bot, "revoke", "revoke an API token; its sockets close", self._revoke, "name", "token_id")

    def _create(self, args: argparse.Namespace, settings: Settings) -> int:
        def plain(result: BaseModel) -> str:
            values = result.model_dump()
            return f"created bot {values['username']} owned by {values['owner']}\n"

        return self.operator.run(
            settings, args, lambda chat: chat.bots.create_for(args.owner, args.name), plain
        )

    def _list(self, args: argparse.Namespace, settings: Settings) -> int:
        return self.operator.run(settings, args, lambda chat: chat.bots.list_all(), _bots_table)

    def _token(self, args: argparse.Namespace, settings: Settings) -> int:
        def plain(result: BaseModel) -> str:
            values = result.model_dump()
            return f"{values['token']}\n(token id {values['id']}; it is not shown again)\n"

        return self.operator.run(
            settings, args, lambda chat: chat.bots.create_token(None, args.name, args.label), plain
        )

    def _revoke(self, args: argparse.Namespace, settings: Settings) -> int:
        async def revoke(chat: Chat) -> BaseModel:
            await chat.bots.revoke_token(None, args.name, args.token_id)
            return Empty()

        def plain(_result: BaseModel) -> str:
            return f"revoked token {args.token_id} of {args.name}: its sockets close\n"

        return self.operator.run(settings, args, revoke, plain)


def _bots_table(result: BaseModel) -> str:
    assert isinstance(result, BotRowsOut)
    rows = [(bot.username, bot.owner or "-", bot.state, bot.created_at) for bot in result.bots]
    return table(("bot", "owner", "state", "created"), rows)
