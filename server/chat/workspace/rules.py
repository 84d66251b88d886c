"""The workspace's joining rules as stored (PROTOCOL.md section 19), read in the transaction that
applies them: a change an admin made on any node counts for the next sign-up on every node."""

from __future__ import annotations

from dataclasses import dataclass

from db.repositories import Repositories
from db.workspace.repository import WorkspaceRepository

OPEN, INVITE, CLOSED = "open", "invite", "closed"
REGISTRATIONS = (OPEN, INVITE, CLOSED)


@dataclass(frozen=True)
class JoinRules:
    registration: str
    allowed_domains: tuple[str, ...]
    members_invite: bool

    def allows(self, email: str | None) -> bool:
        """Whether an address may join: any when no domain is set; otherwise its domain (exactly,
        not a subdomain) must be one of them. None (no address known) passes only without domains."""
        if not self.allowed_domains:
            return True
        return email is not None and email.rpartition("@")[2].lower() in self.allowed_domains


async def rules_in(repos: Repositories, default_registration: str) -> JoinRules:
    """The stored settings, each key an admin never set taking the server's default."""
    stored = await repos.of(WorkspaceRepository).settings()
    registration = stored.get("registration")
    domains = stored.get("allowed_domains")
    return JoinRules(
        registration=registration if registration in REGISTRATIONS else default_registration,
        allowed_domains=tuple(str(d) for d in domains) if isinstance(domains, list) else (),
        members_invite=bool(stored.get("members_invite", False)),
    )
