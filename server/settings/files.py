"""Files (server/chat/files/; PROTOCOL.md section 11; README "Files"): where, how large, how many."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class FilesSettings(BaseModel):
    """Uploads: their folder, size, rate and quota, and how long an unattached one waits."""

    # Kept under ``files_dir`` (default <data_dir>/files), which several nodes must share.
    files_dir: Path | None = None
    max_file_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="largest upload, bytes")
    file_uploads_per_minute: int = Field(default=30, gt=0, description="uploads per user and minute")
    file_quota_bytes: int = Field(default=1024**3, gt=0, description="bytes of files one user may keep")
    file_unattached_ttl_seconds: float = Field(
        default=86400.0, gt=0, description="seconds an upload may wait to be attached"
    )
