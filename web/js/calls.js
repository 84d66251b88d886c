// Calls in the page (PROTOCOL.md section 18): the calls running in my conversations (call:list,
// call:started, call:joined, call:left, call:ended), the one this page is in (a CallSession),
// the incoming call that rings, and what the person does with them. What is shown of them is
// ui/call_screen.js's. Media never passes through Parley; only the signals do.
import { CallSession } from "./call_session.js";
import { Ringer } from "./call_ring.js";
import { exposeCalls } from "./call_debug.js";
import { people } from "./people.js";
import { isDirect, keyOf, labelOf, sendTarget } from "./targets.js";
import { CallScreen } from "./ui/call_screen.js";

const NOTICE_MS = 12_000;
const idOf = (value) => (value && typeof value === "object" ? value.id : value);
const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

export class Calls {
  constructor(chat) {
    this.chat = chat;
    this.running = new Map(); // conversation key -> Call
    this.session = null;
    this.incoming = null; // the Call ringing
    this.tookPart = new Set(); // ids of the calls this page was in: their end is said
    this.notices = [];
    this.ringer = new Ringer(chat.alerts);
    this.screen = new CallScreen(this, chat);
    exposeCalls(this);
  }

  /** The conversation a call belongs to, as the page names it ("general", "@bob"). */
  where(call) {
    if (call.topic) return call.topic;
    const other = call.with && !this.chat.state.isMe(call.with) ? call.with : call.started_by;
    return `@${other}`;
  }

  find(id) {
    return [...this.running.values()].find((call) => String(call.id) === String(id)) ?? null;
  }

  put(call) {
    if (call?.id == null) return;
    this.running.set(keyOf(this.where(call)), call);
    if (this.session && String(this.session.call.id) === String(call.id)) this.session.call = call;
  }

  mine(call) {
    return Boolean(call && this.session && String(this.session.call.id) === String(call.id));
  }

  /** At each (re)connect: the calls running now; the one this page is in is joined again (a new socket). */
  async load() {
    if (!(await this.refresh())) return;
    if (this.session?.peerId) await this.rejoin(); // joined before this connection
  }

  /** The calls running now (call:list): at a connect, after leaving, and as the page's periodic
   * backstop for an event missed; a ringing call no longer running stops ringing. */
  async refresh() {
    let answer;
    try {
      answer = await this.chat.conn.request("call:list", {});
    } catch {
      return false; // offline, or an older server: no calls
    }
    this.running.clear();
    for (const call of Array.isArray(answer) ? answer : answer?.calls ?? []) this.put(call);
    if (this.incoming && !this.find(this.incoming.id)) this.stopRinging();
    this.changed();
    return true;
  }

  on(event, data) {
    if (event === "call:started") this.onStarted(data?.id != null ? data : data?.call);
    else if (event === "call:joined") this.onJoined(data ?? {});
    else if (event === "call:signal") this.onSignal(data ?? {});
    else if (event === "call:left") this.onLeft(data ?? {});
    else if (event === "call:ended") this.onEnded(data ?? {});
    this.changed();
  }

  onStarted(call) {
    if (!call) return;
    this.put(call);
    const session = this.session;
    if (session && session.call.id == null && session.starting === keyOf(this.where(call)) && this.chat.state.isMe(call.started_by)) {
      session.call = call; // mine, told before call:start's answer: who joins meanwhile is this call's
    }
    if (this.chat.state.isMe(call.started_by) || this.mine(call)) return;
    this.incoming = call;
    const where = this.where(call);
    const who = people().nameOf(call.started_by);
    this.ringer.start({ id: call.id, title: `${who} is calling`, body: isDirect(where) ? "" : `in ${labelOf(where)}`,
      open: () => this.chat.actions.open(where) });
  }

  onJoined({ call, username, peer }) {
    const known = this.find(idOf(call));
    if (known && !(known.participants ??= []).some((u) => same(u, username))) known.participants.push(username);
    if (this.chat.state.isMe(username) && String(this.incoming?.id) === String(idOf(call))) this.stopRinging(); // answered elsewhere
    if (!this.mine({ id: idOf(call) })) return;
    if (this.chat.state.isMe(username) && this.session.peerId && peer !== this.session.peerId) {
      this.hangUp("You joined this call from another tab or device.");
    } else this.session.onJoined({ username, peer });
  }

  onSignal({ call, from, data }) {
    if (this.mine({ id: idOf(call) })) this.session.onSignal({ from, data });
  }

  onLeft({ call, username, peer }) {
    const known = this.find(idOf(call));
    if (known) known.participants = (known.participants ?? []).filter((u) => !same(u, username));
    if (!this.mine({ id: idOf(call) })) return;
    const me = this.chat.state.isMe(username) && (!peer || peer === this.session.peerId);
    if (me) this.hangUp("You are no longer in the call.");
    else this.session.onLeft({ username, peer });
  }

  onEnded({ call, duration_s: seconds }) {
    const id = idOf(call);
    const known = this.find(id);
    if (known) this.running.delete(keyOf(this.where(known)));
    const concerned = this.tookPart.has(String(id)) || String(this.incoming?.id) === String(id);
    if (String(this.incoming?.id) === String(id)) this.stopRinging();
    if (this.mine({ id })) this.hangUp(null);
    if (concerned || (known && keyOf(this.where(known)) === this.chat.state.current)) {
      const where = known ? ` in ${labelOf(this.where(known))}` : "";
      this.chat.env.toasts.show(`The call${where} ended${typeof seconds === "number" ? ` after ${duration(seconds)}` : ""}.`);
    }
  }

  // ---- what the person does ------------------------------------------------------

  /** The header's audio or video button: start a call in the open conversation and join it. */
  async start(media) {
    const name = this.chat.state.currentName;
    if (!name || !(await this.leaveFor())) return;
    const session = this.open({ id: null, media, participants: [] });
    session.starting = keyOf(name);
    await session.open();
    if (session.closed) return;
    try {
      const answer = await this.chat.conn.request("call:start", { ...sendTarget(name), media });
      const call = answer?.call ?? answer;
      this.put(call);
      session.call = call;
      await this.enter(session, answer?.peer ? answer : null);
    } catch (err) {
      this.fail(session, err);
    }
  }

  /** Join a running call (the header's Join, the banner's). */
  async join(call) {
    if (this.mine(call) || !(await this.leaveFor())) return;
    this.stopRinging();
    const session = this.open(call);
    await session.open();
    try {
      await this.enter(session, null);
    } catch (err) {
      this.fail(session, err);
    }
  }

  open(call) {
    this.notices = [];
    this.session = new CallSession({
      call, me: this.chat.state.me, video: call.media === "video",
      signal: (to, data) => this.signal(to, data), changed: () => this.changed(), notice: (text) => this.notice(text),
    });
    this.changed();
    return this.session;
  }

  /** call:join (unless the start's answer already says the peer), then connect to everyone in it. */
  async enter(session, answered) {
    if (session.closed) return;
    const answer = answered ?? await this.chat.conn.request("call:join", { call: session.call.id });
    if (session.closed) return this.chat.conn.request("call:leave", { call: session.call.id }).catch(() => {});
    if (answer?.call) this.put(answer.call);
    this.tookPart.add(String(session.call.id));
    session.joined(answer);
    this.changed();
  }

  /** A new socket after a reconnect: join again (the seat is kept within the grace). */
  async rejoin() {
    const session = this.session;
    const old = session.suspend(); // the old peer's call:left is not this page's; signals wait
    try {
      const answer = await this.chat.conn.request("call:join", { call: session.call.id });
      if (session === this.session) session.resumed(answer, old);
    } catch (err) {
      if (session === this.session) this.hangUp(`The call could not be joined again: ${err.message}`);
    }
  }

  fail(session, err) {
    session.close();
    if (this.session === session) this.session = null;
    this.chat.env.toasts.error(err);
    this.changed();
  }

  signal(to, data) {
    const session = this.session;
    if (!session?.call?.id) return Promise.resolve();
    return this.chat.conn.request("call:signal", { call: session.call.id, to, data }, { waitForConnection: false })
      .catch((err) => console.warn("call: a signal was not relayed", err.code));
  }

  /** Before starting or joining another: the call this page is in is left (asked first). */
  async leaveFor() {
    if (!this.session) return true;
    if (!confirm("Leave the call you are in?")) return false;
    await this.leave();
    return true;
  }

  async leave() {
    const session = this.session;
    if (!session) return;
    for (const id of session.peers.keys()) this.signal(id, { bye: true }); // their tiles go at once
    this.hangUp(null);
    if (session.call?.id == null) return;
    await this.chat.conn.request("call:leave", { call: session.call.id }).catch(() => {});
    await this.refresh();
  }

  /** This page is out of its call (left, ended, removed): media stops; `why` is said when given. */
  hangUp(why) {
    this.session?.close();
    this.session = null;
    this.screen.hungUp();
    this.notices = [];
    if (why) this.chat.env.toasts.show(why);
    this.changed();
  }

  answer() {
    const call = this.incoming;
    this.stopRinging();
    if (call) this.join(call);
  }

  decline() {
    this.stopRinging();
    this.changed();
  }

  stopRinging() {
    this.ringer.stop();
    this.incoming = null;
  }

  notice(text) {
    this.notices = [...this.notices.filter((t) => t !== text), text];
    setTimeout(() => { this.notices = this.notices.filter((t) => t !== text); this.changed(); }, NOTICE_MS);
    this.changed();
  }

  // ---- views ------------------------------------------------------------------------

  /** Something shown changed: the call's views are drawn again, once for any number of changes. */
  changed() {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      this.screen.render();
    });
  }

  render() {
    this.screen.render();
  }

  destroy() {
    this.stopRinging();
    if (this.session) this.leave();
    this.screen.close();
  }
}

/** "45 s", "3 min 05 s", "1 h 02 min" */
function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}
