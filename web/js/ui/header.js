// The conversation header: name, member and online counts, search, pinned
// messages, the notification bell, invite and leave, and the members panel.
import { checkUsername, isDirect, peerOf } from "../targets.js";
import { BellMenu } from "./bell.js";
import { avatar, fill, h, icon, ICONS } from "./dom.js";
import { lastSeen, plural } from "./format.js";

export class Header {
  /** actions: toggleSidebar(), toggleMembers(), togglePins(), setNotify(level), invite(username), leave(), search() */
  constructor(actions) {
    this.actions = actions;
    this.title = h("h1", { class: "conv-title" });
    this.subtitle = h("button", {
      class: "conv-sub link-btn", type: "button", "data-testid": "members-toggle",
      "aria-label": "Show members", onclick: () => actions.toggleMembers(),
    });
    this.inviteForm = this.buildInviteForm();
    this.inviteButton = h("button", {
      class: "icon-btn", type: "button", "data-testid": "invite-toggle", "aria-label": "Invite someone",
      title: "Invite someone", "aria-expanded": "false", onclick: () => this.toggleInvite(),
    }, icon(ICONS.invite));
    this.leaveButton = h("button", {
      class: "icon-btn", type: "button", "data-testid": "leave-topic", "aria-label": "Leave topic",
      title: "Leave topic", onclick: () => actions.leave(),
    }, icon(ICONS.leave));
    this.pinsButton = h("button", {
      class: "icon-btn", type: "button", "data-testid": "pins-toggle", "aria-label": "Pinned messages",
      title: "Pinned messages", "aria-controls": "pins-panel", onclick: () => actions.togglePins(),
    }, icon(ICONS.pin));
    this.searchButton = h("button", {
      class: "icon-btn", type: "button", "data-testid": "search-toggle", "aria-label": "Search messages (Ctrl+K)",
      title: "Search messages (Ctrl+K or /)", "aria-controls": "search-panel", onclick: () => actions.search(),
    }, icon(ICONS.search));
    this.bell = new BellMenu({ set: (level) => actions.setNotify(level) });
    this.el = h("header", { class: "conv-header" },
      h("button", { class: "icon-btn menu-btn", type: "button", "data-testid": "sidebar-toggle", "aria-label": "Show topics", "aria-controls": "sidebar", onclick: () => actions.toggleSidebar() }, icon(ICONS.menu)),
      h("div", { class: "conv-heading" }, this.title, this.subtitle),
      h("div", { class: "conv-actions" }, this.searchButton, this.pinsButton, this.bell.el, this.inviteButton, this.leaveButton),
      this.inviteForm);
  }

  buildInviteForm() {
    const user = h("input", { id: "invite-username", "data-testid": "invite-username", placeholder: "username", autocomplete: "off", autocapitalize: "none" });
    const note = h("p", { class: "form-error small", role: "alert", "data-testid": "invite-error", hidden: true });
    const form = h("form", { class: "invite-form popover", "aria-label": "Invite someone", hidden: true },
      h("label", { for: "invite-username" }, "Invite by username"),
      h("div", { class: "inline-row" }, user,
        h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "invite-submit" }, "Invite")),
      note);
    form.addEventListener("keydown", (e) => e.key === "Escape" && this.toggleInvite(false));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = user.value.trim();
      const problem = checkUsername(name);
      note.textContent = problem ?? "";
      note.hidden = !problem;
      if (problem) return;
      try {
        await this.actions.invite(name);
        user.value = "";
        this.toggleInvite(false);
      } catch (err) {
        note.textContent = err.message;
        note.hidden = false;
      }
    });
    return form;
  }

  toggleInvite(open = this.inviteForm.hidden) {
    this.inviteForm.hidden = !open;
    this.inviteButton.setAttribute("aria-expanded", String(open));
    if (open) this.inviteForm.querySelector("input").focus();
  }

  /** panel: the side panel shown ("pins" presses the pins button). */
  render(state, panel = null) {
    this.pinsButton.setAttribute("aria-expanded", String(panel === "pins"));
    this.searchButton.setAttribute("aria-expanded", String(panel === "search"));
    const topic = state.currentTopic;
    const name = state.currentName;
    this.el.classList.toggle("empty", !name);
    if (!name) {
      fill(this.title, h("span", { "data-testid": "current-topic" }, "Parley"));
      this.subtitle.textContent = "Pick a topic or start a conversation";
      this.subtitle.disabled = true;
      this.inviteButton.hidden = this.leaveButton.hidden = this.pinsButton.hidden = true;
      this.bell.render(null, false);
      return;
    }
    const direct = isDirect(name);
    fill(this.title, direct ? avatar(name, "small") : h("span", { class: "hash", "aria-hidden": "true" }, topic?.kind === "private" ? icon(ICONS.lock) : "#"),
      h("span", { "data-testid": "current-topic", "data-topic": name }, direct ? peerOf(name) : name));
    this.subtitle.disabled = false;
    this.subtitle.textContent = direct ? directStatus(state, topic, name) : topicStatus(topic);
    const member = Boolean(topic?.subscribed);
    this.pinsButton.hidden = direct; // topic:pins names a topic: a direct conversation has pin marks only
    this.bell.render(topic, !direct && member);
    this.inviteButton.hidden = direct || !member;
    this.leaveButton.hidden = direct || !member;
    if (this.inviteButton.hidden) this.toggleInvite(false);
  }
}

function topicStatus(topic) {
  if (!topic) return "";
  return `${plural(topic.members ?? 0, "member")} · ${topic.online ?? 0} online`;
}

function directStatus(state, topic, name) {
  const online = state.peerOnline(topic);
  if (online) return "online";
  const seen = state.presence.get(peerOf(name).toLowerCase())?.last_seen;
  return seen ? lastSeen(seen) : "offline";
}

/** The side panel listing the members of the open topic with presence dots. */
export class MembersPanel {
  constructor(actions) {
    this.list = h("ul", { class: "member-list", "data-testid": "member-list" });
    this.heading = h("h2", { class: "panel-title" }, "Members");
    this.el = h("aside", { class: "members-panel", "data-testid": "members-panel", "aria-label": "Members", hidden: true },
      h("div", { class: "panel-head" }, this.heading,
        h("button", { class: "icon-btn", type: "button", "aria-label": "Close members", onclick: () => actions.toggleMembers(false) }, icon(ICONS.close))),
      this.list);
  }

  render(state, open) {
    this.el.hidden = !open;
    if (!open) return;
    const members = state.members?.key === state.current ? state.members.list : [];
    this.heading.textContent = `Members (${members.length})`;
    const sorted = [...members].sort((a, b) => Number(online(state, b)) - Number(online(state, a))
      || a.username.localeCompare(b.username));
    fill(this.list, ...sorted.map((m) => {
      const on = online(state, m);
      return h("li", { class: "member", "data-testid": "member", "data-username": m.username, "data-online": String(on) },
        h("span", { class: "item-avatar" }, avatar(m.username), h("span", { class: `dot ${on ? "on" : "off"}` })),
        h("span", { class: "member-name" }, m.username, state.isMe(m.username) ? " (you)" : ""),
        m.role === "owner" ? h("span", { class: "role" }, "owner") : null);
    }));
  }
}

function online(state, member) {
  if (state.isMe(member.username)) return state.connection !== "offline";
  return state.isOnline(member.username) ?? member.online;
}
