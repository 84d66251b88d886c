"""Joining the workspace (server/chat/workspace/, PROTOCOL.md section 19)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class WorkspaceSettings(BaseModel):
    """The registration of a new server, and how many invitations a user may make."""

    # Only the default: once an owner or admin sets the registration (``PATCH
    # /api/admin/settings``), the stored value wins.
    registration: Literal["open", "invite", "closed"] = Field(
        default="open", description="PARLEY_REGISTRATION: open, invite or closed until an admin sets one"
    )
    workspace_invites_per_hour: int = Field(
        default=50, gt=0, description="invitation links one user makes per hour"
    )
