"""Settings (server/config.py): environment parsing, defaults, the JWT secret's lifecycle."""

from __future__ import annotations

import os
import stat
from dataclasses import MISSING, fields
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.chat.service import Limits
from server.chat_factory import limits_from
from server.config import MIN_SECRET_BYTES, SECRET_FILE, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PARLEY_* variable from the outside, and a working directory without a .env file."""
    for name in list(os.environ):
        if name.upper().startswith("PARLEY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# Lists from comma-separated variables ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://a.example", ["https://a.example"]),
        ("https://a.example,https://b.example", ["https://a.example", "https://b.example"]),
        (" https://a.example , https://b.example ,", ["https://a.example", "https://b.example"]),
        ("", []),
        (" , ,", []),
    ],
)
def test_cors_origins_are_read_as_comma_separated_values(monkeypatch, raw, expected):
    monkeypatch.setenv("PARLEY_CORS_ORIGINS", raw)
    assert settings().cors_origins == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("lobby", ["lobby"]), ("lobby, random,help", ["lobby", "random", "help"]), ("", [])],
)
def test_default_topics_are_read_as_comma_separated_values(monkeypatch, raw, expected):
    monkeypatch.setenv("PARLEY_DEFAULT_TOPICS", raw)
    assert settings().default_topics == expected


def test_without_variables_there_are_no_cors_origins_and_one_lobby():
    configured = settings()
    assert configured.cors_origins == []
    assert configured.default_topics == ["lobby"]


def test_lists_given_in_code_are_kept_as_they_are():
    configured = settings(cors_origins=["https://a.example"], default_topics=["x", "y"])
    assert configured.cors_origins == ["https://a.example"]
    assert configured.default_topics == ["x", "y"]


# Database location -----------------------------------------------------------------


def test_the_default_database_is_an_sqlite_file_in_the_data_directory(tmp_path):
    configured = settings(data_dir=tmp_path / "data")
    expected = (tmp_path / "data" / "parley.db").resolve()
    assert configured.resolved_database_url == f"sqlite+aiosqlite:///{expected}"


def test_a_relative_data_directory_gives_an_absolute_database_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PARLEY_DATA_DIR", "rel/data")
    url = settings().resolved_database_url
    assert url == f"sqlite+aiosqlite:///{(tmp_path / 'rel' / 'data' / 'parley.db').resolve()}"


def test_a_configured_database_url_wins(monkeypatch):
    monkeypatch.setenv("PARLEY_DATABASE_URL", "postgresql+asyncpg://db.example/parley")
    assert settings().resolved_database_url == "postgresql+asyncpg://db.example/parley"


# The environment and .env ------------------------------------------------------------


def test_variables_use_the_parley_prefix(monkeypatch):
    monkeypatch.setenv("PARLEY_PORT", "9100")
    monkeypatch.setenv("PORT", "9200")
    assert settings().port == 9100


def test_a_dotenv_file_in_the_working_directory_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("PARLEY_PORT=9101\nPARLEY_DEFAULT_TOPICS=a,b\n")
    configured = Settings()
    assert configured.port == 9101
    assert configured.default_topics == ["a", "b"]
    monkeypatch.setenv("PARLEY_PORT", "9102")
    assert Settings().port == 9102


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARLEY_TOKEN_TTL", "0"),
        ("PARLEY_BCRYPT_ROUNDS", "3"),
        ("PARLEY_BCRYPT_ROUNDS", "17"),
        ("PARLEY_PRESENCE_GRACE", "3.5"),
        ("PARLEY_PORT", "not-a-port"),
        ("PARLEY_PING_INTERVAL", "0"),
        ("PARLEY_PING_INTERVAL", "-0.3"),
        ("PARLEY_PING_TIMEOUT", "0"),
        ("PARLEY_CONNECT_TIMEOUT", "-1"),
        ("PARLEY_LOGIN_FAILURES_PER_ACCOUNT", "0"),
        ("PARLEY_LOGIN_FAILURE_WINDOW", "0"),
        ("PARLEY_MAX_CONNECTIONS_PER_USER", "0"),
    ],
)
def test_out_of_range_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        settings()


# Engine.IO settings (PROTOCOL.md 5a) ------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "timeout", "expected"),
    [("25", "20", (25, 20)), ("0.3", "0.2", (0.3, 0.2)), ("2.5", "1", (2.5, 1))],
)
def test_the_heartbeat_takes_whole_seconds_and_fractions(monkeypatch, interval, timeout, expected):
    monkeypatch.setenv("PARLEY_PING_INTERVAL", interval)
    monkeypatch.setenv("PARLEY_PING_TIMEOUT", timeout)
    configured = settings()
    assert (configured.ping_interval, configured.ping_timeout) == expected


def test_engine_io_defaults():
    defaults = settings()
    assert (defaults.ping_interval, defaults.ping_timeout, defaults.connect_timeout) == (25, 20.0, 10.0)
    assert defaults.transports == ["polling", "websocket"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("websocket", ["websocket"]),
        (" polling ", ["polling"]),
        ("websocket,polling", ["websocket", "polling"]),
    ],
)
def test_transports_are_read_as_comma_separated_values(monkeypatch, raw, expected):
    monkeypatch.setenv("PARLEY_TRANSPORTS", raw)
    assert settings().transports == expected


@pytest.mark.parametrize("raw", ["", "carrier-pigeon", "polling,flash"])
def test_unknown_or_no_transports_are_refused_with_a_message_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("PARLEY_TRANSPORTS", raw)
    with pytest.raises(ValidationError) as caught:
        settings()
    assert "PARLEY_TRANSPORTS" in str(caught.value)


# Trusted proxies -------------------------------------------------------------------------


def test_no_proxy_is_trusted_by_default_so_uvicorn_reads_no_forwarded_headers():
    assert settings().proxy_options() == {"proxy_headers": False, "forwarded_allow_ips": []}


def test_trusted_proxies_are_read_as_addresses_and_cidrs_and_given_to_uvicorn(monkeypatch):
    monkeypatch.setenv("PARLEY_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert settings().proxy_options() == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["127.0.0.1", "10.0.0.0/8", "::1"],
    }


@pytest.mark.parametrize("raw", ["localhost", "10.0.0.0/33", "nginx:80"])
def test_a_trusted_proxy_that_is_no_address_is_refused_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("PARLEY_TRUSTED_PROXIES", raw)
    with pytest.raises(ValidationError) as caught:
        settings()
    assert "PARLEY_TRUSTED_PROXIES" in str(caught.value)


# The JWT secret -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("x" * (MIN_SECRET_BYTES - 1), id="31-ascii"),
        pytest.param("é" * 15 + "x", id="31-bytes-utf8"),
    ],
)
def test_a_secret_under_32_bytes_is_refused_with_a_message_naming_the_variable(monkeypatch, secret):
    monkeypatch.setenv("PARLEY_JWT_SECRET", secret)
    with pytest.raises(ValidationError) as caught:
        settings()
    assert "PARLEY_JWT_SECRET" in str(caught.value)
    assert "32 bytes" in str(caught.value)


@pytest.mark.parametrize(
    "secret",
    [pytest.param("x" * MIN_SECRET_BYTES, id="32-ascii"), pytest.param("é" * 16, id="32-bytes-utf8")],
)
def test_a_secret_of_32_bytes_is_accepted_and_used_as_given(tmp_path, secret):
    configured = settings(jwt_secret=secret, data_dir=tmp_path / "data")
    assert configured.secret() == secret
    assert not (tmp_path / "data" / SECRET_FILE).exists()


def test_without_a_secret_one_is_generated_into_a_private_file(tmp_path):
    data_dir = tmp_path / "data"
    secret = settings(data_dir=data_dir).secret()
    path = data_dir / SECRET_FILE
    assert path.read_text().strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret.encode()) >= MIN_SECRET_BYTES


def test_the_generated_secret_is_reused_by_later_settings(tmp_path):
    data_dir = tmp_path / "data"
    first = settings(data_dir=data_dir).secret()
    assert settings(data_dir=data_dir).secret() == first
    assert settings(data_dir=tmp_path / "elsewhere").secret() != first


@pytest.mark.parametrize("content", [pytest.param("", id="empty"), pytest.param("abc\n", id="3-bytes")])
def test_a_kept_secret_file_under_32_bytes_is_refused(tmp_path, content):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / SECRET_FILE).write_text(content)
    with pytest.raises(ValueError, match="jwt_secret"):
        settings(data_dir=data_dir).secret()


def test_the_services_limits_are_the_settings_of_the_same_name():
    # Their defaults live once, in Settings (Limits had repeated 16 of them).
    given = settings(topics_per_hour=7, presence_ttl=3.5, bcrypt_rounds=5)
    limits = limits_from(given)
    assert {f.name: getattr(limits, f.name) for f in fields(Limits)} == {
        f.name: getattr(given, f.name) for f in fields(Limits)
    }
    assert (limits.topics_per_hour, limits.presence_ttl, limits.bcrypt_rounds) == (7, 3.5, 5)
    assert all(f.default is MISSING for f in fields(Limits))


def test_the_webhook_lease_defaults_to_a_minute_and_is_read_from_the_environment(monkeypatch):
    assert Settings(_env_file=None).webhook_lease == 60.0  # type: ignore[call-arg]
    monkeypatch.setenv("PARLEY_WEBHOOK_LEASE", "3")
    monkeypatch.setenv("PARLEY_WEBHOOK_TIMEOUT", "2")
    assert Settings(_env_file=None).webhook_lease == 3.0  # type: ignore[call-arg]


@pytest.mark.parametrize(("lease", "timeout"), [("10", "10"), ("5", "10"), ("60", "60")])
def test_a_webhook_lease_not_longer_than_the_delivery_timeout_is_refused_naming_both(
    monkeypatch, lease, timeout
):
    monkeypatch.setenv("PARLEY_WEBHOOK_LEASE", lease)
    monkeypatch.setenv("PARLEY_WEBHOOK_TIMEOUT", timeout)
    with pytest.raises(
        ValidationError, match=r"PARLEY_WEBHOOK_LEASE .* must be longer than PARLEY_WEBHOOK_TIMEOUT"
    ):
        Settings(_env_file=None)  # type: ignore[call-arg]


# Single sign-on (PROTOCOL.md section 14) ---------------------------------------------


def test_single_sign_on_is_off_and_passwords_on_by_default():
    given = settings()
    assert given.oidc_issuer is None and given.password_login is True
    assert given.oidc_scopes == "openid profile email" and given.oidc_allow_hosts == []


def test_single_sign_on_and_passwords_off_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("PARLEY_OIDC_ISSUER", "https://sso.example.com/realms/acme")
    monkeypatch.setenv("PARLEY_OIDC_CLIENT_ID", "parley")
    monkeypatch.setenv("PARLEY_OIDC_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("PARLEY_OIDC_ALLOW_HOSTS", "idp.internal, 10.0.0.7")
    monkeypatch.setenv("PARLEY_PUBLIC_URL", "https://chat.example.com/")
    monkeypatch.setenv("PARLEY_PASSWORD_LOGIN", "off")
    given = settings()
    assert given.oidc_issuer == "https://sso.example.com/realms/acme"
    assert given.oidc_client_secret is not None and given.oidc_client_secret.get_secret_value() == "s3cret"
    assert given.oidc_allow_hosts == ["idp.internal", "10.0.0.7"]
    assert given.public_url == "https://chat.example.com"  # the redirect URI adds the path
    assert given.password_login is False
    assert "s3cret" not in repr(given)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"oidc_issuer": "https://sso.example.com"}, "PARLEY_OIDC_CLIENT_ID"),
        ({"oidc_client_id": "parley", "oidc_client_secret": "s"}, "PARLEY_OIDC_ISSUER"),
        (
            {"oidc_issuer": "sso.example.com", "oidc_client_id": "p", "oidc_client_secret": "s"},
            "PARLEY_OIDC_ISSUER",
        ),
        ({"oidc_scopes": "profile email"}, "PARLEY_OIDC_SCOPES"),
        ({"public_url": "chat.example.com"}, "PARLEY_PUBLIC_URL"),
    ],
)
def test_an_incomplete_or_malformed_single_sign_on_is_refused_naming_the_variable(values, named):
    with pytest.raises(ValidationError, match=named):
        settings(**values)


# Sections (server/settings/) ---------------------------------------------------------


def test_each_section_field_is_a_flat_setting_and_no_two_sections_share_a_name():
    """A name two sections declared would silently be the later base's: none may repeat."""
    sections = [base for base in Settings.__mro__ if base.__module__.startswith("server.settings.")]
    declared = [name for section in sections for name in section.model_fields]
    assert len(sections) > 1
    assert len(declared) == len(set(declared))
    assert set(declared) == set(Settings.model_fields)


@pytest.mark.parametrize(
    ("variable", "raw", "field", "expected"),
    [
        ("PARLEY_RETENTION_INTERVAL", "42", "retention_interval", 42.0),
        (
            "PARLEY_PREVIEW_ALLOW_HOSTS",
            " a.example, b.example,",
            "preview_allow_hosts",
            ["a.example", "b.example"],
        ),
        ("PARLEY_FILES_DIR", "/srv/files", "files_dir", Path("/srv/files")),
        ("PARLEY_ERASURE_BATCH", "7", "erasure_batch", 7),
        ("PARLEY_PUSH_CONTENT", "off", "push_content", False),
    ],
)
def test_a_field_of_a_section_is_read_from_its_variable(monkeypatch, variable, raw, field, expected):
    monkeypatch.setenv(variable, raw)
    assert getattr(settings(), field) == expected


# Tokens the application signs (PROTOCOL.md section 17) -------------------------------------


def test_application_tokens_are_off_by_default_and_read_from_the_environment(monkeypatch):
    assert settings().app_issuer is None and settings().app_token_max_ttl == 86_400
    monkeypatch.setenv("PARLEY_APP_JWKS_URL", "https://app.example/.well-known/jwks.json")
    monkeypatch.setenv("PARLEY_APP_ISSUER", "https://app.example")
    monkeypatch.setenv("PARLEY_APP_AUDIENCE", "chat")
    monkeypatch.setenv("PARLEY_APP_TOKEN_MAX_TTL", "3600")
    given = settings()
    assert (given.app_jwks_url, given.app_issuer, given.app_audience) == (
        "https://app.example/.well-known/jwks.json",
        "https://app.example",
        "chat",
    )
    assert given.app_token_max_ttl == 3600 and given.app_jwt_secret is None


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"app_jwt_secret": "s" * 40}, "PARLEY_APP_ISSUER"),
        ({"app_jwks_url": "https://app.example/jwks"}, "PARLEY_APP_ISSUER"),
        ({"app_issuer": "https://app.example"}, "PARLEY_APP_JWKS_URL or PARLEY_APP_JWT_SECRET"),
        ({"app_audience": "chat"}, "PARLEY_APP_JWKS_URL or PARLEY_APP_JWT_SECRET"),
        (
            {"app_jwt_secret": "s" * 40, "app_jwks_url": "https://a.example/j", "app_issuer": "a"},
            "not both",
        ),
        ({"app_jwt_secret": "short", "app_issuer": "a"}, "PARLEY_APP_JWT_SECRET"),
        ({"app_jwks_url": "app.example/jwks", "app_issuer": "a"}, "PARLEY_APP_JWKS_URL"),
        ({"app_jwt_secret": "s" * 40, "app_issuer": "a", "app_token_max_ttl": 0}, "app_token_max_ttl"),
    ],
)
def test_an_incomplete_or_malformed_application_signature_is_refused_naming_the_variable(values, named):
    with pytest.raises(ValidationError, match=named):
        settings(**values)
