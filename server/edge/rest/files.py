"""Files over REST (PROTOCOL.md section 11): streamed uploads, downloads for readers only.

The upload is parsed as it arrives (python-multipart's streaming parser over
``request.stream()``, never Starlette's ``UploadFile``, which spools the whole body before the
route runs): the ``file`` part's bytes go straight to the store's temporary file, hashed on the
way, and the route answers 413 ``too_large`` as soon as the file passes the limit, reading no
further. The body cap (``server.edge.body_cap``) leaves ``/api/files`` to this route, which
refuses a declared ``Content-Length`` over the limit (plus 64 KiB of multipart framing) before
reading anything and counts a chunked body as it reads it, so memory stays one chunk deep.

Downloads are ``FileResponse`` (sent from disk in chunks, ``Range`` answered 206 by Starlette),
with the hash as ``ETag`` (``If-None-Match`` answers 304), ``nosniff``, and ``attachment`` for
everything but the four image types (so HTML or SVG never runs in our origin).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse
from python_multipart.multipart import MultipartParser, parse_options_header

from server.chat.files.schemas import FileLimitsOut, FileOut
from server.chat.files.service import Download, FileService, Staging
from server.chat.kernel.errors import ChatError, ErrorCode, invalid
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES, documented

router = APIRouter(prefix="/api/files", tags=["files"], responses=RESPONSES)
PLACE = 70  # its place among the API's routes and in the OpenAPI document (api.py)
FileIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file
CACHE_SECONDS = 3600
FIELD_BYTES = 256  # a text field beside the file (an emoji's name) is short
MAX_FIELDS = 8


def _service(chat: Any) -> FileService:
    files: FileService | None = chat.files
    if files is None:  # pragma: no cover - a server always has a store (the command line has none)
        raise ChatError(ErrorCode.INTERNAL, "this server keeps no files")
    return files


class _FilePart:
    """The multipart callbacks: the ``file`` field's bytes into ``staged``, the rest dropped."""

    def __init__(self, staged: Staging, limit: int) -> None:
        self.staged = staged
        self.limit = limit
        self.name: str | None = None  # the file's name once its part began; None: no file part yet
        self.found = False
        self.fields: dict[str, bytes] = {}  # the other fields' values, each cut at FIELD_BYTES
        self._other: str | None = None
        self._field = b""
        self._value = b""
        self._disposition = b""
        self._in_file = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }

    def _begin(self) -> None:
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._field.lower() == b"content-disposition":
            self._disposition = self._value
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        field = options.get(b"name", b"")
        self._in_file = field == b"file" and not self.found
        self._other = None
        if self._in_file:
            self.found = True
            self.name = options.get(b"filename", b"").decode("utf-8", "replace")
        elif field and len(self.fields) < MAX_FIELDS:
            self._other = field.decode("utf-8", "replace")
            self.fields.setdefault(self._other, b"")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.staged.write(data[start:end])
        elif self._other is not None:
            kept = self.fields[self._other]
            self.fields[self._other] = (kept + data[start:end])[: FIELD_BYTES + 1]

    def _end(self) -> None:
        self._in_file = False
        self._other = None

    def field(self, name: str) -> str | None:
        """A text field's value (None: absent, or longer than FIELD_BYTES)."""
        value = self.fields.get(name)
        if value is None or len(value) > FIELD_BYTES:
            return None
        return value.decode("utf-8", "replace")


@router.get("/limits")
async def limits(chat: ChatDep) -> FileLimitsOut:
    """The largest file an upload may have (clients check before sending)."""
    return FileLimitsOut(max_bytes=_service(chat).limits.max_bytes)


@router.post(
    "",
    status_code=201,
    responses=documented({413: "The file passes the size limit or the uploader's quota"}),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        }
    },
)
async def upload(request: Request, actor: ActorDep, chat: ChatDep) -> FileOut:
    """Store one file (multipart field ``file``): its type is sniffed from the bytes, images get
    a thumbnail. 413 ``too_large`` past ``GET /api/files/limits``' ``max_bytes`` or the quota."""
    files = _service(chat)
    limit = files.limits.max_bytes
    refuse_declared(request, limit, files.too_large())
    async with files.upload(actor) as staged:
        part = await read_upload(request, staged, limit, files.too_large())
        stored = await files.save(actor, staged, part.name or "")
    return FileOut.model_validate(stored)


def refuse_declared(request: Request, limit: int, too_large: ChatError) -> None:
    """``too_large`` before reading anything when the declared body is past ``limit`` and its
    multipart framing; ``invalid`` unless the body is multipart/form-data."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise too_large
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise invalid("send the file as multipart/form-data, in the field 'file'")


async def read_upload(request: Request, staged: Staging, limit: int, too_large: ChatError) -> _FilePart:
    """Stream the multipart body: the ``file`` field into ``staged`` (``too_large`` as soon as it
    passes ``limit``: the rest is never read), the short text fields kept beside it. ``invalid``
    for a malformed body or one without a file."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    part = _FilePart(staged, limit)
    parser = MultipartParser(params[b"boundary"], part.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + MULTIPART_OVERHEAD:
                raise too_large
            parser.write(chunk)
            if staged.size > limit:
                raise too_large  # the rest of the body is never read
        parser.finalize()
    except ChatError:
        raise
    except Exception as exc:  # python-multipart's MultipartParseError and kin
        raise invalid(f"the multipart body is malformed: {exc}") from None
    if not part.found:
        raise invalid("no field 'file' in the multipart body")
    return part


def _headers(download: Download) -> dict[str, str]:
    if download.inline:
        disposition = "inline"
    else:
        disposition = f"attachment; filename*=UTF-8''{quote(download.file.name, safe='')}"
    return {
        "ETag": f'"{download.file.sha256}"',
        "Cache-Control": f"private, max-age={CACHE_SECONDS}",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": disposition,
    }


def _send(request: Request, download: Download) -> Response:
    headers = _headers(download)
    matches = request.headers.get("if-none-match")
    if matches is not None and (
        matches.strip() == "*" or headers["ETag"] in [m.strip() for m in matches.split(",")]
    ):
        return Response(status_code=304, headers=headers)
    return FileResponse(download.path, media_type=download.content_type, headers=headers)


NOT_FOUND = documented({404: "No such file, or one the caller may not read (the same answer)"})


@router.get("/{file_id}", responses=NOT_FOUND, response_class=FileResponse)
async def download(file_id: FileIdPath, request: Request, actor: ActorDep, chat: ChatDep) -> Response:
    """The file's bytes, for its uploader and whoever may read a message it is attached to."""
    return _send(request, await _service(chat).download(actor, file_id))


@router.get("/{file_id}/thumbnail", responses=NOT_FOUND, response_class=FileResponse)
async def thumbnail(file_id: FileIdPath, request: Request, actor: ActorDep, chat: ChatDep) -> Response:
    """An image's thumbnail (at most 320 pixels wide); 404 for other files."""
    return _send(request, await _service(chat).download(actor, file_id, thumbnail=True))
