"""A user's notification preferences (PROTOCOL.md section 15): read and changed by the user alone.

The email address is not changed here (``PUT /api/users/me/email`` sends a verification first);
the preferences only say whether a verified address gets digests and how often. Turning email back
on bumps the version unsubscribe links carry (``tokens``): a link from an earlier mail, which a
mail scanner or anyone the mail was forwarded to may hold, cannot turn it off again.
"""

from __future__ import annotations

from db.notifications.repository import PrefsRecord
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.notifications.schemas import NotificationPrefsIn, NotificationPrefsOut


def prefs_view(prefs: PrefsRecord, email_available: bool) -> NotificationPrefsOut:
    quiet = None
    if prefs.quiet_from is not None and prefs.quiet_to is not None:
        quiet = {"from": prefs.quiet_from, "to": prefs.quiet_to}
    return NotificationPrefsOut(
        push=prefs.push,
        email=prefs.email,
        email_digest_minutes=prefs.email_digest_minutes,
        quiet_hours=quiet,
        email_address=prefs.email_address,
        email_verified=prefs.email_verified_at is not None,
        email_available=email_available,
    )


class PreferenceService:
    def __init__(self, db: Database, email_available: bool) -> None:
        self.db = db
        self.email_available = email_available  # the server has SMTP settings

    async def get(self, actor: Actor) -> NotificationPrefsOut:
        """``notifications:get`` and ``GET /api/users/me/notifications``."""
        async with self.db.read() as repos:
            prefs = await repos.notifications.prefs(actor.id)
        return prefs_view(prefs, self.email_available)

    async def set(self, actor: Actor, data: NotificationPrefsIn) -> NotificationPrefsOut:
        """``notifications:set`` and ``PUT``: the fields given change, the others stay."""
        given = data.model_fields_set
        async with self.db.write() as repos:
            prefs = await repos.notifications.prefs(actor.id)
            quiet_from, quiet_to = prefs.quiet_from, prefs.quiet_to
            if "quiet_hours" in given:
                quiet = data.quiet_hours
                quiet_from, quiet_to = (quiet.from_, quiet.to) if quiet is not None else (None, None)
            await repos.notifications.set_prefs(
                actor.id,
                push=prefs.push if data.push is None else data.push,
                email=prefs.email if data.email is None else data.email,
                email_digest_minutes=data.email_digest_minutes or prefs.email_digest_minutes,
                quiet_from=quiet_from,
                quiet_to=quiet_to,
            )
            if data.email and not prefs.email:  # back on: the links of earlier mails are void
                await repos.notifications.bump_email_version(actor.id)
            prefs = await repos.notifications.prefs(actor.id)
        return prefs_view(prefs, self.email_available)
