// What the user can do: open, join, leave and create topics, invite, start a
// direct conversation, send (with retry, as a reply), edit, delete, page back
// (and forward across a gap), type.
// Threads, reactions, pins and the notification level have modules of their own.
import * as api from "./api.js";
import { ChatError } from "./errors.js";
import { isDirect, keyOf, positionTarget, sendTarget } from "./targets.js";

const PAGE = 50;
const MAX_BACK = 20; // pages loaded to reach the first unread message (1000 messages)

export class Actions {
  constructor(chat) {
    this.chat = chat;
  }

  get state() { return this.chat.state; }
  get conn() { return this.chat.conn; }
  get toasts() { return this.chat.env.toasts; }

  /**
   * Open a conversation: at its "New messages" line when it has more unread than a screenful
   * (the messages back to my read mark are loaded first), else at the newest message. Nothing
   * is marked read until it is shown where it opens.
   */
  async open(name) {
    const topic = this.state.topics.get(keyOf(name));
    const conv = this.state.conversation(topic?.name ?? name);
    const mark = topic?.unread > 0 && Number.isInteger(topic.read_seq) ? topic.read_seq : null;
    this.chat.landing = conv;
    try {
      if (this.chat.setCurrent(topic?.name ?? name)) conv.newSince = mark;
      await this.refresh(topic?.name ?? name);
      if (conv.newSince !== null) await this.loadBackTo(conv, conv.newSince + 1);
    } finally {
      if (this.chat.landing === conv) this.chat.landing = null;
    }
    if (keyOf(conv.name) !== this.state.current) return; // another one was opened meanwhile
    conv.readSent = Math.max(conv.readSent, mark ?? 0);
    this.chat.render({ landing: true });
    await null; // that render (a microtask) runs first: what it shows is what is read
    this.chat.markRead();
  }

  /** Page back until the message at seq is held (at most MAX_BACK pages). */
  async loadBackTo(conv, seq) {
    for (let page = 0; page < MAX_BACK && conv.hasMore && (conv.minSeq ?? 0) > seq; page++) {
      if (this.state.currentConversation !== conv) return;
      await this.loadOlder();
    }
  }

  /** Fetch the newest page of a conversation and merge it (on open and after a reconnect). */
  async refresh(name) {
    const conv = this.state.conversation(name);
    const topic = this.state.topics.get(keyOf(name));
    try {
      if (topic?.draft) return this.finishLoad(conv, [], false);
      if (!isDirect(name) && topic?.subscribed) {
        const data = await this.conn.request("topic:subscribe", { topic: name });
        if (data?.topic) this.state.putTopic(data.topic);
        return this.finishLoad(conv, data?.history ?? [], null);
      }
      const page = await this.conn.request("history", { ...positionTarget(name), limit: PAGE });
      this.finishLoad(conv, page?.messages ?? [], Boolean(page?.has_more));
    } catch (err) {
      this.finishLoad(conv, [], conv.hasMore && conv.messages.size > 0);
      // Looking at a public topic without joining may be refused: the join bar says what to do.
      if (!(err.code === "forbidden" && !topic?.subscribed)) this.toasts.error(err);
    }
  }

  finishLoad(conv, messages, hasMore) {
    for (const message of messages) conv.upsert(message);
    this.conn.noteHistory(conv.name, messages);
    if (!conv.loaded) conv.hasMore = hasMore ?? (conv.minSeq ?? 1) > 1;
    conv.loaded = true;
    this.chat.render();
  }

  /** The page before the held messages; a call while one loads waits for that one. */
  loadOlder() {
    const conv = this.state.currentConversation;
    if (!conv?.loaded || !conv.hasMore) return Promise.resolve();
    if (!conv.loadingOlder) conv.olderLoad = this.fetchOlder(conv);
    return conv.olderLoad;
  }

  async fetchOlder(conv) {
    const before = conv.pageCursor();
    if (before == null || before <= 1) { conv.hasMore = false; return this.chat.render(); }
    conv.loadingOlder = true;
    this.chat.render();
    try {
      const page = await this.conn.request("history", { ...positionTarget(conv.name), before_seq: before, limit: PAGE });
      const messages = page?.messages ?? [];
      const added = messages.filter((message) => conv.upsert(message) === "added").length;
      this.conn.noteHistory(conv.name, messages);
      if (added === 0) conv.stuckAt = before;
      conv.hasMore = Boolean(page?.has_more) && messages.length > 0;
    } catch (err) {
      this.toasts.error(err);
    } finally {
      conv.loadingOlder = false;
      this.chat.render();
    }
  }

  /** Load the messages just after afterSeq, up to beforeSeq (a gap in what is held). */
  async fillGap(afterSeq, beforeSeq) {
    const conv = this.state.currentConversation;
    if (!conv || conv.fillingGap) return;
    conv.fillingGap = true;
    try {
      const limit = Math.min(PAGE, beforeSeq - afterSeq - 1);
      const page = await this.conn.request("history", { ...positionTarget(conv.name), before_seq: afterSeq + 1 + limit, limit });
      for (const message of page?.messages ?? []) conv.upsert(message);
      this.conn.noteHistory(conv.name, page?.messages ?? []);
    } catch (err) {
      this.toasts.error(err);
    } finally {
      conv.fillingGap = false;
      this.chat.render();
    }
  }

  async join() {
    const name = this.state.currentName;
    const data = await this.conn.request("topic:subscribe", { topic: name });
    if (data?.topic) this.state.putTopic(data.topic);
    this.state.removed.delete(keyOf(name));
    this.finishLoad(this.state.conversation(name), data?.history ?? [], null);
    this.toasts.show(`You joined #${data?.topic?.name ?? name}.`);
    this.chat.render({ bottom: true });
    this.chat.markRead();
  }

  async leave() {
    const name = this.state.currentName;
    const topic = this.state.currentTopic;
    try {
      await this.conn.request("topic:unsubscribe", { topic: name });
    } catch (err) {
      return this.toasts.error(err);
    }
    this.toasts.show(`You left #${name}.`);
    if (topic) topic.subscribed = false;
    if (topic?.kind !== "public") this.chat.setCurrent(null);
    await this.chat.loadTopics();
  }

  async createTopic(name, isPrivate) {
    const topic = await this.conn.request("topic:create", { name, private: isPrivate });
    this.state.putTopic(topic);
    await this.open(topic.name);
  }

  async invite(username) {
    const name = this.state.currentName;
    const data = await this.conn.request("topic:invite", { topic: name, username });
    if (data?.topic) this.state.putTopic(data.topic);
    this.toasts.show(`${username} is now a member of #${name}.`);
    if (this.chat.membersOpen) this.loadMembers();
    this.chat.render();
  }

  async startDirect(username) {
    if (this.state.isMe(username)) throw new ChatError("invalid", "That is you: pick someone else.");
    try {
      const result = await api.openConversation(this.chat.env.creds.token, username);
      if (result?.name) this.state.putTopic(result);
      else if (result?.topic?.name) this.state.putTopic(result.topic);
      await this.chat.loadTopics();
    } catch (err) {
      if (err.enveloped !== false) throw err;
      // No such REST route on this server: the first message creates the conversation.
    }
    const known = this.state.topics.get(keyOf(`@${username}`));
    await this.open(known?.name ?? this.state.putDraft(username));
  }

  async loadMembers() {
    const name = this.state.currentName;
    if (!name) return;
    const key = keyOf(name);
    if (isDirect(name)) {
      const peer = name.slice(1);
      this.state.members = { key, list: [
        { username: this.state.me, role: "member", online: true },
        { username: peer, role: "member", online: Boolean(this.state.peerOnline(this.state.currentTopic)) },
      ] };
      return this.chat.render();
    }
    try {
      const data = await this.conn.request("topic:members", { topic: name });
      const list = data?.members ?? [];
      this.state.members = { key, list };
      this.chat.roster.store(key, list);
      const topic = this.state.topics.get(key);
      if (topic) Object.assign(topic, { members: list.length, online: list.filter((m) => m.online).length });
    } catch (err) {
      this.state.members = { key, list: [] };
      this.toasts.error(err);
    }
    this.chat.render();
  }

  // ---- messages --------------------------------------------------------------

  /** replyTo: {id, sender, excerpt} of the message quoted, or null; files: uploaded File objects. */
  send(body, replyTo = null, files = []) {
    const name = this.state.currentName;
    if (!name) return;
    const conv = this.state.conversation(name);
    const pending = { clientId: newClientId(), body, status: "sending", error: null, sender: this.state.me, replyTo, files };
    conv.pending.set(pending.clientId, pending);
    this.chat.render({ bottom: true });
    this.deliver(conv, pending);
  }

  async deliver(conv, pending) {
    pending.status = "sending";
    this.chat.render();
    try {
      const extra = pending.replyTo ? { reply_to: pending.replyTo.id } : {};
      if (pending.files?.length) extra.files = pending.files.map((file) => file.id);
      const message = await this.conn.send(sendTarget(conv.name), pending.body, pending.clientId, extra);
      conv.pending.delete(pending.clientId);
      this.accept(message);
    } catch (err) {
      if (!conv.pending.has(pending.clientId)) return; // its echo arrived: it was stored
      pending.status = err.code === "offline" ? "queued" : "failed";
      pending.error = err.message;
      this.chat.render();
    }
  }

  /** After a reconnect: send what waited for the connection (same client_id: stored once). */
  resendQueued() {
    for (const conv of this.state.conversations.values()) {
      for (const pending of conv.pending.values()) {
        if (pending.status === "queued") this.deliver(conv, pending);
      }
    }
  }

  /** A Message of mine confirmed by its ack. */
  accept(message) {
    if (!message?.topic) return;
    this.state.conversation(message.topic).upsert(message);
    this.chat.threads.noteMessage(message);
    const topic = this.state.topics.get(keyOf(message.topic));
    if (topic?.draft) this.chat.scheduleTopicRefresh();
    if (!this.state.noteMessage(message, false)) this.chat.scheduleTopicRefresh();
    this.chat.render({ bottom: keyOf(message.topic) === this.state.current });
    this.chat.markRead();
  }

  retry(clientId) {
    const conv = this.state.currentConversation;
    const pending = conv?.pending.get(clientId);
    if (pending) this.deliver(conv, pending); // same client_id: the server stores it once
  }

  discard(clientId) {
    this.state.currentConversation?.pending.delete(clientId);
    this.chat.render();
  }

  async edit(id, body) {
    const message = await this.conn.request("message:edit", { id, body });
    if (message?.topic) this.state.conversation(message.topic).update(message);
    if (message?.topic) this.chat.threads.noteMessage(message);
    this.chat.render();
  }

  async remove(id) {
    await this.conn.request("message:delete", { id });
    this.state.currentConversation?.markDeleted(id);
    this.chat.threads.noteDeleted(id);
    this.chat.render();
  }

  typing(on) {
    const name = this.state.currentName;
    const topic = this.state.currentTopic;
    if (!name || topic?.draft) return;
    this.conn.notify("typing", { ...sendTarget(name), typing: on });
  }
}

/** A fresh client_id (randomUUID needs a secure context; fall back to getRandomValues). */
export function newClientId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
