// What the page knows: topics, the messages of each conversation, pending
// sends, typing, read marks, presence, pins and the open thread. No DOM, no network.
import { mentionsMe } from "./mentions.js";
import { isDirect, keyOf, peerOf } from "./targets.js";

const TYPING_TTL_MS = 5000;

/** The messages of one topic or direct conversation. */
export class Conversation {
  constructor(name) {
    this.name = name;
    this.messages = new Map(); // id -> Message (with .deleted when removed)
    this.pending = new Map(); // client_id -> {clientId, body, status, error, createdAt}
    this.hasMore = true;
    this.loadingOlder = false;
    this.loaded = false;
    this.typing = new Map(); // username -> expiry time (ms)
    this.readMarks = new Map(); // username -> seq
    this.readSent = 0;
    this.newSince = null; // my read mark when opened with unread messages: the "New messages" line follows it
    this.senders = new Set(); // lower-case names seen posting here
    this.pins = null; // [Message], newest pin first, once loaded (topic:pins or pins:updated)
  }

  /** Add or update a message; returns "added", "updated" or "same". */
  upsert(message) {
    if (message.client_id) this.pending.delete(message.client_id);
    this.senders.add(String(message.sender).toLowerCase());
    const known = this.messages.get(message.id);
    const deleted = known?.deleted || message.deleted_at != null || message.deleted === true;
    const next = { ...message, deleted };
    if (!known) {
      this.messages.set(message.id, next);
      return "added";
    }
    if (sameMessage(known, next)) return "same";
    this.messages.set(message.id, next);
    return "updated";
  }

  /** Change a held message in place (reactions, thread summary, pinned); false when unknown. */
  patch(id, fields) {
    const known = this.messages.get(id);
    if (!known) return false;
    this.messages.set(id, { ...known, ...fields });
    return true;
  }

  /** The pinned list changed (pins:updated, topic:pins, a pin ack): marks follow it. */
  setPins(pins) {
    this.pins = pins;
    const ids = new Set(pins.map((m) => m.id));
    for (const [id, message] of this.messages) {
      if (Boolean(message.pinned) !== ids.has(id)) this.messages.set(id, { ...message, pinned: ids.has(id) });
    }
  }

  /** Apply an edit to a message we hold; unknown ones are ignored (no holes in the history). */
  update(message) {
    return this.messages.has(message.id) ? this.upsert(message) : "same";
  }

  /**
   * The seq to page back from: the start of the unbroken run that ends at the
   * newest message (a long absence can leave a hole below it). When paging from
   * there brought nothing new, fall back to the oldest message held.
   */
  pageCursor() {
    const seqs = [...this.messages.values()].map((m) => m.seq).sort((a, b) => b - a);
    if (seqs.length === 0) return null;
    let cursor = seqs[0];
    for (const seq of seqs.slice(1)) {
      if (seq !== cursor - 1) break;
      cursor = seq;
    }
    return this.stuckAt === cursor ? seqs[seqs.length - 1] : cursor;
  }

  /** The topic was renamed: the messages held keep their place under the new name. */
  rename(name) {
    this.name = name;
    for (const [id, message] of this.messages) this.messages.set(id, { ...message, topic: name });
  }

  /** A tombstone keeps its place; it loses its reactions, and quotes of it their excerpt. */
  markDeleted(id) {
    const known = this.messages.get(id);
    if (known) this.messages.set(id, { ...known, body: "", deleted: true, reactions: [], mentions: [], mentions_all: false });
    for (const [other, message] of this.messages) {
      if (message.reply_to?.id === id) this.messages.set(other, { ...message, reply_to: { ...message.reply_to, excerpt: "" } });
    }
    return Boolean(known);
  }

  /** Messages in seq order. */
  sorted() {
    return [...this.messages.values()].sort((a, b) => a.seq - b.seq);
  }

  get minSeq() {
    let min = Infinity;
    for (const m of this.messages.values()) min = Math.min(min, m.seq);
    return min === Infinity ? null : min;
  }

  get maxSeq() {
    let max = 0;
    for (const m of this.messages.values()) max = Math.max(max, m.seq);
    return max;
  }

  setTyping(username, typing) {
    if (typing) this.typing.set(username, Date.now() + TYPING_TTL_MS);
    else this.typing.delete(username);
  }

  /** Who is typing now (expired entries are dropped). */
  typingNow() {
    const now = Date.now();
    for (const [name, until] of this.typing) if (until <= now) this.typing.delete(name);
    return [...this.typing.keys()];
  }
}

/** The fields a new copy of a message may change (edits, reactions, threads, pins, quotes, previews). */
function sameMessage(a, b) {
  return a.body === b.body && a.edited_at === b.edited_at && a.deleted === b.deleted
    && a.pinned === b.pinned && JSON.stringify([a.reactions, a.thread_summary, a.reply_to, a.previews])
      === JSON.stringify([b.reactions, b.thread_summary, b.reply_to, b.previews]);
}

/** The thread open in the side panel: its root and the replies loaded so far. */
export class Thread {
  constructor(name, root) {
    this.name = name; // the conversation it belongs to
    this.rootId = root.id;
    this.root = root;
    this.replies = new Map(); // id -> Message
    this.hasMore = false;
    this.loaded = false;
    this.loadingOlder = false;
  }

  /** Add or replace a reply of this thread; other messages are ignored. */
  upsert(message) {
    const next = { ...message, deleted: message.deleted === true || message.deleted_at != null };
    if (message.id === this.rootId) this.root = this.root.missing ? next : { ...this.root, ...next };
    else if (message.thread === this.rootId) this.replies.set(message.id, { ...this.replies.get(message.id), ...next });
    else return false;
    return true;
  }

  patch(id, fields) {
    if (id === this.rootId) this.root = { ...this.root, ...fields };
    else if (this.replies.has(id)) this.replies.set(id, { ...this.replies.get(id), ...fields });
    else return false;
    return true;
  }

  sorted() {
    return [...this.replies.values()].sort((a, b) => a.seq - b.seq);
  }

  /** The oldest reply held: thread:history pages back from it. */
  get oldestId() {
    return this.sorted()[0]?.id ?? null;
  }
}

export class ChatState {
  constructor(me) {
    this.me = me;
    this.topics = new Map(); // key -> Topic
    this.conversations = new Map(); // key -> Conversation
    this.presence = new Map(); // lower-case username -> {online, last_seen}
    this.members = null; // {key, list: [{username, role, online}]}
    this.rosters = new Map(); // key -> {list: [{username, role, online}], at: ms}: mentions, roles
    this.thread = null; // the Thread open in the side panel
    this.removed = new Map(); // key -> {reason, banned, until}: topics I was kicked or banned from (topic:removed)
    this.current = null; // key of the open conversation
    this.landed = null; // key of the topic a user with nowhere to return to landed in (its header line)
    this.connection = "connecting";
    this.puts = 0; // topics put so far (``mark``/``setTopics``)
    this.putAt = new Map(); // key -> the count when it was last put
  }

  conversation(name) {
    const key = keyOf(name);
    let conv = this.conversations.get(key);
    if (!conv) {
      conv = new Conversation(name);
      this.conversations.set(key, conv);
    }
    return conv;
  }

  get currentConversation() {
    return this.current ? this.conversation(this.currentName) : null;
  }

  get currentTopic() {
    return this.current ? this.topics.get(this.current) ?? null : null;
  }

  get currentName() {
    if (!this.current) return null;
    return this.topics.get(this.current)?.name ?? this.conversations.get(this.current)?.name
      ?? this.current;
  }

  /** Replace the topic list (topic:list), keeping local drafts of direct conversations. */
  setTopics(list, since = Infinity) {
    const next = new Map();
    for (const topic of list) next.set(keyOf(topic.name), topic);
    for (const [key, topic] of this.topics) {
      // A topic put after the list was asked for (an answer such as topic:notify's, or one
      // announced live, topic:created) is newer than the list's copy: the server may have read
      // the list before that change and answered after it. A draft is local only.
      const putSince = (this.putAt.get(key) ?? -1) > since;
      if (putSince || (topic.draft && !next.has(key))) next.set(key, topic);
    }
    this.topics = next;
  }

  /** A mark to give ``setTopics``: topics put after it survive a list read before them. */
  mark() {
    return this.puts;
  }

  putTopic(topic) {
    const key = keyOf(topic.name);
    this.topics.set(key, { ...this.topics.get(key), ...topic, draft: false });
    this.puts += 1;
    this.putAt.set(key, this.puts);
  }

  /**
   * An operator renamed a topic (topic:renamed): its entry, messages, members
   * and the selection move to the new name. Returns false when the old name is unknown.
   */
  renameTopic(oldName, newName) {
    const from = keyOf(oldName);
    const to = keyOf(newName);
    const topic = this.topics.get(from);
    const conv = this.conversations.get(from);
    if (!topic && !conv) return false;
    this.topics.delete(from);
    this.conversations.delete(from);
    if (topic) this.topics.set(to, { ...topic, name: newName });
    if (conv) {
      conv.rename(newName);
      this.conversations.set(to, conv);
    }
    if (this.members?.key === from) this.members = { ...this.members, key: to };
    if (this.rosters.has(from)) this.rosters.set(to, this.rosters.get(from));
    this.rosters.delete(from);
    if (this.thread && keyOf(this.thread.name) === from) this.thread.name = newName;
    if (this.current === from) this.current = to;
    return true;
  }

  /**
   * An operator deleted a topic (topic:deleted): its entry, messages and members go.
   * The selection is left to the caller. Returns false when the name is unknown.
   */
  removeTopic(name) {
    const key = keyOf(name);
    const known = this.topics.delete(key);
    const held = this.conversations.delete(key);
    if (this.members?.key === key) this.members = null;
    this.rosters.delete(key);
    if (this.thread && keyOf(this.thread.name) === key) this.thread = null;
    return known || held;
  }

  /** A direct conversation not yet known to the server (created by its first message). */
  putDraft(username) {
    const name = `@${username}`;
    if (!this.topics.has(keyOf(name))) {
      this.topics.set(keyOf(name), {
        name, kind: "direct", owner: null, created_at: null, members: 2, online: 0,
        subscribed: true, last_seq: 0, unread: 0, draft: true,
      });
    }
    return name;
  }

  /**
   * Note a new message in the topic list (system messages and those of users I
   * block count in neither unread nor mentions); returns false when the topic is unknown.
   */
  noteMessage(message, countsAsUnread) {
    const topic = this.topics.get(keyOf(message.topic));
    if (!topic) return false;
    if (message.seq > (topic.last_seq ?? 0)) {
      topic.last_seq = message.seq;
      if (countsAsUnread && message.type !== "system" && !message.blocked && !this.isMe(message.sender)) {
        topic.unread = (topic.unread ?? 0) + 1;
        if (mentionsMe(message, this.me)) topic.mentions = (topic.mentions ?? 0) + 1;
      }
    }
    return true;
  }

  /** My role in a topic: "owner" from the Topic itself, else the roster's when it is known (asked
   * for again on every role change), else the Topic's (`role`: admin or moderator; `subscribed`: a
   * member), which the list refreshes when mine changes. */
  roleIn(name) {
    const topic = this.topics.get(keyOf(name));
    if (topic && this.isMe(topic.owner)) return "owner";
    const mine = this.rosters.get(keyOf(name))?.list.find((m) => this.isMe(m.username));
    if (mine) return mine.role ?? null;
    return topic?.role ?? (topic?.subscribed ? "member" : null);
  }

  /** Pins: both sides of a direct conversation; owners, admins and moderators of a topic. */
  canPin(name) {
    if (isDirect(name)) return !this.topics.get(keyOf(name))?.draft;
    return ["owner", "admin", "moderator"].includes(this.roleIn(name));
  }

  /** Usernames are matched case-insensitively. */
  isMe(username) {
    return typeof username === "string" && username.toLowerCase() === this.me.toLowerCase();
  }

  isOnline(username) {
    return this.presence.get(username.toLowerCase())?.online ?? null;
  }

  /** Online state of the other side of a direct conversation (null when unknown). */
  peerOnline(topic) {
    if (!topic || !isDirect(topic.name)) return null;
    const known = this.isOnline(peerOf(topic.name));
    if (known !== null) return known;
    return topic.draft ? null : (topic.online ?? 0) >= 2;
  }
}
