// Moderation (PROTOCOL.md section 10): roles, kick, ban, unban, mute and unmute
// from the members panel; rename, describe, archive and unarchive from the topic
// settings; topic:removed when I am kicked or banned; and the topic's life as
// other members change it (topic:renamed, topic:deleted, the system messages).
// Each action is told back to every member as a system message in the topic.
import { rememberTopic } from "./credentials.js";
import { myMute } from "./ranks.js";
import { isDirect, keyOf, labelOf } from "./targets.js";

const ON_MEMBERS = new Set(["role", "kick", "ban", "unban", "mute", "unmute"]);
const ON_TOPIC = new Set(["update", "archive", "unarchive"]);
const MAX_TIMER_MS = 2 ** 31 - 1; // a longer setTimeout fires at once
const ROLE_WORDS = { admin: "an admin", moderator: "a moderator", member: "a member" };

export class Moderation {
  constructor(chat) {
    this.chat = chat;
    this.muteTimer = null;
  }

  get state() { return this.chat.state; }
  get toasts() { return this.chat.env.toasts; }

  // ---- on a member (the open topic) ----------------------------------------

  /** Run an action on the open topic; a refusal is shown in the toasts and thrown. */
  async act(event, payload, done) {
    const topic = this.state.currentName;
    try {
      const data = await this.chat.conn.request(event, { topic, ...payload });
      if (done) this.toasts.show(done);
      this.membersChanged(topic);
      return data;
    } catch (err) {
      this.toasts.error(err);
      throw err;
    }
  }

  role(username, role) {
    return this.act("topic:role", { username, role }, `${username} is now ${ROLE_WORDS[role]}.`);
  }

  kick(username, reason) {
    return this.act("topic:kick", { username, ...(reason ? { reason } : {}) }, `${username} was removed.`);
  }

  ban(username, minutes, reason) {
    return this.act("topic:ban", { username, ...optional(minutes, reason) }, `${username} is banned.`);
  }

  unban(username) {
    return this.act("topic:unban", { username }, `${username} may come back.`);
  }

  mute(username, minutes) {
    return this.act("topic:mute", { username, ...optional(minutes) }, `${username} is muted.`);
  }

  unmute(username) {
    return this.act("topic:unmute", { username }, `${username} may post again.`);
  }

  /** topic:bans: the open topic's bans in force (moderators and up), newest first. */
  async bans() {
    const data = await this.chat.conn.request("topic:bans", { topic: this.state.currentName });
    return data?.bans ?? [];
  }

  // ---- on the topic (owners and admins) --------------------------------------

  /** topic:update {name?, description?, retention_days?}: the answer is the Topic, maybe under a new name. */
  async update(name, { newName, description, retentionDays }) {
    const payload = { topic: name };
    if (newName && newName !== name) payload.name = newName;
    if (description !== undefined) payload.description = description;
    if (retentionDays !== undefined) payload.retention_days = retentionDays; // null: the server's
    const topic = await this.chat.conn.request("topic:update", payload);
    if (payload.name && topic?.name) this.renamed({ topic: name, name: topic.name });
    if (topic?.name) this.state.putTopic(topic);
    this.chat.render();
    return topic;
  }

  /** topic:archive / topic:unarchive: the answer is the Topic. */
  async archive(name, archived) {
    const topic = await this.chat.conn.request(archived ? "topic:archive" : "topic:unarchive", { topic: name });
    this.state.putTopic(topic?.name ? topic : { name, archived });
    this.toasts.show(archived ? `${labelOf(name)} is archived: it is read-only now.` : `${labelOf(name)} is open again.`);
    this.chat.render();
  }

  // ---- what others did ------------------------------------------------------------

  /** A system message arrived (live or in a page of history): what it changed here. */
  noteSystem(message) {
    const action = message.system?.action;
    if (ON_MEMBERS.has(action)) this.membersChanged(message.topic);
    if (ON_TOPIC.has(action) || (action === "role" && this.state.isMe(message.system?.target))) {
      this.chat.scheduleTopicRefresh(); // description, archive; my role
    }
  }

  /** Roles and membership changed: the cached roster (my role, `@`) and the open panel follow. */
  membersChanged(name) {
    if (!name) return;
    this.chat.roster.stale(name); // asked for again, still read meanwhile (my role)
    if (keyOf(name) !== this.state.current) return;
    this.chat.roster.members(name);
    if (this.chat.membersOpen) this.chat.actions.loadMembers();
  }

  /** topic:removed {topic, reason}: I was kicked or banned. */
  onRemoved({ topic, reason, banned, until } = {}) {
    if (typeof topic !== "string") return;
    const known = this.state.topics.get(keyOf(topic));
    const wasOpen = this.state.current === keyOf(topic);
    const why = reason ? `: ${reason}` : ".";
    this.toasts.show(`You were removed from ${labelOf(topic)}${why}`, "error");
    this.state.rosters.delete(keyOf(topic));
    this.state.removed.set(keyOf(topic), { reason: reason ?? "", banned: Boolean(banned), until: until ?? null });
    if (known?.kind === "public") {
      known.subscribed = false; // it stays to browse (a ban refuses the join)
    } else {
      this.state.removeTopic(topic);
      this.chat.conn.forgetTopic(topic);
      if (wasOpen) this.chat.setCurrent(null);
    }
    if (wasOpen && this.chat.membersOpen) this.chat.toggleMembers(false);
    this.chat.scheduleTopicRefresh();
    this.chat.render();
  }

  /** topic:renamed {topic, name}: it keeps its place (and stays open) under the new name. */
  renamed({ topic, name } = {}) {
    if (typeof topic !== "string" || typeof name !== "string" || !name) return;
    if (!this.state.renameTopic(topic, name)) return;
    this.chat.conn.renameTopic(topic, name);
    if (this.state.current === keyOf(name)) rememberTopic(name);
    this.chat.scheduleTopicRefresh(); // a topic:list answered before the rename still had the old name
    this.chat.render();
  }

  /** topic:deleted {topic}: it goes, and if it was open the page leaves it as after /leave. */
  deleted({ topic } = {}) {
    if (typeof topic !== "string") return;
    const wasOpen = this.state.current === keyOf(topic);
    const known = this.state.removeTopic(topic);
    this.chat.conn.forgetTopic(topic);
    if (!known && !wasOpen) return;
    this.toasts.show(`#${topic} was deleted.`);
    if (wasOpen) this.chat.setCurrent(null);
    this.chat.scheduleTopicRefresh(); // a topic:list answered before the deletion still had it
    this.chat.render();
  }

  // ---- my own standing ------------------------------------------------------------

  /** Why I cannot post in a conversation now: "archived", {muted: until|null}, or null. */
  blockedFromPosting(name) {
    if (!name || isDirect(name)) return null;
    if (this.state.topics.get(keyOf(name))?.archived) return "archived";
    const conv = this.state.conversations.get(keyOf(name));
    const mute = conv ? myMute(conv.sorted(), this.state.me) : null;
    if (mute?.until) this.renderAt(mute.until.getTime());
    return mute ? { muted: mute.until } : null;
  }

  /** A timed mute of mine ends by itself: render again then (once per end). */
  renderAt(at) {
    if (this.muteEnd === at || at - Date.now() > MAX_TIMER_MS) return; // far off: a later render sees it
    this.muteEnd = at;
    clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => { this.muteEnd = null; this.chat.render(); }, Math.max(0, at - Date.now()) + 250);
  }

  destroy() {
    clearTimeout(this.muteTimer);
  }
}

function optional(minutes, reason) {
  const extra = {};
  if (minutes) extra.minutes = Number(minutes);
  if (reason) extra.reason = reason;
  return extra;
}
