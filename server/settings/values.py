"""What every section shares: the error a bad setting raises and the comma-separated list."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode


class SettingsError(ValueError):
    """A setting is present but unusable; the message says how to fix it."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# A list given in the environment as ``a, b,c``: NoDecode keeps pydantic-settings from reading it
# as JSON first; a list given in code is kept as it is.
CsvList = Annotated[list[str], NoDecode, BeforeValidator(_split_csv)]
