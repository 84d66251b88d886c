"""The workspace's part of the composition (PROTOCOL.md section 19): the door every new account
passes (a door of the accounts' ``UserService``, which sign-ups and single sign-on ask, and a check
of the address a user sets, which the email service asks: the allowed domains), and the
settings and invites' service, which mails invitations through the email outbox when email is on."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.accounts.users import UserService
from server.chat.kernel.budgets import per_hour
from server.chat.kernel.wiring import Wiring
from server.chat.notifications.email import EmailService
from server.chat.workspace.door import Door
from server.chat.workspace.service import WorkspaceService


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Joining (PROTOCOL.md section 19)."""

    registration: str  # PARLEY_REGISTRATION: open, invite or closed until an admin sets one
    workspace_invites_per_hour: int  # invitations (links) a user makes an hour


@dataclass(frozen=True)
class Workspace:
    door: Door
    service: WorkspaceService


def build(w: Wiring, limits: Limits, users: UserService, email: EmailService) -> Workspace:
    door = Door(w.db, users.hasher, limits.registration)
    users.doors.append(door)
    email.address_checks.append(door.check_address)
    service = WorkspaceService(
        w.db,
        users,
        limits.registration,
        per_hour("workspace-invites", limits.workspace_invites_per_hour, w.budgets),
        email.composer,
        email.written,
    )
    return Workspace(door, service)
