"""The messenger dialect's HTTP plumbing (PROTOCOL.md 7.2): its route class, bodies and caller.

- ``MessengerRoute`` wraps every handler of the dialect, so whatever goes wrong while a request
  is handled (a ``ChatError``, a bad path parameter, a bad body, a missing token, an unexpected
  exception) answers in the messenger's shape, rendered by ``wire.py`` beside this module; an
  unexpected exception becomes ``internal`` with a reference (``server.edge.errors.classify``).
- ``body(Model)``: the JSON object of the request, its field names matched case-insensitively
  (``Username`` and ``username`` alike, as Go's ``encoding/json`` does), validated by a strict
  model of the chat domain; ``request_body(Model)`` documents it in OpenAPI as the messenger
  spells it.
- The caller (``Authorization: Bearer``), as ``server.edge.http`` reads it, declared in OpenAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode, invalid
from server.edge.errors import classify
from server.edge.gateway.dialects.messenger import wire
from server.edge.http import get_actor as bearer_actor

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class MessengerRoute(APIRoute):
    """A route whose every failure is a messenger answer: ``{"Message": ..., "Data": null}``."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:  # none expected from these routes; kept in the dialect
                body = wire.answer(str(exc.detail))
                return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
            except Exception as exc:
                return failure(classify(exc, "request failed", wire.MESSENGER_REQUEST, route=self.path))

        return guarded


def failure(error: ChatError) -> JSONResponse:
    status, body, headers = wire.http_error(error)
    return JSONResponse(body, status_code=status, headers=headers)


def answer(text: str, data: Any = None, status: int = 200) -> JSONResponse:
    return JSONResponse(wire.answer(text, data), status_code=status)


# Bodies -------------------------------------------------------------------------------------------


async def read_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; ``too_large`` past the transport limit (read no further)."""
    limit: int = request.app.state.settings.max_http_buffer_size
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ChatError(ErrorCode.TOO_LARGE, f"the body is over {limit} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise invalid("the body must be a JSON object")
    return data


def body(model: type[M]) -> Any:
    """A dependency: the request's JSON object, field names folded, validated by ``model``."""
    names = {wire.messenger_name(name).lower(): name for name in model.model_fields}

    async def parse(request: Request) -> M:
        data = await read_object(request)
        folded = {names[key.lower()]: value for key, value in data.items() if key.lower() in names}
        try:
            return model.model_validate(folded)
        except ValidationError as exc:
            raise classify(exc, spelling=wire.MESSENGER) from None

    return Depends(parse)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the body, with the messenger's field names."""
    schema = model.model_json_schema()
    properties = schema.get("properties", {}).items()
    schema["properties"] = {wire.messenger_name(k): _untitled(v) for k, v in properties}
    schema["required"] = [wire.messenger_name(name) for name in schema.get("required", [])]
    schema.pop("title", None)
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def _untitled(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "title"}


# The caller ---------------------------------------------------------------------------------------

ActorDep = Annotated[Actor, Depends(bearer_actor)]  # declares the API's bearer scheme
