"""A user's export over REST (PROTOCOL.md section 16): ask for one (202 ``{"id"}``, at most one an
hour: 429 ``rate_limited`` with ``Retry-After``), then fetch it: 202 ``{"id", "state":
"pending"}`` while it is being built, the ZIP (``FileResponse``, from disk in chunks) once ready;
another user's export and an unknown or removed one are the same 404 ``not_found``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import FileResponse, JSONResponse

from server.chat.exports.schemas import ExportCreated
from server.chat.exports.service import ExportService
from server.chat.kernel.errors import ChatError, ErrorCode
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES, documented

router = APIRouter(prefix="/api/users/me", tags=["exports"], responses=RESPONSES)
PLACE = 190  # its place among the API's routes and in the OpenAPI document (api.py)
ExportIdPath = Annotated[str, Path(min_length=1, max_length=64)]
POLL_SECONDS = 2  # the Retry-After of a pending export: when to ask again


def _service(chat: Any) -> ExportService:
    exports: ExportService | None = chat.exports
    if exports is None:  # pragma: no cover - a server always has an export store
        raise ChatError(ErrorCode.INTERNAL, "this server makes no exports")
    return exports


@router.post("/export", status_code=202, responses=documented({429: "`rate_limited`: one export an hour"}))
async def request_export(actor: ActorDep, chat: ChatDep) -> ExportCreated:
    """Ask for a ZIP of everything of yours (built in the background; fetch it by its id)."""
    return await _service(chat).request(actor)


@router.get(
    "/exports/{export_id}",
    response_class=FileResponse,
    responses={
        202: {"description": 'Still being built: `{"id", "state": "pending"}`; ask again after Retry-After'},
        **documented(
            {
                404: "No such export of yours (another user's, an unknown id, one removed after 7 days)",
                409: "`conflict`: the export could not be built; ask for a new one",
            }
        ),
    },
)
async def download_export(export_id: ExportIdPath, actor: ActorDep, chat: ChatDep) -> Response:
    """Your export's ZIP when it is ready."""
    found = await _service(chat).state(actor, export_id)
    if found.path is None:
        return JSONResponse(
            {"id": found.id, "state": found.state},
            status_code=202,
            headers={"Retry-After": str(POLL_SECONDS), "Cache-Control": "no-store"},
        )
    return FileResponse(
        found.path,
        media_type="application/zip",
        filename=f"parley-export-{found.id}.zip",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
