// The side panels beside the conversation: its members, a thread, its pinned
// messages, the topic's settings or the search, one at a time. A panel takes the
// focus when it opens; a thread, the pins and the settings belong to the
// conversation open and close when another is opened; the search stays open
// (its hits open conversations) and needs none.
import * as api from "./api.js";
import { canManage } from "./ranks.js";
import { isDirect } from "./targets.js";
import { MembersPanel } from "./ui/members_panel.js";
import { PinsPanel } from "./ui/pins_panel.js";
import { SearchPanel } from "./ui/search_panel.js";
import { SettingsPanel } from "./ui/topic_settings.js";
import { ThreadPanel } from "./ui/thread_panel.js";

const PHONE = "(max-width: 760px)"; // as in app.css: there a panel covers the conversation

export class Panels {
  /** shared: {jump(id), react(message, emoji), mentions} of the conversation's views */
  constructor(chat, shared) {
    this.chat = chat;
    this.current = null; // "members" | "thread" | "pins" | "settings" | "search" | null
    const jump = (id) => { // show a message of the conversation, which a panel covers at phone width
      if (matchMedia(PHONE).matches) this.closeShown();
      shared.jump(id);
    };
    const m = chat.moderation;
    this.members = new MembersPanel({
      toggleMembers: (open) => this.toggleMembers(open), rerender: () => chat.renderNow({}),
      role: (u, r) => m.role(u, r), kick: (u, why) => m.kick(u, why), ban: (u, min, why) => m.ban(u, min, why),
      unban: (u) => m.unban(u), bans: () => m.bans(), mute: (u, min) => m.mute(u, min), unmute: (u) => m.unmute(u),
      block: (u, on) => chat.safety.setBlocked(u, on),
      profile: (u) => chat.showProfile(u),
    });
    this.thread = new ThreadPanel({
      close: () => chat.threads.close(), send: (body) => chat.threads.send(body),
      loadOlder: () => chat.threads.loadOlder(), react: shared.react, jump, mentions: shared.mentions,
      profile: (u) => chat.showProfile(u),
    });
    this.pins = new PinsPanel({ close: () => this.show(null), unpin: (m) => chat.pins.toggle(m), jump });
    const token = () => chat.env.creds.token;
    this.settings = new SettingsPanel({
      close: () => this.show(null), save: (name, changes) => m.update(name, changes), archive: (name, on) => m.archive(name, on),
      webhooks: { // PROTOCOL.md section 12, over REST with the page's token
        list: (topic) => api.listWebhooks(token(), topic),
        add: (topic, url, events, secret) => api.addWebhook(token(), topic, url, events, secret),
        remove: (topic, id) => api.removeWebhook(token(), topic, id),
        deliveries: (topic, id) => api.webhookDeliveries(token(), topic, id),
      },
      hooks: { list: (t) => api.listHooks(token(), t), create: (t) => api.createHook(token(), t), revoke: (t, id) => api.revokeHook(token(), t, id) },
      bots: {
        list: () => api.listBots(token()), create: (name) => api.createBot(token(), name), tokens: (bot) => api.listBotTokens(token(), bot),
        makeToken: (bot, label) => api.createBotToken(token(), bot, label), revokeToken: (bot, id) => api.revokeBotToken(token(), bot, id),
      },
    });
    this.search = new SearchPanel({
      close: () => this.show(null), search: (q, scope) => chat.search.start(q, scope), more: () => chat.search.more(),
      jump: (hit) => { // at phone width the panel covers the conversation the hit opens
        if (matchMedia(PHONE).matches) this.show(null);
        chat.search.jump(hit);
      },
    });
    this.els = [this.members.el, this.thread.el, this.pins.el, this.settings.el, this.search.el];
  }

  get membersOpen() {
    return this.current === "members";
  }

  toggleMembers(open = !this.membersOpen) {
    if (open && this.chat.state.current) this.show("members");
    else if (this.membersOpen) this.show(null);
  }

  togglePins() {
    this.show(this.current === "pins" ? null : "pins");
  }

  toggleSettings() {
    this.show(this.current === "settings" ? null : "settings");
  }

  /** The search panel, its box focused (the search button, Ctrl+K or "/"). */
  openSearch() {
    if (this.current === "search") this.search.focus();
    else this.show("search");
  }

  show(name) {
    const { chat } = this;
    const was = this.current;
    this.current = name && (chat.state.current || name === "search") ? name : null;
    if (this.current !== "thread") chat.state.thread = null;
    if (this.current === "members" && was !== "members") chat.actions.loadMembers();
    if (this.current === "pins" && was !== "pins") chat.pins.load(chat.state.currentName);
    chat.renderNow({});
    if (this.current === "thread") this.thread.focus();
    else if (this.current === "pins") this.pins.focus();
    else if (this.current === "settings") this.settings.focus();
    else if (this.current === "search") this.search.focus();
    else if (["members", "thread", "pins", "settings", "search"].includes(was) && chat.state.current) chat.composer.focus();
  }

  /** Escape: close the panel shown; false when there is none. */
  closeShown() {
    if (this.current === "thread") this.chat.threads.close();
    else if (this.current) this.show(null);
    else return false;
    return true;
  }

  /** Another conversation was opened. */
  switched() {
    this.chat.state.thread = null;
    if (this.current !== "members" && this.current !== "search") this.current = null;
    if (this.membersOpen) this.chat.actions.loadMembers();
  }

  /** After a reconnect: what the open panel shows may have changed meanwhile. */
  refresh() {
    const { chat } = this;
    if (this.membersOpen) chat.actions.loadMembers();
    if (chat.state.thread) chat.threads.load(chat.state.thread);
    if (this.current === "pins") chat.pins.load(chat.state.currentName);
  }

  render(state) {
    const name = state.currentName;
    const view = { myRole: name ? state.roleIn(name) : null, direct: Boolean(name && isDirect(name)), isBlocked: (u) => this.chat.safety.isBlocked(u) };
    if (this.current === "settings" && !(name && !view.direct && canManage(view.myRole))) this.current = null; // no longer mine to manage
    this.members.render(state, this.membersOpen, view);
    this.thread.render(state, this.current === "thread");
    this.pins.render(state, this.current === "pins");
    this.settings.render(state, this.current === "settings");
    this.search.render(state, this.chat.search, this.current === "search");
  }
}
