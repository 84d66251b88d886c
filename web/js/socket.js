// The Socket.IO connection: loads the client bundle, turns acks into promises,
// drops duplicate messages by id, acknowledges delivery automatically and
// reports the connection's state (connecting / online / offline / reconnected).
import { AUTH_CODES, ChatError, toChatError } from "./errors.js";
import { keyOf, positionTarget } from "./targets.js";

const BUNDLE = "/vendor/socket.io-client/socket.io.esm.min.js";
export const BUNDLE_MISSING =
  "The Socket.IO client bundle is missing: run `npm ci` in web/ (the README's run command does it).";

const ACK_TIMEOUT_MS = 10_000;
const CALL_EVENTS = ["call:started", "call:joined", "call:signal", "call:left", "call:ended"]; // PROTOCOL.md 18
const DELIVERED_EVERY_MS = 500;
const RENEW_GAP_MS = 10_000; // at most one new token per this long for a refused connect

/** The `io` function of socket.io-client, or a ChatError saying how to install it. */
export async function loadClient() {
  try {
    const module = await import(BUNDLE);
    if (typeof module.io !== "function") throw new Error("no io export");
    return module.io;
  } catch {
    throw new ChatError("bundle_missing", BUNDLE_MISSING);
  }
}

/**
 * handlers: onStatus(state), onSession(data), onConnected(isReconnect),
 * onAuthError(ChatError), renew() -> Promise<token> (an expired token at connect), and one per server event: onMessage, onEdited,
 * onDeleted, onInvited, onTopicRenamed, onTopicDeleted, onTyping, onRead,
 * onPresence, onReaction, onThreadUpdated, onPinsUpdated, onPreviews, onRemoved, onExpiring; and
 * onCall(event, data) for the calls' events (CALL_EVENTS).
 */
export class ChatConnection {
  constructor(io, token, handlers) {
    this.handlers = handlers;
    this.seenIds = new Set();
    this.delivered = new Map(); // key -> {name, seq} seen but not yet acknowledged
    this.acked = new Map(); // key -> highest seq acknowledged
    this.everConnected = false;
    this.closed = false;
    this.socket = io(location.origin, { auth: { token } });
    this.bindLifecycle();
    this.bindEvents();
    this.timer = setInterval(() => this.flushDelivered(), DELIVERED_EVERY_MS);
    handlers.onStatus("connecting");
  }

  bindLifecycle() {
    const { socket, handlers } = this;
    socket.on("connect", () => {
      const isReconnect = this.everConnected;
      this.everConnected = true;
      handlers.onStatus(isReconnect ? "reconnected" : "online");
      handlers.onConnected(isReconnect);
    });
    socket.on("disconnect", (reason) => {
      if (this.closed) return;
      handlers.onStatus("offline");
      // The server closed us on purpose: socket.io does not retry by itself.
      if (reason === "io server disconnect") this.retrySoon();
    });
    socket.on("connect_error", (err) => this.onConnectError(err));
    socket.io.on("reconnect_attempt", () => handlers.onStatus("offline"));
  }

  async onConnectError(err) {
    if (err?.message === "token_expired" && this.handlers.renew && !this.renewing) {
      // The tab slept past its token's end: the session's cookie may still give a new one.
      this.renewing = true;
      const token = await this.handlers.renew().catch(() => null);
      if (token && !this.closed) {
        this.setToken(token);
        this.socket.connect();
        setTimeout(() => { this.renewing = false; }, RENEW_GAP_MS); // once, not in a loop
        return;
      }
      this.renewing = false;
    }
    if (AUTH_CODES.has(err?.message)) {
      this.close();
      this.handlers.onAuthError(toChatError({ code: err.message, message: err.data?.message }));
      return;
    }
    this.handlers.onStatus(this.everConnected ? "offline" : "connecting");
    if (!this.socket.active) this.retrySoon(); // refused by the server for another reason
  }

  retrySoon() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => !this.closed && this.socket.connect(), 2000);
  }

  bindEvents() {
    const { socket, handlers } = this;
    socket.on("session", (data) => handlers.onSession(data));
    socket.on("message", (message) => this.onMessage(message));
    socket.on("message:edited", (message) => handlers.onEdited(message));
    socket.on("message:deleted", (data) => handlers.onDeleted(data));
    socket.on("topic:invited", (data) => handlers.onInvited(data));
    socket.on("topic:created", (data) => handlers.onTopicCreated(data));
    socket.on("topic:renamed", (data) => handlers.onTopicRenamed(data));
    socket.on("topic:deleted", (data) => handlers.onTopicDeleted(data));
    socket.on("typing", (data) => handlers.onTyping(data));
    socket.on("read", (data) => handlers.onRead(data));
    socket.on("presence", (data) => handlers.onPresence(data));
    socket.on("reaction:updated", (data) => handlers.onReaction(data));
    socket.on("thread:updated", (data) => handlers.onThreadUpdated(data));
    socket.on("pins:updated", (data) => handlers.onPinsUpdated(data));
    socket.on("message:previews", (data) => handlers.onPreviews(data));
    socket.on("topic:removed", (data) => handlers.onRemoved(data));
    socket.on("topic:member", (data) => handlers.onMember?.(data));
    socket.on("auth:expiring", (data) => handlers.onExpiring(data));
    socket.on("user:updated", (data) => handlers.onUserUpdated?.(data));
    socket.on("emoji:updated", (data) => handlers.onEmojiUpdated?.(data));
    for (const name of CALL_EVENTS) socket.on(name, (data) => handlers.onCall?.(name, data));
  }

  onMessage(message) {
    if (!isMessage(message)) return;
    this.noteDelivered(message.topic, message.seq);
    if (this.seenIds.has(message.id)) return;
    this.seenIds.add(message.id);
    this.handlers.onMessage(message);
  }

  /** Emit an event and resolve with the ack's data, or reject with a ChatError. */
  async request(event, payload = {}, { waitForConnection = true } = {}) {
    if (!this.socket.connected) {
      // Never queued inside socket.io: either wait for the connection a while, or
      // report "offline" at once and let the caller decide (a message waits and is resent).
      if (!waitForConnection || !(await this.connection(ACK_TIMEOUT_MS))) throw new ChatError("offline");
    }
    let reply;
    try {
      reply = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
    } catch {
      throw new ChatError("timeout");
    }
    if (reply && reply.ok === true) return reply.data;
    throw toChatError(reply?.error);
  }

  /** Resolves true once connected, false after timeoutMs or when closed. */
  connection(timeoutMs) {
    if (this.socket.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value) => {
        clearTimeout(timer);
        this.socket.off("connect", onConnect);
        resolve(value);
      };
      const onConnect = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.socket.on("connect", onConnect);
    });
  }

  /**
   * message:send (extra: reply_to, thread); the stored Message counts as seen so
   * its echo is dropped.
   */
  async send(target, body, clientId, extra = {}) {
    const payload = { ...target, ...extra, body, client_id: clientId };
    const message = await this.request("message:send", payload, { waitForConnection: false });
    if (isMessage(message)) {
      this.seenIds.add(message.id);
      this.noteDelivered(message.topic, message.seq);
    }
    return message;
  }

  /** Record messages obtained from history as seen (cumulative delivery). */
  noteHistory(name, messages) {
    for (const message of messages) {
      if (!isMessage(message)) continue;
      this.seenIds.add(message.id);
      this.noteDelivered(name, message.seq);
    }
  }

  /** Fire-and-forget events (typing): dropped rather than queued while offline. */
  notify(event, payload) {
    if (this.socket.connected) this.socket.volatile.emit(event, payload);
  }

  noteDelivered(name, seq) {
    const key = keyOf(name);
    const known = Math.max(this.delivered.get(key)?.seq ?? 0, this.acked.get(key) ?? 0);
    if (seq > known) this.delivered.set(key, { name, seq });
  }

  flushDelivered() {
    if (!this.socket.connected || this.delivered.size === 0) return;
    const batch = [...this.delivered.entries()];
    this.delivered.clear();
    for (const [key, { name, seq }] of batch) {
      this.acked.set(key, Math.max(this.acked.get(key) ?? 0, seq));
      this.request("delivered", { ...positionTarget(name), seq }).catch((err) => {
        if (err.code === "not_found") return; // the topic is gone (deleted, or renamed meanwhile)
        this.acked.set(key, 0); // retry with the next batch
        this.noteDelivered(name, seq);
      });
    }
  }

  /** An operator renamed a topic: its delivery position moves to the new name. */
  renameTopic(oldName, newName) {
    const from = keyOf(oldName);
    const to = keyOf(newName);
    const pending = this.delivered.get(from);
    const acked = this.acked.get(from);
    this.forgetTopic(oldName);
    if (pending) this.delivered.set(to, { name: newName, seq: pending.seq });
    if (acked !== undefined) this.acked.set(to, acked);
  }

  /** An operator deleted a topic: nothing more to acknowledge there. */
  forgetTopic(name) {
    this.delivered.delete(keyOf(name));
    this.acked.delete(keyOf(name));
  }

  /** A refreshed token: reconnects present it from now on. */
  setToken(token) {
    this.socket.auth = { ...this.socket.auth, token };
  }

  get connected() {
    return this.socket.connected;
  }

  close() {
    this.flushDelivered();
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
  }
}

function isMessage(value) {
  return value && typeof value.id === "number" && typeof value.topic === "string"
    && typeof value.seq === "number";
}
