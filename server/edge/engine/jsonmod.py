"""orjson as python-socketio's JSON module (it expects ``dumps`` to return str)."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(obj: Any, **_kwargs: Any) -> str:
    return orjson.dumps(obj).decode()


def loads(data: str | bytes, **_kwargs: Any) -> Any:
    return orjson.loads(data)
