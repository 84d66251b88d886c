"""One Socket.IO session with the chat namespace, as the protocol describes it.

- connects with ``auth={"token": ...}`` and waits for the ``session`` event; a
  refusal becomes ``ClientError`` with the server's code (``unauthorized``,
  ``token_expired``, ``token_revoked``);
- ``call(event, payload)`` emits with an ack callback and unwraps the ack
  envelope into its ``data`` or a raised ``ClientError(code, message)``;
- ``message`` events are deduplicated by ``id`` before the application sees
  them (the backlog replays what may already have arrived live);
- ``mark_delivered`` feeds cumulative ``delivered`` acks, flushed every
  ``ack_interval`` seconds and once more on ``close``; ``topic_renamed`` and
  ``topic_deleted`` move or drop them when an operator renames or deletes a topic;
- ``lost`` is set when the session cannot continue (the server ended it, or a
  reconnection was refused for its token); ``failure`` says why;
- ``token`` is what every (re)connection presents: ``client_demo.refresh``
  replaces it before the old one expires.

python-socketio reconnects by itself after a transport error; the server then
sends ``session`` and the backlog again, and the dedupe absorbs repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import socketio

from client_demo.delivery import Deduper, DeliveryTracker
from client_demo.errors import AUTH_CODES, ClientError
from client_demo.models import Message, Session, as_session, conversation, is_message

T = TypeVar("T")
MessageHandler = Callable[[Message], Awaitable[None]]
EventHandler = Callable[[Any], Awaitable[None]]
NoticeHandler = Callable[[str], None]

# Never retried: the server refused the event itself, not the transport.
_RETRYABLE = frozenset({"timeout", "disconnected"})


class Connection:
    """A connected chat session; use ``async with`` or ``connect``/``close``."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        reconnect: bool = True,
        timeout: float = 10.0,
        ack_interval: float = 0.3,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.session: Session | None = None
        self.failure: ClientError | None = None
        self.lost = asyncio.Event()
        self._token = token
        self._ack_interval = ack_interval
        self._sio = socketio.AsyncClient(reconnection=reconnect, handle_sigint=False)
        self._dedupe = Deduper()
        self._delivery = DeliveryTracker()
        self._refusal: ClientError | None = None
        self._session_ready: asyncio.Future[Session] | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._closing = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._on_message: MessageHandler | None = None
        self._on_notice: NoticeHandler | None = None
        for event, handler in {
            "connect_error": self._handle_connect_error,
            "disconnect": self._handle_disconnect,
            "session": self._handle_session,
            "message": self._handle_message,
        }.items():
            self._sio.on(event, handler)

    # -- wiring --------------------------------------------------------------

    def on_message(self, handler: MessageHandler) -> None:
        """Call ``handler`` once per distinct ``message`` (live or backlog)."""
        self._on_message = handler

    def on_event(self, event: str, handler: EventHandler) -> None:
        """Call ``handler`` with the payload of every ``event`` from the server."""
        self._sio.on(event, handler)

    def on_notice(self, handler: NoticeHandler) -> None:
        """Tell ``handler`` about disconnections and reconnections, in words."""
        self._on_notice = handler

    @property
    def token(self) -> str:
        """The token the next (re)connection presents."""
        return self._token

    @token.setter
    def token(self, token: str) -> None:
        self._token = token

    def notice(self, text: str) -> None:
        """Tell the notice handler ``text`` (a helper's news, such as a refreshed token)."""
        self._notice(text)

    def _auth(self) -> dict[str, str]:
        """The CONNECT's ``auth``, read at every attempt: a reconnection takes the newest token."""
        return {"token": self._token}

    # -- lifecycle -----------------------------------------------------------

    async def connect(self) -> Session:
        """Connect and wait for ``session``; ``ClientError`` if refused or unreachable."""
        self._session_ready = asyncio.get_running_loop().create_future()
        try:
            await self._sio.connect(self.url, auth=self._auth, wait_timeout=self.timeout)
        except socketio.exceptions.ConnectionError as exc:
            raise self._refusal or ClientError(
                "unreachable", f"cannot connect to {self.url}: {exc}"
            ) from None
        try:
            session = await asyncio.wait_for(asyncio.shield(self._session_ready), self.timeout)
        except TimeoutError:
            await self._sio.disconnect()
            raise ClientError("timeout", "the server sent no session event") from None
        self._flusher = asyncio.create_task(self._flush_loop())
        return session

    async def close(self) -> None:
        """Send the last ``delivered`` acks, then disconnect (or stop reconnecting)."""
        self._closing.set()
        if self._flusher is not None:
            await self._flusher
        await self._sio.shutdown()

    async def __aenter__(self) -> Connection:
        await self.connect()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # -- requests ------------------------------------------------------------

    async def call(
        self, event: str, payload: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Emit ``event`` and return the ack's ``data``; raise ``ClientError`` on an error ack."""
        limit = self.timeout if timeout is None else timeout
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_ack(*args: Any) -> None:
            if not answer.done():
                answer.set_result(args[0] if args else None)

        self._pending.add(answer)
        try:
            await self._sio.emit(event, {} if payload is None else payload, callback=on_ack)
            return unwrap(event, await asyncio.wait_for(answer, limit))
        except socketio.exceptions.SocketIOError:
            raise ClientError("disconnected", "not connected to the server") from None
        except TimeoutError:
            raise ClientError("timeout", f"no answer to {event} within {limit:g}s") from None
        finally:
            self._pending.discard(answer)

    async def until_lost(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``; raise ``failure`` instead if the session is lost first."""
        work = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait({work, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not work.done():
                work.cancel()
        if work.done() and not work.cancelled():
            return work.result()
        raise self.failure or ClientError("disconnected", "the connection was lost")

    def first_time(self, message: Message) -> bool:
        """Record ``message`` as seen (e.g. from an ack); False if it already was."""
        return self._dedupe.first_time(message["id"])

    def mark_delivered(self, message: Message) -> None:
        """``message`` reached the user: include it in the next ``delivered`` ack."""
        self._delivery.mark(message)

    def topic_renamed(self, old: str, new: str) -> None:
        """An operator renamed topic ``old``: acknowledge its messages under ``new`` from now on."""
        self._delivery.rename(conversation(old), conversation(new))

    def topic_deleted(self, name: str) -> None:
        """Topic ``name`` was deleted (or we were removed from it): forget what was to be acknowledged."""
        self._delivery.forget(conversation(name))

    async def flush_delivered(self) -> None:
        """Send the pending cumulative ``delivered`` acks now, one per conversation."""
        batch = self._delivery.take()
        await asyncio.gather(*(self._send_delivered(key, seq) for key, seq in batch))

    async def _send_delivered(self, key: tuple[str, str], seq: int) -> None:
        try:
            await self.call("delivered", DeliveryTracker.payload(key, seq), timeout=5.0)
        except ClientError as exc:
            if exc.code in _RETRYABLE and not self._closing.is_set():
                self._delivery.offer(key, seq)
            return
        self._delivery.confirm(key, seq)

    async def _flush_loop(self) -> None:
        while not self._closing.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._ack_interval)
            if self._sio.connected and not self._delivery.idle:
                await self.flush_delivered()

    # -- server events -------------------------------------------------------

    async def _handle_session(self, data: Any) -> None:
        try:
            session = as_session(data)
        except ClientError:
            return
        first = self.session is None
        self.session = session
        if self._session_ready is not None and not self._session_ready.done():
            self._session_ready.set_result(session)
        # Said from here, not after connect() returns: the backlog follows at once.
        if first:
            self._notice(f"connected to {self.url} as {session.username}")
        else:
            self._notice(f"reconnected as {session.username}")

    async def _handle_message(self, data: Any) -> None:
        if not is_message(data) or not self._dedupe.first_time(data["id"]):
            return
        if self._on_message is not None:
            await self._on_message(data)

    async def _handle_connect_error(self, *args: Any) -> None:
        self._refusal = refusal(args[0] if args else None)
        if self.session is not None and self._refusal and self._refusal.code in AUTH_CODES:
            self._fail(self._refusal)  # a reconnection was refused: retrying cannot help

    async def _handle_disconnect(self, reason: str = "") -> None:
        for answer in list(self._pending):
            if not answer.done():
                answer.set_exception(ClientError("disconnected", "the connection was lost"))
        if self._closing.is_set() or reason == self._sio.reason.CLIENT_DISCONNECT:
            return
        if reason == self._sio.reason.SERVER_DISCONNECT or not self._sio.reconnection:
            self._fail(ClientError("disconnected", "the server closed the connection"))
        else:
            self._notice(f"disconnected ({reason or 'connection lost'}), reconnecting...")

    def _fail(self, error: ClientError) -> None:
        if self.failure is None:
            self.failure = error
        self.lost.set()

    def _notice(self, text: str) -> None:
        if self._on_notice is not None:
            self._on_notice(text)


def unwrap(event: str, ack: Any) -> Any:
    """The ``data`` of a success envelope; ``ClientError`` for a failure envelope."""
    if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
        raise ClientError("bad_reply", f"{event}: the ack is not an envelope: {ack!r:.200}")
    if ack["ok"]:
        return ack.get("data")
    error = ack.get("error")
    if not isinstance(error, dict):
        raise ClientError("bad_reply", f"{event}: failed without an error object")
    raise ClientError(str(error.get("code", "error")), str(error.get("message", "")))


def refusal(data: Any) -> ClientError | None:
    """A ``connect_error`` from the server as ``ClientError(code, message)``.

    None for a transport failure (python-socketio passes a plain string then).
    """
    if not isinstance(data, dict):
        return None
    detail = data.get("data")
    if isinstance(detail, dict) and isinstance(detail.get("code"), str):
        return ClientError(detail["code"], str(detail.get("message", "")))
    if isinstance(data.get("message"), str):
        return ClientError(data["message"], "the server refused the connection")
    return None
