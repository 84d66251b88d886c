"""The chat service assembled from settings: database, hub, presence registry and limits (shared
by the cluster with Redis).

Apart from ``server.app`` so that the command line (``parley user|topic|stats``) builds the
same ``Chat`` without importing the web and realtime stacks (FastAPI, python-socketio, the
gateway): about half a second of every command's start.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from db.uow import Database
from server.adapters.cluster.db_relay import RelayHub
from server.adapters.exportstore import LocalExportStore
from server.adapters.filestore import LocalFileStore
from server.adapters.preview_http import HttpPageSource
from server.adapters.webhook_http import AddressGuard, HttpPoster
from server.chat.accounts.app_tokens import AppTokenVerifier
from server.chat.accounts.sso import IdentityProvider
from server.chat.kernel.hub import Hub
from server.chat.notifications.ports import PushSender
from server.chat.service import Chat, Limits, Ports
from server.config import Settings
from server.private_files import private_folder


def limits_from(settings: Settings) -> Limits:
    """The services' limits: each ``Limits`` field is the setting of the same name (defaults once,
    in ``Settings``)."""
    return Limits(**{field.name: getattr(settings, field.name) for field in fields(Limits)})


def identity_provider(settings: Settings) -> IdentityProvider | None:
    """Single sign-on's provider, when configured: its requests go through an address guard of
    their own, which lets through the issuer's host (the operator named it) and
    ``PARLEY_OIDC_ALLOW_HOSTS``."""
    issuer, client_id, secret = settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret
    if issuer is None or client_id is None or secret is None:
        return None
    # Imported here: authlib and joserfc (cryptography), and httpx, would cost every `parley`
    # command's start.
    import httpx

    from server.adapters.oidc import OidcProvider

    host = httpx.URL(issuer).host
    return OidcProvider(
        issuer,
        client_id,
        secret.get_secret_value(),
        AddressGuard([*settings.oidc_allow_hosts, host]),
        name=settings.oidc_name or host,
        scopes=settings.oidc_scopes,
    )


def app_token_verifier(settings: Settings) -> AppTokenVerifier | None:
    """The application's signature on its users' tokens (PROTOCOL.md section 17), when configured:
    its shared secret, or its key set fetched through an address guard of its own that lets
    through the key set's host (the operator named it)."""
    issuer, url, secret = settings.app_issuer, settings.app_jwks_url, settings.app_jwt_secret
    if issuer is None or (url is None and secret is None):
        return None
    # Imported here: joserfc (cryptography) and httpx would cost every `parley` command's start.
    from server.adapters.app_jwt import AppJwtVerifier

    if secret is not None:
        return AppJwtVerifier(issuer, settings.app_audience, secret=secret.get_secret_value())
    assert url is not None
    import httpx

    from server.adapters.guarded_fetch import GuardedFetch

    fetcher = GuardedFetch(AddressGuard([httpx.URL(url).host]), who="the application")
    return AppJwtVerifier.published(issuer, settings.app_audience, url, fetcher)


def base_url(settings: Settings) -> str:
    """Where browsers reach Parley, for the links in mails: ``PARLEY_PUBLIC_URL``, else
    ``http://<host>:<port>`` from the settings (right only when browsers reach the server there)."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def mail_ports(settings: Settings) -> dict[str, Any]:
    """Email's composer and mailer, when ``PARLEY_SMTP_URL`` and ``PARLEY_SMTP_FROM`` are both set."""
    if settings.smtp_url is None or settings.smtp_from is None:
        return {}
    # Imported here: aiosmtplib and jinja2 would cost every `parley` command's start.
    from server.adapters.mail_compose import TemplateComposer
    from server.adapters.smtp import SmtpMailer

    url = settings.smtp_url.get_secret_value()
    return {
        "composer": TemplateComposer(settings.smtp_from, base_url(settings)),
        "mailer": SmtpMailer(url, settings.smtp_from, settings.smtp_timeout, settings.smtp_ca_file),
    }


def push_sender(settings: Settings) -> PushSender:
    """Web Push's sender (PROTOCOL.md section 15): the VAPID key given or kept in the data
    directory, and an address guard of its own (``PARLEY_PUSH_ALLOW_HOSTS``); a push may take the
    webhooks' timeout (their lease, which the push worker shares, outlasts it)."""
    # Imported here: cryptography and the JWT library would cost every `parley` command's start.
    from server.adapters.webpush import push_sender as make

    given = settings.vapid_private_key
    return make(
        settings.data_dir,
        given.get_secret_value() if given is not None else None,
        settings.vapid_subject,
        settings.push_allow_hosts,
        settings.webhook_timeout,
    )


def build_chat(settings: Settings, *, serving: bool = False) -> Chat:
    """The chat service over the configured database: ``serving`` for a server (``server.app``),
    which also starts what only a server runs; the command line builds it without."""
    upstream = None
    if settings.echo_upstream:
        # Imported here: the websockets client would cost every `parley` command's start, and
        # only the echo channel's upstream uses it.
        from server.adapters.upstream import UpstreamPool

        pool_size = settings.echo_upstream_connections
        upstream = UpstreamPool(settings.echo_upstream, settings.echo_timeout, pool_size)
    private_folder(settings.data_dir)  # 0700, also when an older version made it 0755
    for store in (settings.resolved_files_dir, settings.resolved_exports_dir):
        private_folder(store, create=False)  # each store makes its own (0700) when first used
    database = Database(settings.resolved_database_url)
    hub: Hub = RelayHub(database)  # one process: the command line's events come through the database
    registry = budgets = gather = None
    if settings.redis_url:  # several nodes: events and presence go through Redis
        # Imported here: redis.asyncio is a tenth of a second of every `parley` command's start,
        # and only a cluster uses it (tests/cli/test_startup.py).
        from server.adapters.cluster.redis_budgets import RedisBudgets
        from server.adapters.cluster.redis_gather import RedisGather
        from server.adapters.cluster.redis_hub import RedisHub
        from server.adapters.cluster.redis_presence import RedisRegistry

        hub = RedisHub(settings.redis_url, settings.redis_channel)
        registry = RedisRegistry(settings.redis_url, settings.redis_channel, settings.presence_ttl)
        budgets = RedisBudgets(settings.redis_url, settings.redis_channel, settings.presence_ttl)
        gather = RedisGather(settings.redis_url, settings.redis_channel, registry)  # PROTOCOL.md section 17
    guard = AddressGuard(settings.webhook_allow_hosts)  # PROTOCOL.md section 12: the SSRF guard
    ports = Ports(
        hub=hub,
        registry=registry,
        budgets=budgets,
        file_store=LocalFileStore(settings.resolved_files_dir),
        upstream=upstream,
        url_guard=guard,
        # The poster and page source make their HTTP client (and import httpx) at their first use,
        # in a webhook or previews worker: the command line never does, and a server (re)starting
        # under its reconnecting clients answers sooner (server.app warms httpx in a thread).
        poster=HttpPoster(guard, settings.webhook_timeout, lazy=True),
        # PROTOCOL.md section 13: pages fetched through a guard of their own (its own allow list)
        page_source=(
            HttpPageSource(AddressGuard(settings.preview_allow_hosts), lazy=True)
            if settings.previews
            else None
        ),
        identity_provider=identity_provider(settings),  # PROTOCOL.md section 14
        app_tokens=app_token_verifier(settings),  # PROTOCOL.md section 17
        **mail_ports(settings),  # PROTOCOL.md section 15
        push_sender=push_sender(settings) if serving else None,  # the command line sends none
        export_store=LocalExportStore(settings.resolved_exports_dir),  # PROTOCOL.md section 16
        gather=gather,  # PROTOCOL.md section 17: asking every node
    )
    return Chat(
        database,
        settings.secret(),
        settings.token_ttl,
        limits_from(settings),
        settings.default_topics,
        ports,
        public_topic=settings.public_topic,
        serving=serving,
    )
