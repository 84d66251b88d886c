"""orjson as python-socketio's JSON module (it expects ``dumps`` to return str)."""

from __future__ import annotations

import orjson


def dumps(obj: object, **_kwargs: object) -> str:
    return orjson.dumps(obj).decode()


def loads(data: str | bytes, **_kwargs: object) -> object:
    return orjson.loads(data)
