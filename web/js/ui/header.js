// The conversation header: name, description, member and online counts, search,
// pinned messages, the notification bell, the topic settings (owners and admins), invite and leave.
import { canManage } from "../ranks.js";
import { isDirect, peerOf } from "../targets.js";
import { BellMenu } from "./bell.js";
import { PeoplePicker, resolvePerson } from "./people_picker.js";
import { fill, h, icon, ICONS } from "./dom.js";
import { availabilityLabel, availabilityOf, personAvatar, presenceDot } from "./people_parts.js";
import { people } from "../people.js";
import { lastSeen, plural } from "./format.js";

// The header's line for the topic a new user lands in, while it has no description of its own.
const LANDING_LINE = "Where everyone in this workspace meets: say hello, ask anything, find your way around.";

export class Header {
  /**
   * actions: toggleSidebar(), toggleMembers(), togglePins(), toggleSettings(), setNotify(level),
   * invite(username), leave(), search(); parts: {callButtons} (calls.js's, first among the actions)
   */
  constructor(actions, parts = {}) {
    this.actions = actions;
    this.title = h("h1", { class: "conv-title" });
    this.subtitle = h("button", {
      class: "conv-sub link-btn", type: "button", "data-testid": "members-toggle",
      title: "Show members", onclick: () => actions.toggleMembers(), // its name: the counts it shows (axe)
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
    this.settingsButton = h("button", {
      class: "icon-btn", type: "button", "data-testid": "settings-toggle", "aria-label": "Topic settings",
      title: "Topic settings", "aria-controls": "settings-panel", onclick: () => actions.toggleSettings(),
    }, icon(ICONS.gear));
    this.description = h("p", { class: "conv-desc", "data-testid": "topic-description", hidden: true });
    this.bell = new BellMenu({ set: (level) => actions.setNotify(level) });
    this.el = h("header", { class: "conv-header" },
      h("button", { class: "icon-btn menu-btn", type: "button", "data-testid": "sidebar-toggle", "aria-label": "Show topics", "aria-controls": "sidebar", onclick: () => actions.toggleSidebar() }, icon(ICONS.menu)),
      h("div", { class: "conv-heading" }, this.title, this.description, this.subtitle),
      h("div", { class: "conv-actions" }, parts.callButtons, this.searchButton, this.pinsButton, this.bell.el, this.settingsButton, this.inviteButton, this.leaveButton),
      this.inviteForm);
  }

  buildInviteForm() {
    const user = h("input", { id: "invite-username", "data-testid": "invite-username", placeholder: "name or username", maxlength: "64", autocomplete: "off", autocapitalize: "none" });
    const picker = new PeoplePicker(user, "People to invite");
    const note = h("p", { class: "form-error small", role: "alert", "data-testid": "invite-error", hidden: true });
    const form = h("form", { class: "invite-form popover", "aria-label": "Invite someone", hidden: true },
      h("label", { for: "invite-username" }, "Invite by name or username"),
      h("div", { class: "inline-row" }, h("span", { class: "picker-wrap" }, user, picker.list),
        h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "invite-submit" }, "Invite")),
      note);
    form.addEventListener("keydown", (e) => e.key === "Escape" && this.toggleInvite(false));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const problem = user.value.trim() ? null : "Type a name or a username.";
      note.textContent = problem ?? "";
      note.hidden = !problem;
      if (problem) return;
      try {
        await this.actions.invite(await resolvePerson(user.value));
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

  /** panel: the side panel shown ("pins" or "settings" presses its button). */
  render(state, panel = null) {
    this.pinsButton.setAttribute("aria-expanded", String(panel === "pins"));
    this.searchButton.setAttribute("aria-expanded", String(panel === "search"));
    this.settingsButton.setAttribute("aria-expanded", String(panel === "settings"));
    const topic = state.currentTopic;
    const name = state.currentName;
    this.el.classList.toggle("empty", !name);
    if (!name) {
      fill(this.title, h("span", { "data-testid": "current-topic" }, "Parley"));
      this.subtitle.textContent = "Pick a topic or start a conversation";
      this.subtitle.disabled = true;
      this.inviteButton.hidden = this.leaveButton.hidden = this.pinsButton.hidden = this.settingsButton.hidden = true;
      this.description.hidden = true;
      this.bell.render(null, false);
      return;
    }
    const direct = isDirect(name);
    const peer = direct ? peerOf(name) : null;
    fill(this.title, direct
      ? h("span", { class: "item-avatar" }, personAvatar(peer, "small"), presenceDot(availabilityOf(peer, state.peerOnline(topic)), { "data-testid": "header-presence-dot" }))
      : h("span", { class: "hash", "aria-hidden": "true" }, topic?.kind === "private" ? icon(ICONS.lock) : "#"),
      h("span", { "data-testid": "current-topic", "data-topic": name, title: direct ? `@${peer}` : null }, direct ? people().nameOf(peer) : name));
    this.subtitle.disabled = false;
    this.subtitle.textContent = direct ? directStatus(state, topic, name) : topicStatus(topic);
    const member = Boolean(topic?.subscribed);
    const started = direct ? Boolean(topic) && !topic.draft : member; // a draft is not on the server yet
    this.pinsButton.hidden = !started;
    this.bell.render(topic, started);
    this.settingsButton.hidden = direct || !member || !canManage(state.roleIn(name));
    this.description.textContent = direct ? "" : topic?.description || (state.landed === state.current ? LANDING_LINE : "");
    this.description.title = this.description.textContent;
    this.description.hidden = !this.description.textContent;
    this.title.classList.toggle("archived", Boolean(topic?.archived));
    this.inviteButton.hidden = direct || !member;
    this.leaveButton.hidden = direct || !member;
    if (this.inviteButton.hidden) this.toggleInvite(false);
  }
}

function topicStatus(topic) {
  if (!topic) return "";
  const archived = topic.archived ? " · archived" : "";
  return `${plural(topic.members ?? 0, "member")} · ${topic.online ?? 0} online${archived}`;
}

function directStatus(state, topic, name) {
  const online = state.peerOnline(topic);
  if (online) return availabilityLabel(availabilityOf(peerOf(name), true)).toLowerCase(); // "do not disturb"
  const seen = state.presence.get(peerOf(name).toLowerCase())?.last_seen;
  return seen ? lastSeen(seen) : "offline";
}
