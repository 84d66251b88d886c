"""The REST routers find their place by declaring it: a capability's router needs no line in
``api.py``, and one that forgets its place would silently answer nothing. These pin both."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

import server.edge.rest
from server.edge.rest.api import routers

ADMIN_PAGES = {"admin_audit", "admin_reports", "admin_search"}  # mounted by admin_ui.py when it is on


def _modules_with_a_router() -> dict[str, object]:
    package = server.edge.rest
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if isinstance(getattr(module, "router", None), APIRouter):
            found[info.name] = module
    return found


def test_every_router_module_has_a_place_or_is_an_admin_page() -> None:
    unplaced = {
        name
        for name, module in _modules_with_a_router().items()
        if not hasattr(module, "PLACE") and "router" not in getattr(module, "PLACES", {})
    }
    assert unplaced == ADMIN_PAGES


def test_the_routers_come_in_their_places_each_once() -> None:
    mounted = routers()
    assert len(mounted) == len({id(router) for router in mounted})
    first, last = mounted[0], mounted[-1]
    assert first.prefix == "/api" and "accounts" in first.tags  # register and log in first
    assert any(route.path == "/healthz" for route in last.routes)  # the operations' routes last
    hook_posts = next(i for i, r in enumerate(mounted) if any(x.path == "/hooks/{secret}" for x in r.routes))
    assert hook_posts == len(mounted) - 2  # the secret URL's POST just before them
