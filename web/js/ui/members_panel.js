// The side panel listing the members of the open conversation: presence dots,
// roles, and a menu per member with what my rank allows on theirs (roles; kick,
// ban and mute, with a small dialog for minutes and a reason; unmute) and
// blocking. Moderators also unban by name. Arrow keys move in a menu, Escape closes it.
import { offeredOn, canModerate, rankOf } from "../ranks.js";
import { MAX_REASON } from "../safety.js";
import { checkUsername } from "../targets.js";
import { openDialog } from "./dialog.js";
import { people } from "../people.js";
import { fill, h, icon, ICONS } from "./dom.js";
import { personAvatar, personName, presenceDot } from "./people_parts.js";

const ROLE_LABELS = { admin: "Make admin", moderator: "Make moderator", member: "Make member" };
const MINUTES = { name: "minutes", label: "Minutes", kind: "number", min: 1, max: 5_256_000, hint: "Leave empty for no end." };
const REASON = { name: "reason", label: "Reason (optional)", kind: "textarea", maxlength: MAX_REASON };

export class MembersPanel {
  /**
   * actions: toggleMembers(open), role(u, role), kick(u, reason), ban(u, minutes, reason),
   * unban(u), mute(u, minutes), unmute(u), block(u, blocked)
   */
  constructor(actions) {
    this.actions = actions;
    this.menuFor = null; // the member whose menu is open
    this.list = h("ul", { class: "member-list", "data-testid": "member-list" });
    this.heading = h("h2", { class: "panel-title" }, "Members");
    this.unbanButton = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "unban-open", onclick: () => this.unbanDialog() }, "Unban someone…");
    this.el = h("aside", { class: "members-panel", "data-testid": "members-panel", "aria-label": "Members", hidden: true },
      h("div", { class: "panel-head" }, this.heading,
        h("button", { class: "icon-btn", type: "button", "aria-label": "Close members", onclick: () => actions.toggleMembers(false) }, icon(ICONS.close))),
      this.list,
      h("div", { class: "panel-foot" }, this.unbanButton));
    this.el.addEventListener("keydown", (event) => this.onKey(event));
  }

  /** view: {myRole, direct, isBlocked(username)} */
  render(state, open, view = {}) {
    this.el.hidden = !open;
    if (!open) {
      this.menuFor = null;
      this.list.dataset.sig = "";
      return;
    }
    const members = state.members?.key === state.current ? state.members.list : [];
    const sorted = [...members].sort((a, b) => Number(online(state, b)) - Number(online(state, a))
      || rankOf(b.role) - rankOf(a.role) || a.username.localeCompare(b.username));
    const rows = sorted.map((m) => ({ ...m, on: online(state, m), me: state.isMe(m.username), blocked: Boolean(view.isBlocked?.(m.username)),
      person: people().sigOf(m.username), availability: people().get(m.username)?.availability ?? m.availability ?? null }));
    this.unbanButton.hidden = Boolean(view.direct) || !canModerate(view.myRole);
    const sig = JSON.stringify([rows, view.myRole, view.direct, this.menuFor]);
    if (this.list.dataset.sig === sig) return;
    this.list.dataset.sig = sig;
    this.heading.textContent = `Members (${members.length})`;
    fill(this.list, rows.map((m) => this.item(m, view)));
  }

  item(m, view) {
    const items = m.me ? [] : this.menuItems(m, view);
    const open = this.menuFor === m.username && items.length > 0;
    const toggle = items.length ? h("button", {
      class: "icon-btn small member-menu-btn", type: "button", "data-testid": "member-menu-toggle",
      "aria-label": `Actions for ${m.username}`, title: "Actions", "aria-haspopup": "menu", "aria-expanded": String(open),
      onclick: () => this.toggleMenu(m.username),
    }, icon(ICONS.more)) : null;
    const availability = m.availability ?? (m.on ? "online" : "offline");
    const show = () => this.actions.profile?.(m.username);
    return h("li", { class: "member", "data-testid": "member", "data-username": m.username, "data-online": String(m.on), "data-role": m.role ?? "member", "data-availability": availability },
      h("span", { class: "item-avatar" }, personAvatar(m.username, "", show),
        presenceDot(`dot ${m.on ? "on" : "off"} avail-${availability}`, availability)),
      h("button", { class: "member-name link-plain", type: "button", "data-testid": "member-name", onclick: show }, personName(m.username), m.me ? " (you)" : ""),
      m.blocked ? h("span", { class: "role blocked-tag", "data-testid": "blocked-tag" }, "blocked") : null,
      m.role && m.role !== "member" ? h("span", { class: `role role-${m.role}`, "data-testid": "member-role" }, m.role) : null,
      toggle,
      open ? h("div", { class: "member-menu popover", role: "menu", "aria-label": `Actions for ${m.username}`, "data-testid": "member-menu" },
        items.map(({ label, testid, run, danger }) => h("button", {
          class: `menu-item${danger ? " danger" : ""}`, type: "button", role: "menuitem", "data-testid": testid,
          onclick: () => { this.closeMenu(); run(); },
        }, h("span", { class: "menu-label" }, label)))) : null);
  }

  /** What my rank offers on this member, then blocking. */
  menuItems(m, view) {
    const a = this.actions;
    const u = m.username;
    const offered = view.direct ? { roles: [], moderate: false } : offeredOn(view.myRole, m.role ?? "member");
    const quiet = (promise) => promise.catch(() => {}); // refusals are shown by the controller
    return [
      ...offered.roles.map((role) => ({ label: ROLE_LABELS[role], testid: `make-${role}`, run: () => quiet(a.role(u, role)) })),
      ...(offered.moderate ? [
        { label: "Mute…", testid: "mute", run: () => this.dialog(`Mute ${u}`, "Mute", [MINUTES], (v) => a.mute(u, v.minutes), `${u} can still read, but cannot post, react or pin.`) },
        { label: "Unmute", testid: "unmute", run: () => quiet(a.unmute(u)) },
        { label: "Kick…", testid: "kick", danger: true, run: () => this.dialog(`Remove ${u}`, "Remove", [REASON], (v) => a.kick(u, v.reason), `${u} may join again later.`) },
        { label: "Ban…", testid: "ban", danger: true, run: () => this.dialog(`Ban ${u}`, "Ban", [MINUTES, REASON], (v) => a.ban(u, v.minutes, v.reason), `${u} is removed and cannot come back until unbanned.`) },
      ] : []),
      m.blocked
        ? { label: "Unblock", testid: "unblock", run: () => quiet(a.block(u, false)) }
        : { label: "Block", testid: "block", danger: true, run: () => quiet(a.block(u, true)) },
    ];
  }

  dialog(title, submit, fields, run, text) {
    openDialog({ title, text, fields, submit, danger: submit !== "Mute", testid: "moderation-dialog" }, run);
  }

  unbanDialog() {
    openDialog({
      title: "Unban someone", submit: "Unban", testid: "moderation-dialog",
      fields: [{ name: "username", label: "Username", kind: "text", required: true, maxlength: 32 }],
    }, async ({ username }) => {
      const problem = checkUsername(username);
      if (problem) throw new Error(problem);
      await this.actions.unban(username);
    });
  }

  toggleMenu(username) {
    this.menuFor = this.menuFor === username ? null : username;
    this.list.dataset.sig = "";
    this.actions.rerender();
    this.list.querySelector("[data-testid=member-menu] [role=menuitem]")?.focus();
  }

  closeMenu() {
    const was = this.menuFor;
    this.menuFor = null;
    this.list.dataset.sig = "";
    this.actions.rerender();
    this.toggleOf(was)?.focus();
  }

  toggleOf(username) {
    return [...this.list.querySelectorAll("[data-testid=member]")]
      .find((li) => li.dataset.username === username)?.querySelector("[data-testid=member-menu-toggle]");
  }

  onKey(event) {
    const menu = this.list.querySelector("[data-testid=member-menu]");
    if (!menu) return;
    const items = [...menu.querySelectorAll("[role=menuitem]")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "Escape") this.closeMenu();
    else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && at >= 0) {
      const step = event.key === "ArrowDown" ? 1 : items.length - 1;
      items[(at + step) % items.length].focus();
    } else return;
    event.preventDefault();
    event.stopPropagation();
  }
}

function online(state, member) {
  if (state.isMe(member.username)) return state.connection !== "offline";
  return state.isOnline(member.username) ?? member.online;
}
