"""Custom emoji over REST (PROTOCOL.md section 13): ``GET /api/emoji`` for every signed-in user;
``POST /api/emoji`` (multipart ``name`` and ``file``, streamed into the files' staging as section
11's uploads are) and ``DELETE /api/emoji/{name}`` for the workspace's owners and admins (403
``forbidden`` otherwise, before the upload is read); ``GET /api/emoji/{name}/image`` the picture."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from server.chat.emoji.schemas import MAX_BYTES, EmojiListOut, EmojiOut
from server.chat.emoji.service import too_large
from server.chat.kernel.errors import invalid
from server.edge.http import ActorDep, ChatDep, get_actor
from server.edge.rest.errors import RESPONSES, documented
from server.edge.rest.files import read_upload, refuse_declared

router = APIRouter(prefix="/api/emoji", tags=["emoji"], responses=RESPONSES)
PLACE = 250  # its place among the API's routes and in the OpenAPI document (api.py)
EmojiName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,32}$")]
SIGNED_IN = Depends(get_actor)  # every signed-in user
CACHE_SECONDS = 86400  # the URL carries the picture's hash: a new picture is a new URL


@router.get("", dependencies=[SIGNED_IN])
async def listed(chat: ChatDep) -> EmojiListOut:
    """Every custom emoji: ``name``, ``url`` (its picture), ``by``, ``created_at``."""
    return await chat.emoji.listed()


@router.post(
    "",
    status_code=201,
    responses=documented(
        {
            403: "Not an owner or admin of the workspace",
            409: "The name is taken",
            413: f"The picture has more than {MAX_BYTES} bytes",
        }
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "pattern": "^[a-z0-9_-]{1,32}$"},
                            "file": {"type": "string", "format": "binary"},
                        },
                        "required": ["name", "file"],
                    }
                }
            },
        }
    },
)
async def add(request: Request, actor: ActorDep, chat: ChatDep) -> EmojiOut:
    """Add a custom emoji (owners and admins): ``name`` 1-32 of ``a-z0-9_-``, ``file`` a PNG,
    JPEG, GIF or WebP of at most 256 KiB, kept at most 128 pixels a side. Everyone online gets
    ``emoji:updated``."""
    await chat.emoji.require_admin(actor)
    refuse_declared(request, MAX_BYTES, too_large())
    async with chat.emoji.upload(actor) as staged:
        part = await read_upload(request, staged, MAX_BYTES, too_large())
        name = part.field("name")
        if name is None:
            raise invalid("no field 'name' in the multipart body")
        return await chat.emoji.add(actor, name, staged)


@router.delete(
    "/{name}", status_code=204, responses=documented({403: "Not an owner or admin", 404: "No such emoji"})
)
async def remove(name: EmojiName, actor: ActorDep, chat: ChatDep) -> Response:
    """Remove a custom emoji (owners and admins): messages then show its ``:name:`` as text."""
    await chat.emoji.remove(actor, name)
    return Response(status_code=204)


@router.get(
    "/{name}/image",
    responses={**documented({404: "No such emoji"}), 200: {"content": {"image/png": {}, "image/jpeg": {}}}},
    response_class=Response,
    dependencies=[SIGNED_IN],
)
async def image(name: EmojiName, request: Request, chat: ChatDep) -> Response:
    """The emoji's picture (PNG, or JPEG for a JPEG), at most 128 pixels a side."""
    picture = await chat.emoji.picture(name)
    headers = {
        "ETag": f'"{picture.sha256}"',
        "Cache-Control": f"private, max-age={CACHE_SECONDS}",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
    }
    if request.headers.get("if-none-match", "").strip() == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(picture.data, media_type=picture.content_type, headers=headers)
