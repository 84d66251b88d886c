"""What clients send to the previews capability (PROTOCOL.md section 13)."""

from __future__ import annotations

from server.chat.kernel.schemas import In, RowId


class RemovePreviewsIn(In):
    """``message:previews:remove``: the sender drops a message's previews."""

    id: RowId
