// The chat screen's controller: owns the state, the connection and the views;
// turns server events into state changes and user actions into requests.
import { ChatConnection } from "./socket.js";
import { ChatState } from "./state.js";
import { rememberTopic, rememberedTopic, saveCredentials } from "./credentials.js";
import { Actions } from "./actions.js";
import { Alerts } from "./alerts.js";
import { Calls } from "./calls.js";
import { configureFiles } from "./files.js";
import { openLink, pendingLink } from "./deep_link.js";
import { TokenRefresher } from "./auth_refresh.js";
import { Moderation } from "./moderation.js";
import { badges, Notify } from "./notify.js";
import { Panels } from "./panels.js";
import { People, setPeople } from "./people.js";
import { Pins } from "./pins.js";
import { Previews } from "./previews.js";
import { Reactions } from "./reactions.js";
import { loadEmoji, onCustomEmoji, setCustomEmoji } from "./emoji.js";
import { listEmoji } from "./api.js";
import { Roster } from "./roster.js";
import { Safety } from "./safety.js";
import { isSearchKey, Search } from "./search.js";
import { Threads } from "./threads.js";
import { isDirect, keyOf, positionTarget } from "./targets.js";
import { h } from "./ui/dom.js";
import { typingText } from "./ui/format.js";
import { Sidebar } from "./ui/sidebar.js";
import { Header } from "./ui/header.js";
import { countsAsUnread, MessageList } from "./ui/messages.js";
import { Composer } from "./ui/composer.js";
import { reportDialog } from "./ui/safety_parts.js";
import { openProfileCard } from "./ui/people_parts.js";
import { openNotifySettings } from "./ui/notify_settings.js";
import { openDeleteAccount } from "./ui/delete_account.js";
import { openAccount } from "./ui/account.js";
import { openAdmin } from "./ui/admin_view.js";
import { onSessionEnded } from "./session.js";

/**
 * Where a user with no conversation to return to lands: the first default topic (section 6:
 * every new account joins them, and they are made at start-up, before any other), that is the
 * oldest public topic the user is in.
 */
function firstDefaultTopic(topics) {
  const joined = [...topics.values()].filter((t) => t.kind === "public" && t.subscribed && !t.archived);
  joined.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)) || a.name.localeCompare(b.name));
  return joined[0] ?? null;
}

const TOPIC_REFRESH_DELAY_MS = 300;
const FRESH_MS = 120_000; // a message this recent alerts; an older one a reconnect replayed does not
const TOPIC_POLL_MS = 30_000; // a backstop: members (topic:member), presence, new topics and calls have events

export class Chat {
  /** env: {io, creds, banner, toasts, logout(), signedOut(notice)} */
  constructor(root, env) {
    this.root = root;
    this.env = env;
    this.state = new ChatState(env.creds.username);
    this.state.role = env.creds.role ?? "member"; // the workspace role (section 19): the admin view
    this.renderOpts = {};
    this.landing = null; // the conversation being opened: nothing is read until it is shown
    this.listeners = new AbortController();
    this.actions = new Actions(this);
    this.threads = new Threads(this);
    this.reactions = new Reactions(this);
    this.pins = new Pins(this);
    this.previews = new Previews(this);
    this.notify = new Notify(this);
    this.alerts = new Alerts(this);
    this.calls = new Calls(this); // before the views: the header shows its buttons
    this.roster = new Roster(this);
    this.moderation = new Moderation(this);
    this.safety = new Safety(this);
    this.search = new Search(this);
    this.people = new People((event, payload) => this.conn.request(event, payload), () => this.render());
    setPeople(this.people);
    this.buildViews();
    this.conn = new ChatConnection(env.io, env.creds.token, this.serverHandlers());
    configureFiles(() => env.creds.token); // downloads and uploads take the current (refreshed) token
    this.refresher = new TokenRefresher({ creds: env.creds, save: saveCredentials, conn: () => this.conn,
      replaced: (who) => this.end(`You signed in as ${who} in another tab.`) });
    this.unemoji = onCustomEmoji(() => this.render()); // a custom emoji added or removed: re-draw bodies and chips
    loadEmoji(); // the picker's data, fetched while the page settles
    this.unended = onSessionEnded((notice) => this.end(notice || "You were logged out in another tab."));
    this.bindWindow();
    this.typingTimer = setInterval(() => this.expireTyping(), 1000);
    this.pollTimer = setInterval(() => this.conn.connected && (this.loadTopics(), this.calls.refresh()), TOPIC_POLL_MS);
    this.renderNow({ switched: true });
  }

  buildViews() {
    const a = this.actions;
    this.sidebar = new Sidebar({
      open: (name) => a.open(name), createTopic: (n, p) => a.createTopic(n, p),
      startDirect: (u) => a.startDirect(u), logout: () => this.env.logout(), search: () => this.panels.openSearch(),
      profile: (u) => this.showProfile(u),
      notifications: () => openNotifySettings(() => this.env.creds.token)
        .addEventListener("close", () => this.alerts.loadPreferences()), // quiet hours changed
      account: () => openAccount({ token: () => this.env.creds.token, newToken: (fresh) => this.refresher.use(fresh),
        refresh: () => this.refresher.refresh(),
        deleteAccount: () => openDeleteAccount(this.env.creds.username, () => this.env.creds.token,
          () => this.end("Your account was deleted.")) }),
      admin: () => { this.adminDialog = openAdmin({ token: () => this.env.creds.token, me: () => this.state.me,
        role: () => this.state.role, toasts: this.env.toasts }); },
    });
    this.header = new Header({
      toggleSidebar: () => this.toggleSidebar(), toggleMembers: (open) => this.toggleMembers(open),
      togglePins: () => this.panels.togglePins(), toggleSettings: () => this.panels.toggleSettings(), setNotify: (level) => this.notify.set(this.state.currentName, level),
      invite: (u) => a.invite(u), leave: () => a.leave(), search: () => this.panels.openSearch(),
    }, { callButtons: this.calls.screen.buttons.el });
    const jump = (id) => this.messages.jumpTo(id);
    const react = (m, emoji) => this.reactions.toggle(m, emoji);
    this.messages = new MessageList({
      loadOlder: () => a.loadOlder(), edit: (id, body) => a.edit(id, body),
      fillGap: (after, before) => a.fillGap(after, before),
      remove: (id) => a.remove(id), retry: (cid) => a.retry(cid), discard: (cid) => a.discard(cid),
      scrolled: () => this.markRead(), rerender: () => this.renderNow({}),
      reply: (m) => this.composer.setReply(m), openThread: (m) => this.threads.open(m), react,
      togglePin: (m) => this.pins.toggle(m),
      notHeld: () => this.env.toasts.show("That message is further back: scroll up to load it."),
      report: (m) => reportDialog(m, (id, reason) => this.safety.report(id, reason)),
      standing: () => this.moderation.blockedFromPosting(this.state.currentName),
      folds: (m) => this.safety.folds(m),
      removePreviews: (m) => this.previews.remove(m),
      profile: (u) => this.showProfile(u),
    });
    const mentions = {
      members: (query) => this.roster.matching(this.state.currentName, query), // a thread is of the open conversation
      me: () => this.state.me,
      allowAll: () => !isDirect(this.state.currentName ?? "@"),
    };
    this.composer = new Composer({
      send: (body, replyTo, files) => a.send(body, replyTo, files), typing: (on) => a.typing(on), join: () => a.join(), mentions,
      editLast: () => this.messages.editLast(this.state),
    });
    this.panels = new Panels(this, { jump, react, mentions });
    this.scrim = h("div", { class: "scrim", onclick: () => this.toggleSidebar(false) });
    this.skip = h("a", { class: "skip-link", href: "#composer", "data-testid": "skip-link",
      onclick: (event) => { event.preventDefault(); this.skipToConversation(); } }, "Skip to composer");
    this.screen = h("div", { class: "chat-screen", "data-testid": "chat-screen" },
      this.skip, this.calls.screen.banner.el, this.sidebar.el, this.scrim,
      h("main", { class: "conversation", "aria-label": "Conversation" },
        this.header.el, this.calls.screen.view.el, this.messages.el, this.composer.el),
      ...this.panels.els);
    this.root.replaceChildren(this.screen);
  }

  bindWindow() {
    const opts = { signal: this.listeners.signal };
    window.addEventListener("focus", () => this.markRead(), opts);
    document.addEventListener("visibilitychange", () => this.markRead(), opts);
    window.addEventListener("pagehide", () => this.conn.flushDelivered(), opts);
    const active = () => this.people.active(() => this.conn.notify("presence:active", {}));
    document.addEventListener("keydown", active, opts);
    document.addEventListener("pointerdown", active, opts);
    document.addEventListener("keydown", (e) => {
      if (isSearchKey(e)) { e.preventDefault(); this.panels.openSearch(); return; }
      if (e.key !== "Escape" || e.defaultPrevented) return;
      if (this.screen.classList.contains("sidebar-open")) {
        this.toggleSidebar(false);
        this.header.el.querySelector("[data-testid=sidebar-toggle]")?.focus(); // the drawer's button
      } else this.panels.closeShown();
    }, opts);
  }

  // ---- server events -------------------------------------------------------

  serverHandlers() {
    return {
      onStatus: (status) => this.onStatus(status),
      onSession: (data) => this.onSession(data),
      onConnected: (isReconnect) => this.onConnected(isReconnect),
      onAuthError: (err) => this.end(err.message),
      renew: async () => (await this.refresher.refresh(), this.refresher.lastError ? null : this.env.creds.token),
      onMessage: (message) => this.onMessage(message),
      onEdited: (message) => this.onEdited(message),
      onDeleted: (data) => this.onDeleted(data),
      onInvited: (data) => this.onInvited(data),
      onTopicCreated: (data) => this.onTopicCreated(data),
      onTopicRenamed: (data) => this.moderation.renamed(data),
      onTopicDeleted: (data) => this.moderation.deleted(data),
      onRemoved: (data) => this.moderation.onRemoved(data),
      onMember: (data) => this.onMember(data),
      onExpiring: (data) => this.refresher.onExpiring(data),
      onTyping: (data) => this.onTyping(data),
      onRead: (data) => this.onRead(data),
      onPresence: (data) => this.onPresence(data),
      onReaction: (data) => this.reactions.onUpdated(data),
      onThreadUpdated: (data) => this.threads.onUpdated(data),
      onPinsUpdated: (data) => this.pins.onUpdated(data),
      onPreviews: (data) => this.previews.onUpdated(data),
      onUserUpdated: (data) => { this.people.onUpdated(data); this.onOwnRole(data); },
      onEmojiUpdated: (data) => setCustomEmoji(data?.emoji),
      onCall: (event, data) => this.calls.on(event, data),
    };
  }

  /** The workspace's custom emoji (PROTOCOL.md section 13), at each (re)connect: emoji:updated keeps them current. */
  async loadCustomEmoji() {
    try {
      setCustomEmoji(await listEmoji(this.env.creds.token));
    } catch {
      // without them, `:name:` stays text until the next connect
    }
  }

  onStatus(status) {
    this.state.connection = status;
    this.screen.dataset.connection = status;
    this.env.banner.show(status === "online" ? "hidden" : status);
    this.render();
  }

  /** A role change reaches my own page as `user:updated` (section 19: the Profile's `role`): the
   * administration's button shows or hides at once, and an open administration view closes. */
  onOwnRole(profile) {
    if (!profile || !this.state.isMe(profile.username)) return;
    const role = profile.role;
    if (!["owner", "admin", "member"].includes(role) || role === this.state.role) return;
    this.state.role = this.env.creds.role = role;
    if (role === "member" && this.adminDialog?.open) this.adminDialog.close();
    this.render();
  }

  onSession(data) {
    const name = data?.user?.username;
    if (typeof name === "string" && name) this.state.me = name;
    const role = data?.user?.role;
    if (["owner", "admin", "member"].includes(role)) this.state.role = this.env.creds.role = role;
    this.render();
  }

  async onConnected(isReconnect) {
    this.actions.resendQueued();
    this.safety.load();
    this.alerts.loadPreferences();
    this.loadCustomEmoji();
    this.calls.load();
    await this.loadTopics();
    if (isReconnect) {
      // The server replays what we missed; also refresh the open conversation.
      if (this.state.current) await this.actions.refresh(this.state.currentName);
      this.panels.refresh();
      return;
    }
    if (this.state.current) return this.settle(); // the person opened one meanwhile: theirs stays
    this.opensItself = true;
    try {
      const link = pendingLink(); // a push's or a digest's link, or the address at a reload
      if (link) return await this.openLink(link);
      const remembered = rememberedTopic();
      if (remembered && this.state.topics.has(keyOf(remembered))) return await this.actions.open(remembered);
      const first = firstDefaultTopic(this.state.topics);
      if (!first) return;
      this.state.landed = keyOf(first.name); // its header says what it is when it has no description
      return await this.actions.open(first.name);
    } finally {
      this.opensItself = false;
      this.settle();
    }
  }

  /** The first connection's conversation is open (or none is to be): the screen says so
   * (`data-settled`, which tests wait for before their next step). */
  settle() {
    this.screen.dataset.settled = "true";
  }

  /** Open a conversation, at a message when the link names one: {topic, id?, seq?}. */
  openLink(link) {
    return openLink(this, link);
  }

  onMessage(message) {
    const conv = this.state.conversation(message.topic);
    const newcomer = !conv.senders.has(String(message.sender).toLowerCase());
    this.threads.noteMessage(message);
    if (conv.upsert(message) === "same") return;
    if (message.type === "system") this.moderation.noteSystem(message);
    if (newcomer && conv.loaded) { // someone joined: counts changed, and whom `@` may name
      this.scheduleTopicRefresh();
      this.roster.stale(message.topic);
    }
    conv.setTyping(message.sender, false);
    const visible = keyOf(message.topic) === this.state.current && this.canSeeLatest();
    if (!this.state.noteMessage(message, !visible)) this.scheduleTopicRefresh();
    if (isFresh(message)) this.alerts.onMessage(message); // not what a reconnect replays from long ago
    this.render();
    this.markRead();
  }

  onEdited(message) {
    if (!message || typeof message.id !== "number") return;
    this.state.conversation(message.topic).update(message);
    this.threads.noteMessage(message);
    this.render();
  }

  onDeleted({ id, topic } = {}) {
    if (topic) this.state.conversation(topic).markDeleted(id);
    else for (const conv of this.state.conversations.values()) conv.markDeleted(id);
    this.threads.noteDeleted(id);
    this.render();
  }

  onInvited({ topic, by } = {}) {
    if (!topic?.name) return;
    this.state.putTopic(topic);
    this.env.toasts.show(`${by ?? "Someone"} added you to #${topic.name}.`);
    this.render();
  }

  /** Someone created a public topic: it joins the sidebar at once (not subscribed, until joined). */
  onTopicCreated({ topic } = {}) {
    if (!topic?.name || topic.kind !== "public") return;
    this.state.putTopic(topic);
    this.render();
  }

  /** topic:member {topic, username, action, role} (PROTOCOL.md section 4): someone joined or left a
   * topic of mine. Its count, the cached roster (`@`, my role) and an open members panel follow at
   * once, instead of at the next poll. */
  onMember({ topic, username, action, role } = {}) {
    if (typeof topic !== "string" || typeof username !== "string" || !["joined", "left"].includes(action)) return;
    const key = keyOf(topic);
    const joined = action === "joined";
    const same = (m) => m.username.toLowerCase() === username.toLowerCase();
    const change = (list) => {
      const rest = list.filter((m) => !same(m));
      if (!joined) return rest;
      return [...rest, { online: this.state.isOnline(username) ?? false, ...list.find(same), username, role: role ?? "member" }];
    };
    const roster = this.state.rosters.get(key);
    const had = roster ? roster.list.some(same) : !joined; // unknown: the news is the change
    if (roster) roster.list = change(roster.list);
    if (this.state.members?.key === key) this.state.members = { key, list: change(this.state.members.list) };
    const t = this.state.topics.get(key);
    // My own joins and leaves come with the answers to my requests, counted by the server.
    if (t && typeof t.members === "number" && !this.state.isMe(username) && had !== joined) {
      t.members = Math.max(0, t.members + (joined ? 1 : -1));
    }
    this.render();
  }

  onTyping({ topic, username, typing } = {}) {
    if (!topic || !username || this.state.isMe(username)) return;
    this.state.conversation(topic).setTyping(username, Boolean(typing));
    this.render();
  }

  onRead({ topic, username, seq } = {}) {
    if (!topic || !username || typeof seq !== "number") return;
    const conv = this.state.conversation(topic);
    conv.readMarks.set(username, Math.max(conv.readMarks.get(username) ?? 0, seq));
    if (this.state.isMe(username)) {
      // Read in another tab of mine.
      conv.readSent = Math.max(conv.readSent, seq);
      const t = this.state.topics.get(keyOf(topic));
      if (t) t.read_seq = Math.max(t.read_seq ?? 0, seq);
      if (t) t.unread = Math.max(0, Math.min(t.unread ?? 0, (t.last_seq ?? 0) - seq));
      if (t && !t.unread) t.mentions = 0;
    }
    this.render();
  }

  onPresence({ username, online, last_seen: lastSeen, availability } = {}) {
    if (!username) return;
    this.people.onPresence({ username, online, last_seen: lastSeen, availability });
    this.state.presence.set(username.toLowerCase(), { online: Boolean(online), last_seen: lastSeen });
    this.scheduleTopicRefresh(1500); // online counts
    this.render();
  }

  /** A person's profile card (a click on an avatar or a name); "Message" opens our conversation. */
  showProfile(username) {
    const message = this.state.isMe(username) ? undefined : (u) => this.actions.startDirect(u).catch((err) => this.env.toasts.error(err));
    openProfileCard(username, { message });
  }

  // ---- helpers used by the actions ----------------------------------------

  async loadTopics() {
    try {
      const since = this.state.mark();
      const { topics } = await this.conn.request("topic:list", {});
      this.state.setTopics(topics ?? [], since);
      this.countLocalUnread();
      this.render();
      this.markRead();
    } catch (err) {
      this.env.toasts.error(err);
    }
  }

  /** Messages received after the server computed its list still count as unread. */
  countLocalUnread() {
    for (const [key, topic] of this.state.topics) {
      const conv = this.state.conversations.get(key);
      if (!conv || conv.maxSeq <= (topic.last_seq ?? 0)) continue;
      for (const m of conv.messages.values()) {
        if (m.seq > (topic.last_seq ?? 0) && !this.state.isMe(m.sender) && m.type !== "system" && !m.blocked) {
          topic.unread = (topic.unread ?? 0) + 1;
        }
      }
      topic.last_seq = conv.maxSeq;
    }
  }

  scheduleTopicRefresh(delay = TOPIC_REFRESH_DELAY_MS) {
    clearTimeout(this.topicTimer);
    this.topicTimer = setTimeout(() => this.loadTopics(), delay);
  }

  /** The newest message of the open conversation is on screen and the window has focus. */
  canSeeLatest() {
    return document.visibilityState === "visible" && document.hasFocus() && this.messages.atBottom;
  }

  /**
   * Move my read mark to what I have seen of the open conversation (focused and visible): the
   * newest message in view, or every message at the end. Opening it marks nothing by itself.
   */
  markRead() {
    const conv = this.state.currentConversation;
    if (!conv?.loaded || this.landing === conv) return;
    if (document.visibilityState !== "visible" || !document.hasFocus()) return;
    const topic = this.state.currentTopic;
    if (!topic || topic.draft || (!topic.subscribed && topic.kind !== "direct")) return;
    const seq = this.messages.atBottom ? conv.maxSeq : Math.min(this.messages.lastSeenSeq() ?? 0, conv.maxSeq);
    this.countUnreadAfter(topic, conv, seq);
    if (seq > conv.readSent) this.sendRead(conv, seq);
  }

  /** One `read` in flight per conversation: scrolling through many messages sends the newest seen
   * when the previous one is answered, not one per message. */
  sendRead(conv, seq) {
    conv.readSent = seq;
    if (conv.reading) return;
    conv.reading = true;
    this.conn.request("read", { ...positionTarget(conv.name), seq }).catch(() => {
      conv.readSent = 0; // try again next time
    }).finally(() => {
      conv.reading = false;
      if (conv.readSent > seq) this.sendRead(conv, conv.readSent);
    });
  }

  /** Lower the topic's unread counts to the messages held after seq (never raise them). */
  countUnreadAfter(topic, conv, seq) {
    let left = 0;
    if (seq < conv.maxSeq) for (const m of conv.messages.values()) if (m.seq > seq && countsAsUnread(m, this.state)) left += 1;
    if ((topic.unread ?? 0) <= left && (topic.mentions ?? 0) <= left) return;
    topic.unread = Math.min(topic.unread ?? 0, left);
    topic.mentions = Math.min(topic.mentions ?? 0, left);
    this.render();
  }

  setCurrent(name) {
    const key = name ? keyOf(name) : null;
    const switched = key !== this.state.current;
    if (switched && this.state.current) this.state.currentConversation.newSince = null; // its line goes
    this.state.current = key;
    rememberTopic(name);
    if (switched) {
      this.composer.reset();
      this.state.members = null;
      this.panels.switched();
      // "Seen by" marks after a reload, and names for `@`; not for a crowded topic (#lobby holds every
      // account), where my role comes with the topic and the marks from live `read` events.
      if (name && !this.roster.crowded(name)) this.roster.members(name);
    }
    this.toggleSidebar(false);
    this.renderNow({ switched });
    // Typing goes to the conversation just opened; but a conversation the page opens by itself
    // (landing, the one remembered, a link at load) does not take the keys of a box being typed in.
    if (switched && name && !(this.opensItself && typingElsewhere(this.composer.el))) this.composer.focus();
    return switched;
  }

  /** The skip link: to the composer, or to the messages where I may not post (or nothing is open). */
  skipToConversation() {
    if (!this.composer.form.hidden && !this.composer.el.hidden) return this.composer.input.focus();
    this.toggleSidebar(false);
    this.messages.focus();
  }

  toggleSidebar(open = !this.screen.classList.contains("sidebar-open")) {
    this.screen.classList.toggle("sidebar-open", open);
    this.header.el.querySelector("[data-testid=sidebar-toggle]")?.setAttribute("aria-expanded", String(open));
    if (open) (this.sidebar.el.querySelector("[aria-current=page]") ?? this.sidebar.el.querySelector("button"))?.focus();
  }

  get membersOpen() {
    return this.panels.membersOpen;
  }

  toggleMembers(open) {
    this.panels.toggleMembers(open);
  }

  expireTyping() {
    const conv = this.state.currentConversation;
    if (conv && conv.typing.size && this.composer.typingLine.textContent !== typingText(conv.typingNow())) this.render();
  }

  // ---- rendering -----------------------------------------------------------

  /** Render on the next microtask, once for any number of changes. */
  render(opts = {}) {
    this.renderOpts.switched ||= opts.switched;
    this.renderOpts.bottom ||= opts.bottom;
    this.renderOpts.landing ||= opts.landing;
    if (this.renderQueued) return;
    this.renderQueued = true;
    queueMicrotask(() => {
      this.renderQueued = false;
      const pending = this.renderOpts;
      this.renderOpts = {};
      if (!this.closed) this.renderNow(pending);
    });
  }

  renderNow(opts) {
    const { state } = this;
    const conv = state.currentConversation;
    this.screen.classList.toggle("no-topic", !state.current);
    this.sidebar.render(state);
    this.header.render(state, this.panels.current);
    this.calls.render();
    this.messages.render(state, opts);
    this.composer.render(state, conv ? typingText(conv.typingNow()) : "", this.moderation.blockedFromPosting(state.currentName));
    this.panels.render(state);
    this.screen.dataset.panel = this.panels.current ?? "";
    this.skip.textContent = this.composer.form.hidden || this.composer.el.hidden ? "Skip to messages" : "Skip to composer";
    const unread = [...state.topics.values()].reduce((n, t) => {
      const shown = badges(t);
      return n + (shown.unread || shown.mentions);
    }, 0);
    document.title = unread ? `(${unread}) Parley` : "Parley";
  }

  /** The session ended (logout or refused token): tear everything down. */
  end(notice = "") {
    if (this.closed) return;
    this.destroy();
    this.env.signedOut(notice);
  }

  destroy() {
    if (this.closed) return;
    this.closed = true;
    this.calls.destroy();
    this.conn.close();
    this.people.destroy();
    this.refresher.close();
    this.unended();
    this.unemoji();
    document.querySelectorAll("dialog[data-session]").forEach((d) => d.close()); // account, administration
    this.moderation.destroy();
    this.listeners.abort();
    clearInterval(this.typingTimer);
    clearInterval(this.pollTimer);
    clearTimeout(this.topicTimer);
    document.title = "Parley";
  }
}

/** Sent in the last two minutes (by the server's clock as the page reads it). */
function isFresh(message) {
  const at = Date.parse(message?.created_at ?? "");
  return Number.isFinite(at) && Date.now() - at < FRESH_MS;
}

/** Someone is typing in a text field outside ``composer`` (the direct-message box, a search). */
function typingElsewhere(composer) {
  const active = document.activeElement;
  return Boolean(active?.matches?.("input, textarea, select, [contenteditable]")) && !composer.contains(active);
}
