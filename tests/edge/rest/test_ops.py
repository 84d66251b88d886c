"""Operations endpoints and the API documentation (PROTOCOL.md section 6)."""

from __future__ import annotations

import re

from tests.contract import assert_error
from tests.support import bearer, running
from tests.support import test_settings as make_settings


def sample(metrics_text: str, name: str, **labels: str) -> float | None:
    """The value of one Prometheus sample, or None when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.compile(rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$", re.MULTILINE)
    found = pattern.search(metrics_text)
    return float(found.group(1)) if found else None


async def test_healthz_answers_200(live_server):
    response = await live_server.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_200_ready_with_the_database_checked(live_server):
    response = await live_server.http.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"] == "ok"


async def test_metrics_is_prometheus_text_counting_http_requests(live_server):
    await live_server.http.get("/healthz")
    await live_server.http.get("/healthz")
    response = await live_server.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE parley_http_requests_total counter" in response.text
    assert (
        sample(response.text, "parley_http_requests_total", method="GET", route="/healthz", status="200") == 2
    )


async def test_metrics_label_unknown_paths_as_one_route(live_server):
    for path in ("/api/a", "/api/b", "/api/c"):
        await live_server.http.get(path)
    text = (await live_server.http.get("/metrics")).text
    assert "/api/a" not in text
    assert sample(text, "parley_http_requests_total", method="GET", route="unmatched", status="404") == 3


async def test_metrics_count_connected_sockets(live_server):
    text = (await live_server.http.get("/metrics")).text
    assert "# TYPE parley_connected_sockets gauge" in text
    await live_server.user("alice")
    await live_server.user("bobby")
    text = (await live_server.http.get("/metrics")).text
    assert sample(text, "parley_connected_sockets", namespace="/") == 2


async def test_docs_serves_the_swagger_ui(live_server):
    response = await live_server.http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text.lower()


async def test_openapi_schema_lists_the_account_routes(live_server):
    response = await live_server.http.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "post" in paths["/api/users"]
    assert "post" in paths["/api/auth/login"]
    assert "post" in paths["/api/auth/logout"]
    refresh = paths["/api/auth/refresh"]["post"]  # PROTOCOL.md 10: a new token for a valid one
    schema = refresh["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/TokenOut"}
    assert "get" in paths["/api/users/me"]
    assert "get" in paths["/api/users/{username}"]


async def test_cors_allows_only_the_configured_origins(tmp_path):
    settings = make_settings(tmp_path / "data", cors_origins=["https://chat.example"])
    async with running(settings) as server:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        allowed = await server.http.options(
            "/api/users", headers={"Origin": "https://chat.example", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://chat.example"
        refused = await server.http.options(
            "/api/users", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers


async def test_without_a_metrics_token_metrics_are_open(live_server):
    assert live_server.app.state.settings.metrics_token is None  # the documented default
    assert (await live_server.http.get("/metrics")).status_code == 200


async def test_with_a_metrics_token_metrics_need_that_bearer(tmp_path):
    token = "m" * 40
    async with running(make_settings(tmp_path / "data", metrics_token=token)) as server:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Bearer {token}x"},
            {"Authorization": f"Basic {token}"},
            {"Authorization": token},
        ):
            refused = await server.http.get("/metrics", headers=headers)
            assert_error(refused, 401, "unauthorized")
            assert "parley_" not in refused.text
        allowed = await server.http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200
        assert "# TYPE parley_http_requests_total counter" in allowed.text
        assert (await server.http.get("/healthz")).status_code == 200  # the probes stay open
        assert (await server.http.get("/readyz")).status_code == 200


ERROR_STATUSES = ("401", "403", "404", "409", "422", "429")


async def test_the_openapi_schema_documents_every_api_error_with_the_envelope(live_server):
    schema = (await live_server.http.get("/openapi.json")).json()
    envelope = schema["components"]["schemas"]["ErrorOut"]
    assert envelope["required"] == ["error"]
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]  # 422 is the envelope too
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    # Every route of PROTOCOL.md sections 6 and 8-17 and 19 under /api, with Parley's ban list: the
    # server API's 11 and the admins' 3 for its keys among them.
    assert len(operations) == 123
    for path, method, operation in operations:
        for status in ERROR_STATUSES:
            documented = operation["responses"].get(status)
            assert documented, f"{method.upper()} {path} does not document {status}"
            schema_ref = documented["content"]["application/json"]["schema"]
            assert schema_ref == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)
    metrics = schema["paths"]["/metrics"]["get"]["responses"]["401"]
    assert metrics["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}


async def test_one_cors_setting_serves_the_api_and_socket_io_polling(tmp_path):
    """PARLEY_CORS_ORIGINS is given to FastAPI and to Socket.IO: the same origins on both."""
    settings = make_settings(tmp_path / "data", cors_origins=["https://chat.example"])
    async with running(settings) as server:
        token = await server.register("alice")
        for origin, allowed in (("https://chat.example", True), ("https://evil.example", False)):
            api = await server.http.get("/api/users/me", headers={"Origin": origin, **bearer(token)})
            polling = await server.http.get(
                "/socket.io/", params={"EIO": "4", "transport": "polling"}, headers={"Origin": origin}
            )
            for response in (api, polling):
                got = response.headers.get("access-control-allow-origin")
                assert got == (origin if allowed else None), (origin, response.request.url, got)
            assert api.status_code == 200  # the answer itself is the browser's to withhold
            assert polling.status_code == (200 if allowed else 400)  # engine.io refuses the handshake
