"""Single sign-on's rows (PROTOCOL.md section 14): accounts' links to a provider's users, sign-ins
under way, and the one-time codes the callback hands the page.

A flow and a code are each taken once: read, then deleted, and only the transaction whose delete
removed the row has it (a second callback or exchange racing it, on any node, deletes nothing
and gets nothing).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.records import SignInFlow
from db.accounts.tables import Identity, LoginCode, OidcFlow
from db.times import utc
from db.values import flush


class SsoRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def linked_user(self, issuer: str, subject: str) -> int | None:
        """The account linked to the provider's user ``subject`` of ``issuer``, if any."""
        query = select(col(Identity.user_id)).where(
            col(Identity.issuer) == issuer, col(Identity.subject) == subject
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def is_linked(self, user_id: int) -> bool:
        """Whether the account signs in through a provider (PROTOCOL.md section 19's listing)."""
        found = select(col(Identity.id)).where(col(Identity.user_id) == user_id).limit(1)
        result = await self.session.execute(found)
        return result.first() is not None

    async def link(self, issuer: str, subject: str, user_id: int, when: datetime) -> None:
        """Link an account; ``Conflict`` if another transaction linked this provider user first."""
        self.session.add(Identity(issuer=issuer, subject=subject, user_id=user_id, created_at=when))
        await flush(self.session)

    async def add_flow(self, flow: SignInFlow) -> None:
        row = OidcFlow(
            state=flow.state,
            nonce=flow.nonce,
            verifier=flow.verifier,
            expires_at=flow.expires_at,
            invite=flow.invite,
        )
        self.session.add(row)
        await flush(self.session)

    async def keep_newest_flows(self, keep: int) -> None:
        """Drop all but the ``keep`` newest sign-ins under way (they all live as long: the newest
        expire last). Two starts at once may each keep ``keep``: the bound is loose by that much."""
        newest_first = select(col(OidcFlow.state)).order_by(col(OidcFlow.expires_at).desc()).offset(keep)
        await self.session.execute(
            delete(OidcFlow).where(col(OidcFlow.state).in_(newest_first.scalar_subquery()))
        )

    async def take_flow(self, state: str) -> SignInFlow | None:
        """The flow of ``state``, deleted: None if unknown or taken by someone else."""
        row = await self.session.get(OidcFlow, state)
        if row is None:
            return None
        flow = SignInFlow(row.state, row.nonce, row.verifier, utc(row.expires_at), row.invite)
        gone = await self.session.execute(delete(OidcFlow).where(col(OidcFlow.state) == state))
        return flow if getattr(gone, "rowcount", 0) == 1 else None

    async def add_code(self, code_hash: str, user_id: int, expires_at: datetime) -> None:
        self.session.add(LoginCode(code_hash=code_hash, user_id=user_id, expires_at=expires_at))
        await flush(self.session)

    async def take_code(self, code_hash: str) -> tuple[int, datetime] | None:
        """The user and expiry of a one-time code, deleted: None if unknown or already taken."""
        row = await self.session.get(LoginCode, code_hash)
        if row is None:
            return None
        taken = (row.user_id, utc(row.expires_at))
        gone = await self.session.execute(delete(LoginCode).where(col(LoginCode.code_hash) == code_hash))
        return taken if getattr(gone, "rowcount", 0) == 1 else None

    async def prune(self, now: datetime) -> None:
        """Forget flows and codes that expired (each start of a sign-in sweeps them)."""
        await self.session.execute(delete(OidcFlow).where(col(OidcFlow.expires_at) < now))
        await self.session.execute(delete(LoginCode).where(col(LoginCode.expires_at) < now))
