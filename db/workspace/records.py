"""What the workspace's repository hands out (PROTOCOL.md section 19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InviteRecord:
    id: int
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    max_uses: int
    uses: int
    email: str | None
    topics: tuple[str, ...]
    user_id: int | None
    revoked_at: datetime | None

    @property
    def uses_left(self) -> int:
        return max(self.max_uses - self.uses, 0)

    def usable(self, now: datetime) -> bool:
        """Not revoked, not expired, not used up."""
        return self.revoked_at is None and self.expires_at > now and self.uses < self.max_uses
