"""Calls in the page (PROTOCOL.md section 18), with real media: Chromium's fake microphone, camera
and screen (``--use-fake-device-for-media-stream``, ``--use-fake-ui-for-media-stream``, which also
picks a screen for ``getDisplayMedia``), the pages' own RTCPeerConnections, signalled through
Parley, and for the relay a real coturn started here.

Media flowing is read where it lands: each page's ``RTCPeerConnection.getStats()`` (the page's
``window.parleyCalls``, set only on a test's page), inbound RTP bytes from every other participant
growing between two looks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from tests.scaleout.conftest import two_nodes
from tests.support import LiveServer, polled
from tests.support import test_settings as make_settings
from tests.web.axe import assert_accessible
from tests.web.chat_page import ChatPage
from tests.web.conftest import ARTIFACTS, CHROMIUM_ARGS, DESKTOP, PHONE, TEST_HOOKS, Chromium

pytestmark = pytest.mark.browser

MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
FLOWING = 25.0  # seconds for media to start or keep flowing between pages (ICE, DTLS, the first frames)
TURN_SECRET = "coturn-and-parley-share-this"
# The fake camera and screen at a thumbnail's size and rate: what the tests look at is that media
# flows between the pages, and three pages encoding and decoding 640x480 at 30 frames a second
# took the cores from every other test of the run (the calls' tests were a minute each in CI).
SMALL_MEDIA = """
(() => {
  const devices = navigator.mediaDevices;
  if (!devices) return;
  const small = { width: 160, height: 120, frameRate: 5 };
  const shrunk = (c) => c && c.video
    ? { ...c, video: { ...(typeof c.video === "object" ? c.video : {}), ...small } } : c;
  const camera = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (c) => camera(shrunk(c));
  if (devices.getDisplayMedia) {
    const screen = devices.getDisplayMedia.bind(devices);
    devices.getDisplayMedia = (c) => screen(shrunk(c || { video: true }));
  }
})();
"""
# A page whose camera the browser refuses (the fake UI grants everything): getUserMedia for video
# fails as a refusal does, the microphone still works.
REFUSE_CAMERA = """
const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (c) => c && c.video
  ? Promise.reject(new DOMException("Permission denied", "NotAllowedError")) : real(c);
"""

# A test's page hands its peer connections other TURN credentials than the join's (its username
# when given, and the credential), through the page's test hook.
ALTERED = """([name, credential]) => {
  window.__parleyTest.iceServers = (servers) =>
    servers.map((s) => ({ ...s, username: name || s.username, credential }));
}"""
# A page in another tab (hidden until ``window.__shown``), with alerts.js's notifications switched
# on and granted; the notifications it would show are recorded (headless Chromium shows none).
HIDDEN_WITH_NOTIFICATIONS = """
window.__notes = [];
window.Notification = class {
  static permission = "granted";
  static async requestPermission() { return "granted"; }
  constructor(title, options = {}) { Object.assign(this, options, { title }); window.__notes.push(this); }
  close() {}
};
Object.defineProperty(document, "visibilityState", { get: () => (window.__shown ? "visible" : "hidden") });
localStorage.setItem("parley.alerts", JSON.stringify({ notify: true, sound: true }));
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def media_chromium(chromium: Chromium) -> AsyncIterator[Browser]:
    """A Chromium of this module's own, with a fake microphone, camera and screen, granted."""
    browser = await chromium.playwright.chromium.launch(
        executable_path=chromium.executable, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
    )
    yield browser
    await browser.close()


@pytest.fixture
def page_scripts() -> tuple[str, ...]:
    """tests/web/conftest.py's, and the small fake camera."""
    return (TEST_HOOKS, SMALL_MEDIA)


@pytest_asyncio.fixture(loop_scope="session")
async def browser(media_chromium: Browser) -> AsyncIterator[Browser]:
    """tests/web/conftest.py's ``browser`` for this module: the one with media."""
    expect.set_options(timeout=10_000)
    yield media_chromium
    for context in media_chromium.contexts:
        await context.close()


@dataclass
class Turn:
    port: int
    log: Path


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Turn]:
    """coturn on 127.0.0.1 (an ephemeral port), checking TURN REST API credentials with
    ``TURN_SECRET``; stopped by its PID after the test."""
    executable = shutil.which("turnserver") or "/usr/sbin/turnserver"
    if not os.access(executable, os.X_OK):
        pytest.skip("no coturn (turnserver): apt-get install -y coturn")
    port = _free_udp_port()
    low = random.randrange(42000, 58000, 100)
    log = tmp_path / "turn.log"
    args = [
        executable, "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
        "--listening-port", str(port), "--min-port", str(low), "--max-port", str(low + 99),
        "--use-auth-secret", "--static-auth-secret", TURN_SECRET, "--realm", "parley.test",
        "--no-tls", "--no-dtls", "--allow-loopback-peers", "--no-cli",
        "--log-file", str(log), "--simple-log", "--no-stdout-log", "--userdb", str(tmp_path / "turndb"),
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_stun(port, process, log)
        yield Turn(port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """The test settings; with ``"turn"`` (indirect), coturn's URL and the secret it shares."""
    if getattr(request, "param", None) != "turn":
        return make_settings(tmp_path / "data")
    turn: Turn = request.getfixturevalue("coturn")
    return make_settings(
        tmp_path / "data", ice_servers=[f"turn:127.0.0.1:{turn.port}"], turn_secret=TURN_SECRET
    )


@pytest_asyncio.fixture(loop_scope="session")
async def nodes(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Two nodes of one deployment (PostgreSQL and Redis), on the session's loop as the browser."""
    async with two_nodes(tmp_path) as both:
        yield both


async def page_on(browser: Browser, node: LiveServer, name: str, request: pytest.FixtureRequest) -> ChatPage:
    """A chat page of ``node``, in a context of its own (as ``new_page`` opens one on the one server)."""
    context = await browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
    context.set_default_timeout(10_000)
    await context.add_init_script(TEST_HOOKS + SMALL_MEDIA)
    page = ChatPage(await context.new_page(), node.url, name, ARTIFACTS / request.node.name)
    await page.open()
    return page


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_stun(port: int, process: subprocess.Popen[bytes], log: Path, within: float = 30.0) -> None:
    """coturn answers a STUN binding request (it listens), or fails the test saying so, with the end
    of its log. The bound is generous: a CI machine running the suite on both cores once took
    over 10 s here (its log was not kept then)."""
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + os.urandom(12)
    deadline = time.monotonic() + within
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)  # one look's bound: the loop below is the wait, to the deadline
        while time.monotonic() < deadline:
            assert process.poll() is None, f"coturn exited ({process.returncode})"
            probe.sendto(request, ("127.0.0.1", port))
            try:
                if probe.recv(512)[:2] == b"\x01\x01":
                    return
            except TimeoutError:
                continue
    said = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise AssertionError(f"coturn did not answer on 127.0.0.1:{port} within {within} s; its log:\n{said}")


# ---- what the tests read of a page ---------------------------------------------------------


async def received(page: ChatPage) -> dict[str, int]:
    """Bytes of RTP this page has received, by the participant they came from."""
    got: dict[str, int] = await page.evaluate("window.parleyCalls.received()")
    return got


async def receiving(page: ChatPage, *others: str, sending: Sequence[ChatPage] = ()) -> None:
    """Media from each of ``others`` reaches ``page``, and keeps coming (more at a second look).
    A failure says what each page of ``sending`` sends and could not open, beside what ``page`` got."""
    first: dict[str, int] = {}

    async def flowing() -> bool:
        now = await received(page)
        if not all(now.get(o, 0) > 0 for o in others):
            return False
        first.update({o: now[o] for o in others if o not in first})
        return all(now[o] > first[o] for o in others)

    try:
        await polled(flowing, FLOWING)
    except TimeoutError:
        peers = await page.evaluate("window.parleyCalls.peers()")
        got = await received(page)
        senders = {
            other.name: await other.evaluate("[window.parleyCalls.peers(), window.parleyCalls.problems()]")
            for other in sending
        }
        raise AssertionError(
            f"{page.name} gets no media from {others}: {got} {peers}; they: {senders}"
        ) from None


def tile(page: ChatPage, username: str) -> Any:
    return page.page.locator(f'[data-testid="call-tile"][data-username="{username}"]')


async def sent(page: ChatPage) -> dict[str, Any] | None:
    track: dict[str, Any] | None = await page.evaluate("window.parleyCalls.sent()")
    return track


async def in_topic(
    names: list[str], new_page: Any, topic: str, phone: set[str] | None = None
) -> list[ChatPage]:
    """A page per name, each registered; the first creates ``topic`` and the others join it."""
    pages = []
    for name in names:
        page = await new_page(name, PHONE if name in (phone or set()) else None)
        await page.register(name)
        pages.append(page)
    await pages[0].create_topic(topic)
    for page in pages[1:]:
        await page.join(topic)
    return pages


# ---- the tests ------------------------------------------------------------------------------------


async def test_two_then_three_people_see_and_hear_each_other_and_the_call_ends_when_the_last_leaves(
    new_page,
) -> None:
    alice, bob, carol = await in_topic(["alice", "bob", "carol"], new_page, "huddle", phone={"carol"})
    await bob.open_topic("lobby")  # bob reads elsewhere: the banner finds him there

    await alice.by("call-video").click()
    await expect(alice.by("call-view")).to_be_visible()
    await expect(bob.by("call-banner")).to_be_visible()
    await expect(bob.by("call-banner-text")).to_have_text("alice is calling in #huddle (video)")
    assert (await bob.evaluate("window.parleyCalls.ringing()"))["rings"] >= 1  # the chime, looped
    await assert_accessible(bob.page, "the incoming-call banner")
    await bob.screenshot("ringing")
    await expect(carol.by("call-banner")).to_be_visible()
    await carol.screenshot("ringing-phone")
    await carol.by("call-banner-decline").click()  # not now: the banner goes, the ringing stops
    await expect(carol.by("call-banner")).to_be_hidden()
    assert (await carol.evaluate("window.parleyCalls.ringing()"))["call"] is None
    await bob.by("call-banner-join").click()
    await expect(bob.by("call-banner")).to_be_hidden()
    await receiving(alice, "bob")
    await receiving(bob, "alice")
    await expect(tile(alice, "bob")).to_have_attribute("data-video", "true")
    # the fake microphone beeps: the speaker's tile lights up on the other page
    await expect(tile(bob, "alice")).to_have_attribute("data-speaking", "true")

    # carol opens the topic: the header shows the running call, with Join
    await carol.open_topic("huddle")
    await expect(carol.by("call-running")).to_have_text("Video call · 2 people")
    await carol.by("call-join").click()
    for page, others in ((alice, ("bob", "carol")), (bob, ("alice", "carol")), (carol, ("alice", "bob"))):
        await expect(page.by("call-tile")).to_have_count(3)
        await receiving(page, *others)
    await alice.screenshot("three")
    await carol.screenshot("three-phone")
    await assert_accessible(alice.page, "a call of three")
    await assert_accessible(carol.page, "a call of three at phone width")

    # the call stays while alice reads another conversation, and media keeps flowing
    await alice.open_topic("lobby")
    await expect(alice.by("call-view")).to_be_visible()
    await expect(alice.by("call-title")).to_have_text("Call in #huddle · 3 in it")
    await receiving(alice, "bob", "carol")

    await carol.by("call-leave").click()
    await expect(carol.by("call-view")).to_be_hidden()
    await expect(carol.by("call-join")).to_be_visible()  # still running, she may come back
    for page in (alice, bob):
        await expect(page.by("call-tile")).to_have_count(2)
    await bob.by("call-leave").click()
    await expect(alice.by("call-tile")).to_have_count(1)
    await alice.by("call-leave").click()
    for page in (alice, bob, carol):
        await expect(page.by("call-view")).to_be_hidden()
        await expect(page.toast("The call in #huddle ended after")).to_be_visible()
    await expect(carol.by("call-running")).to_be_hidden()
    await expect(carol.by("call-video")).to_be_visible()


async def test_a_direct_call_rings_a_hidden_page_goes_on_without_a_refused_camera_and_survives_a_reconnect(
    new_page,
) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await bob.register("bob")
    await alice.register("alice")
    await alice.start_direct("bob")
    await alice.send("a word before the call")
    await bob.page.context.add_init_script(REFUSE_CAMERA + HIDDEN_WITH_NOTIFICATIONS)
    await bob.page.reload()
    await bob.settled()

    await alice.by("call-video").click()
    await expect(bob.by("call-banner-text")).to_have_text("alice is calling (video)")
    await bob.page.wait_for_function("() => window.__notes.some((n) => n.title === 'alice is calling')")
    await bob.evaluate("window.__shown = true")  # he comes back to the page, and answers
    await bob.by("call-banner-join").click()
    await expect(bob.by("call-notice")).to_contain_text("The browser refused the camera")
    await expect(bob.by("call-notice")).to_contain_text("without your video")
    await receiving(alice, "bob")  # bob's voice
    await receiving(bob, "alice")
    await expect(tile(alice, "bob")).to_have_attribute("data-video", "false")  # his initials

    # another microphone, chosen in the devices menu, kept in this browser, sent at once
    await alice.by("call-devices").click()
    await alice.by("call-device-audio").select_option(label="Fake Audio Input 1")
    await alice.by("call-devices-close").click()
    microphone = "window.parleyCalls.calls.session.local.getAudioTracks()[0].label"
    assert await alice.evaluate(microphone) == "Fake Audio Input 1"
    assert await alice.evaluate("JSON.parse(localStorage.getItem('parley.callDevices')).audio")
    await receiving(bob, "alice")

    # bob's connection drops: his page joins again from its new socket, and media flows anew
    old_peer = await bob.evaluate("window.parleyCalls.calls.session.peerId")
    await bob.test_hook("chat.conn.socket.io.engine.close()")
    await bob.page.wait_for_function(
        "(old) => { const s = window.parleyCalls.calls.session; return s && s.peerId && s.peerId !== old; }",
        arg=old_peer,
    )
    await expect(alice.by("call-tile")).to_have_count(2)
    await receiving(alice, "bob")
    await receiving(bob, "alice")
    await bob.by("call-leave").click()
    await expect(alice.by("call-tile")).to_have_count(1)  # alone now: the call runs until she leaves
    await alice.by("call-leave").click()
    await expect(alice.by("call-view")).to_be_hidden()
    await expect(alice.by("call-video")).to_be_visible()  # no call runs in the conversation any more
    await expect(bob.toast("The call in @alice ended after")).to_be_visible()


async def test_a_shared_screen_replaces_the_camera_and_the_camera_comes_back(new_page) -> None:
    alice, bob = await in_topic(["alice", "bob"], new_page, "demo")
    await alice.by("call-audio").click()  # an audio call: the screen goes on the same video sender
    await bob.by("call-banner-join").click()
    await receiving(bob, "alice")
    assert await sent(alice) is None
    await alice.by("call-camera").click()
    await expect(tile(bob, "alice")).to_have_attribute("data-video", "true")
    camera = await sent(alice)
    assert camera is not None and camera["displaySurface"] is None

    await alice.by("call-screen").click()
    await expect(alice.by("call-screen")).to_have_attribute("aria-pressed", "true")
    screen = await sent(alice)
    assert screen is not None and screen["displaySurface"] == "monitor", screen
    assert screen["label"] != camera["label"]
    await receiving(bob, "alice")  # the screen, through the same sender
    await alice.screenshot("sharing")

    await alice.by("call-screen").click()  # stop sharing: back to the camera
    await expect(alice.by("call-screen")).to_have_attribute("aria-pressed", "false")
    back = await sent(alice)
    assert back is not None and back["displaySurface"] is None
    await receiving(bob, "alice")
    await alice.by("call-camera").click()
    await expect(tile(bob, "alice")).to_have_attribute("data-video", "false")  # her initials again
    await bob.by("call-mic").click()
    await expect(tile(alice, "bob").locator(".call-muted")).to_be_visible()


async def test_when_both_sides_offer_at_once_each_sends_on_the_two_negotiated_transceivers(new_page) -> None:
    """Perfect negotiation's collision, in one page: two ``Peer``s that both offer (each thinks the
    other joined after it), their signals crossing. The impolite one ignores the other's offer; the
    polite one answers it on a new connection, sending on the offer's transceivers, and offers no
    more. Not by rolling its own offer back: Chromium, its offer rolled back while it gathered, at
    times never found a candidate again, even on ICE restarts, so the two stayed 'new' and offered
    again every 4 s (5 and 4 offers, once in 24 runs with the cores busy, and in a CI run). Both
    connect: the candidates of the offer the impolite one ignored do not get in the way."""
    page = await new_page("anyone")
    found = await page.evaluate(
        """async () => {
          const { Peer } = await import("/js/call_peer.js");
          const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
          const tracks = () => ({ audio: media.getAudioTracks()[0], video: media.getVideoTracks()[0] });
          const peers = {};
          const make = (id, other, polite) => new Peer({
            id: other, username: other, polite, initiate: true, iceServers: [], policy: "all", tracks,
            send: (data) => setTimeout(() => peers[other].receive(structuredClone(data)), 0),
            changed: () => {},
          });
          peers.a = make("a", "b", true);
          peers.b = make("b", "a", false);
          const negotiated = (t) => ["sendrecv", "inactive"].includes(t.currentDirection);
          const settled = (peer) => peer.pc.signalingState === "stable"
            && peer.pc.connectionState === "connected" && peer.pc.getTransceivers().every(negotiated);
          const until = Date.now() + 15000;
          while (!(settled(peers.a) && settled(peers.b)) && Date.now() < until) {
            await new Promise((done) => setTimeout(done, 50));
          }
          const offers = () => [peers.a, peers.b].map((p) => p.traffic.sent.offer ?? 0);
          const settledOffers = offers();
          await new Promise((done) => setTimeout(done, 1500));  // a negotiation takes a few ms here
          const shape = (peer) => peer.pc.getTransceivers().map((t) => ({
            kind: t.receiver.track.kind, direction: t.currentDirection, sending: Boolean(t.sender.track),
          }));
          const connected = [peers.a, peers.b].map((p) => p.pc.connectionState);
          return { a: shape(peers.a), b: shape(peers.b), connected, offers: [settledOffers, offers()] };
        }"""
    )
    both_ways = [
        {"kind": "audio", "direction": "sendrecv", "sending": True},
        {"kind": "video", "direction": "sendrecv", "sending": True},
    ]
    settled_offers, later_offers = found.pop("offers")
    assert settled_offers == later_offers == [1, 1], (settled_offers, later_offers)
    assert found == {"a": both_ways, "b": both_ways, "connected": ["connected", "connected"]}, found


async def through_a_relay(page: ChatPage, relay: str) -> list[tuple[str, dict[str, dict[str, int]]]]:
    """Two ``Peer``s in one page, b answering a's offer, their signals passed on by ``relay`` (a
    function of the receiving ``Peer`` and the signal, which it may delay or drop): each one's
    connection state once both connect or 20 s on, and the signals each sent and received."""
    script = """async () => {
          const { Peer } = await import("/js/call_peer.js");
          const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
          const tracks = () => ({ audio: media.getAudioTracks()[0], video: null });
          const pass = RELAY;
          const peers = {};
          const make = (other, polite, initiate) => new Peer({
            id: other, username: other, polite, initiate, iceServers: [], policy: "all", tracks,
            send: (data) => pass(peers[other], structuredClone(data)), changed: () => {},
          });
          peers.b = make("a", false, false); // b, in the call, answers
          peers.a = make("b", true, true); // a, the joiner, offers
          const connected = () => ["a", "b"].every((id) => peers[id].pc.connectionState === "connected");
          const until = Date.now() + 20000;
          while (!connected() && Date.now() < until) await new Promise((done) => setTimeout(done, 50));
          return ["a", "b"].map((id) => [peers[id].pc.connectionState, peers[id].traffic]);
        }"""
    found = await page.evaluate(script.replace("RELAY", relay))  # the page's policy allows no eval
    return [(state, traffic) for state, traffic in found]


async def test_candidates_that_come_before_their_description_are_kept_and_the_call_connects(new_page) -> None:
    """A relay that hands over every description late and every batch of candidates at once, so
    each side's candidates come before the offer or answer they belong to (a relay that lets a
    later signal overtake, a page that reconnected): kept until the description is set, not thrown
    away, and both connections connect (they stayed "new" before, each side without a single
    candidate of the other's)."""
    late = "(to, data) => setTimeout(() => to.receive(data), data.description ? 300 : 0)"
    found = await through_a_relay(await new_page("anyone"), late)
    assert [state for state, _ in found] == ["connected", "connected"], found
    assert all(traffic["received"].get("candidates", 0) > 0 for _, traffic in found), found


async def test_a_negotiation_whose_candidates_were_all_lost_restarts_and_connects(new_page) -> None:
    """A relay that loses every batch of candidates of the first offer and answer (a page offline
    for a moment sends nothing; a signal is never sent again): still "new" some seconds on, the
    connection restarts ICE, and the new offer's candidates connect it. It stayed "new" for good
    before."""
    lossy = """(() => {
      let descriptions = 0;
      return (to, data) => {
        if (data.description) descriptions += 1;
        if (data.candidates && descriptions < 3) return; // the first offer's and answer's: lost
        setTimeout(() => to.receive(data), 0);
      };
    })()"""
    found = await through_a_relay(await new_page("anyone"), lossy)
    assert [state for state, _ in found] == ["connected", "connected"], found
    offers = sum(traffic["sent"].get("offer", 0) for _, traffic in found)
    assert offers >= 2, found  # the first, and the restart's


@pytest.mark.redis
@pytest.mark.postgres
async def test_two_people_on_two_nodes_see_and_hear_each_other(
    browser: Browser, nodes: tuple[LiveServer, LiveServer], request: pytest.FixtureRequest
) -> None:
    node_a, node_b = nodes
    alice = await page_on(browser, node_a, "alice", request)
    bob = await page_on(browser, node_b, "bob", request)
    await alice.register("alice")
    await bob.register("bob")
    await alice.create_topic("across")
    await bob.join("across")

    await alice.by("call-video").click()
    await bob.by("call-banner-join").click()  # the call started on node A rings on node B
    await receiving(alice, "bob", sending=[bob])  # offers, answers and candidates relayed between the nodes
    await receiving(bob, "alice", sending=[alice])
    await bob.by("call-leave").click()
    await expect(alice.by("call-tile")).to_have_count(1)
    await alice.by("call-leave").click()
    await expect(bob.toast("The call in #across ended after")).to_be_visible()
    assert not alice.page_errors and not bob.page_errors, (alice.page_errors, bob.page_errors)


def _credential(username: str) -> str:
    digest = hmac.new(TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@pytest.mark.parametrize("settings", ["turn"], indirect=True)
async def test_forced_through_coturn_a_call_connects_on_relays_and_a_forged_or_expired_credential_does_not(
    new_page, coturn: Turn
) -> None:
    alice, bob, carol, dave = await in_topic(["alice", "bob", "carol", "dave"], new_page, "relayed")
    for page in (alice, bob, carol, dave):
        await page.evaluate("localStorage.setItem('parley.iceTransportPolicy', 'relay')")

    await alice.by("call-audio").click()
    await bob.by("call-banner-join").click()
    await receiving(alice, "bob")
    await receiving(bob, "alice")
    assert await alice.evaluate("window.parleyCalls.paths()") == {"bob": "relay"}
    assert await bob.evaluate("window.parleyCalls.paths()") == {"alice": "relay"}
    servers = await alice.evaluate("window.parleyCalls.calls.session.iceServers")
    expiry, _, who = servers[0]["username"].partition(":")
    assert who == "alice" and int(expiry) > time.time() + 3600, servers  # Parley's REST credential

    # carol's page alters the credential; dave's presents a signed username whose time is past
    forged = base64.b64encode(b"forged by carol, twenty bytes").decode()
    await carol.page.evaluate(ALTERED, [None, forged])
    expired = f"{int(time.time()) - 60}:dave"
    await dave.page.evaluate(ALTERED, [expired, _credential(expired)])
    for page in (carol, dave):
        await page.by("call-join").click()
        refused = (
            "() => window.parleyCalls.peers().length === 2 && window.parleyCalls.peers().every((p) =>"
            " p.gathering === 'complete' && p.candidateErrors.some((e) => e.errorCode === 401))"
        )
        await page.page.wait_for_function(refused, timeout=FLOWING * 1000)
        peers = await page.evaluate("window.parleyCalls.peers()")
        assert all(p["connection"] != "connected" for p in peers), peers
        assert await received(page) == {"alice": 0, "bob": 0}
        await page.by("call-leave").click()
    await receiving(alice, "bob")  # the two with good credentials never stopped
    # coturn's own word: carol's and dave's credentials refused, alice's and bob's never
    refused = [line for line in coturn.log.read_text().splitlines() if "ERROR" in line]
    assert any(":carol>" in line for line in refused) and any(":dave>" in line for line in refused), refused
    assert not any(":alice>" in line or ":bob>" in line for line in refused), refused
