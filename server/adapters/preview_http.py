"""The link previews' HTTP side (PROTOCOL.md section 13): ``HttpPageSource``, the ``PageSource``.

Every URL a message links to is fetched by the server, so every fetch is an SSRF risk and reads
bytes chosen by a stranger. Hence:

- **The webhooks' guard on every hop** (``AddressGuard``, ``server/adapters/webhook_http.py``):
  a host that resolves to a loopback, private, link-local... address is refused unless it is
  allowed (``PARLEY_PREVIEW_ALLOW_HOSTS``). The request then goes to the very address that was
  checked (``pinned``: the IP in the URL, the original ``Host`` header and TLS server name), so a
  DNS answer that changes between the check and the connection redirects nothing. Redirects are
  followed here, not by httpx, so that each ``Location`` (resolved against the URL it came from;
  ``http(s)`` only) is checked and pinned in turn; more than ``redirects`` of them give nothing.
- **Bounded**: the whole fetch (every hop and the body) within ``timeout`` seconds
  (``asyncio.timeout``: a site that dribbles a byte a second cannot hold it longer); the body is
  counted while it is read and reading stops past the cap (a ``Content-Length`` over it is not
  read at all), so at most the cap and one chunk are ever held. Compressed bodies are inflated
  here, to the cap (``zlib``'s ``max_length``): httpx would inflate a whole chunk at once, and
  64 KiB of gzip can be 64 MiB of zeros. No keep-alive: httpx pools connections by address, and a
  TLS connection made for one host name must not carry another's request; every hop connects anew.
- **Never raises**: anything that gives no preview (a refused address, a timeout, a status that
  is not 2xx, too many bytes or redirects, not HTML, no title, a picture that cannot be decoded)
  answers None and logs one INFO line on ``parley.previews``: the host and the reason (never the
  whole URL, whose query may hold a secret).

A page is HTML (``text/html``, ``application/xhtml+xml``), decoded by the Content-Type's charset,
else a byte order mark or a ``<meta charset>`` in its first KiB, else UTF-8 (bad bytes replaced),
then read by ``preview_html.read_page``. A picture's type is what its bytes say
(``preview_images.reencode``). Parsing runs in a worker thread; a picture's decoding and re-encoding
in the pictures' own worker (``server/chat/files/decoding.py``: one at a time, not beside bcrypt).
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
import zlib
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from server.adapters.preview_html import read_page
from server.adapters.preview_images import reencode
from server.adapters.webhook_http import AddressGuard, LazyClient, pinned
from server.chat.files.decoding import decoded
from server.chat.kernel.outbound import AddressRefused
from server.chat.previews.ports import Page, Picture

if TYPE_CHECKING:  # imported where used: the command line builds a page source and never fetches
    import httpx

log = logging.getLogger("parley.previews")

USER_AGENT = "Parley-Preview/1.0 (+link previews)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9"
PICTURE_ACCEPT = "image/png,image/jpeg,image/gif,image/webp;q=0.9"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
INFLATE = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
SNIFF_BYTES = 1024  # where HTML's prescan looks for <meta charset>
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


class NoPreview(Exception):
    """What the fetched thing gives no preview for; its message is the logged reason."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects: relative URLs in the body are relative to it
    charset: str | None
    body: bytes


class HttpPageSource:
    """Fetches pages and pictures for previews through ``guard``, within the given bounds."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        timeout: float = 5.0,
        page_bytes: int = 1 << 20,
        picture_bytes: int = 5 << 20,
        redirects: int = 3,
        lazy: bool = False,
    ) -> None:
        """``lazy``: the client is made at the first fetch, not now (as ``HttpPoster``'s: the
        command line's chat has a page source but runs no previews worker)."""
        self.guard = guard
        self.timeout = timeout
        self.page_bytes = page_bytes
        self.picture_bytes = picture_bytes
        self.redirects = redirects
        self._client = LazyClient(partial(_client, timeout), lazy=lazy)

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client.get()

    async def page(self, url: str) -> Page | None:
        try:
            fetched = await self._fetch(url, PAGE_ACCEPT, self.page_bytes, HTML_TYPES)
            page = await asyncio.to_thread(_read, fetched)
            if page is None:
                raise NoPreview("the page has no title")
            return page
        except Exception as exc:  # whatever it is, no preview: and the send never sees it
            _no_preview(url, exc)
            return None

    async def picture(self, url: str) -> Picture | None:
        try:
            fetched = await self._fetch(url, PICTURE_ACCEPT, self.picture_bytes, None)
            picture = await decoded(reencode, fetched.body)
            if picture is None:
                raise NoPreview("not a PNG, JPEG, GIF or WebP picture Parley may decode")
            return picture
        except Exception as exc:
            _no_preview(url, exc)
            return None

    async def close(self) -> None:
        await self._client.close()

    async def _fetch(self, url: str, accept: str, cap: int, types: frozenset[str] | None) -> Fetched:
        """GET ``url``, following at most ``redirects`` redirects, all within ``timeout``."""
        try:
            async with asyncio.timeout(self.timeout):
                current = url
                for _hop in range(self.redirects + 1):
                    fetched, location = await self._get(current, accept, cap, types)
                    if fetched is not None:
                        return fetched
                    current = location
                raise NoPreview(f"more than {self.redirects} redirects")
        except TimeoutError as exc:
            raise NoPreview(f"not fetched within {self.timeout} s") from exc

    async def _get(
        self, url: str, accept: str, cap: int, types: frozenset[str] | None
    ) -> tuple[Fetched | None, str]:
        """One hop: what ``url`` answers, or (None, where it redirects to)."""
        parsed, address = await self.guard.address(url)
        target, host, extensions = pinned(parsed.copy_with(fragment=None), address)
        request = self.client.build_request(
            "GET", target, headers={"Host": host, "Accept": accept}, extensions=extensions
        )
        response = await self.client.send(request, stream=True)
        try:
            code = response.status_code
            if code in REDIRECTS and "location" in response.headers:
                return None, str(parsed.join(response.headers["location"]).copy_with(fragment=None))
            if not 200 <= code < 300:
                raise NoPreview(f"{parsed.host} answered {code}")
            media_type, charset = _content_type(response.headers.get("content-type", ""))
            if types is not None and media_type not in types:
                raise NoPreview(f"{parsed.host} answered {media_type or 'no content type'}, not HTML")
            body = await _capped(response, cap)
            return Fetched(str(parsed), charset, body), ""
        finally:
            await response.aclose()


def _client(timeout: float) -> httpx.AsyncClient:
    import httpx

    from server.adapters.tls import verifying_context

    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,  # no proxy or netrc from the environment: the guard decides the route
        verify=verifying_context(),  # one CA bundle read for every client (server/adapters/tls.py)
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
    )


async def _capped(response: httpx.Response, cap: int) -> bytes:
    """The body, inflated, counted as it arrives; NoPreview as soon as it is over ``cap`` bytes."""
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "").strip().lower() or "identity"
    if declared.isdigit() and encoding == "identity" and int(declared) > cap:
        raise NoPreview(f"{declared} bytes, more than {cap}")
    if encoding not in INFLATE and encoding != "identity":
        raise NoPreview(f"content encoding {encoding!r}")
    inflate = zlib.decompressobj(INFLATE[encoding]) if encoding in INFLATE else None
    body = bytearray()
    async for raw in response.aiter_raw():
        chunk = inflate.decompress(raw, cap - len(body) + 1) if inflate is not None else raw
        body += chunk
        if len(body) > cap:
            raise NoPreview(f"more than {cap} bytes")
    if inflate is not None:
        body += inflate.flush()
        if len(body) > cap:
            raise NoPreview(f"more than {cap} bytes")
    return bytes(body)


def _content_type(header: str) -> tuple[str, str | None]:
    """The media type (lower case) and the charset parameter of a Content-Type header."""
    media_type, *parameters = header.split(";")
    charset = None
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip("\"'"):
            charset = value.strip().strip("\"'")
    return media_type.strip().lower(), charset


def _read(fetched: Fetched) -> Page | None:
    return read_page(decode(fetched.body, fetched.charset), fetched.url)


def decode(body: bytes, declared: str | None) -> str:
    """HTML bytes as text: a byte order mark, else the header's charset, else a ``<meta
    charset>`` in the first KiB, else UTF-8; an unknown charset is skipped, bad bytes replaced."""
    for bom, bom_encoding in BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_encoding, errors="replace")
    encoding = _known(declared)
    if encoding is None:
        sniffed = META_CHARSET.search(body[:SNIFF_BYTES])
        encoding = _known(sniffed.group(1).decode("ascii")) if sniffed else None
        if encoding is not None and encoding.startswith("utf-16"):
            encoding = "utf-8"  # UTF-16 named in ASCII bytes is not UTF-16 (the HTML standard's rule)
    return body.decode(encoding or "utf-8", errors="replace")


def _known(label: str | None) -> str | None:
    """The codec of a charset label; None when Python knows none, or none for text (base64)."""
    if not label:
        return None
    try:
        b"a".decode(label, errors="replace")  # LookupError: an unknown codec, or bytes-to-bytes
        return codecs.lookup(label).name
    except LookupError:
        return None


def _no_preview(url: str, exc: Exception) -> None:
    import httpx

    try:
        host = httpx.URL(url).host or "?"
    except Exception:
        host = "?"
    if isinstance(exc, NoPreview | AddressRefused):
        reason = str(exc)
    else:
        reason = f"{type(exc).__name__}: {exc}"
    log.info("no preview of %s: %s", host, reason)
