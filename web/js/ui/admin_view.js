// The workspace's administration view (PROTOCOL.md section 19), for its owners and admins: one
// dialog with tabs, styled as the rest of the page. Users (search, role, disable, password reset,
// erase, create), invites (create, list, copy the link, revoke), registration (open / invite /
// closed, allowed domains, whether members may invite), the public topics (rename, archive,
// transfer), custom emoji (upload with a name, the list with their pictures, remove: PROTOCOL.md
// section 13), the server API's keys (make one, shown once; the list; revoke: section 17), reports
// and the audit log with readable times. Each tab loads when first shown and
// after each change; the server's refusal shows in words in the tab. Tabs: arrow keys, Home, End.
import { confirmArchive } from "./topic_settings.js";
import * as api from "../api.js";
import { customEmojiImage } from "../emoji.js";
import { fill, h } from "./dom.js";
import { fullTime, parseTime, plural } from "./format.js";

const TABS = [
  ["users", "Users"], ["invites", "Invites"], ["registration", "Registration"],
  ["topics", "Topics"], ["emoji", "Emoji"], ["keys", "Server keys"], ["reports", "Reports"], ["audit", "Audit log"],
];
const SCOPES = [
  ["publish", "publish messages"], ["members", "add and remove members, make topics"], ["presence", "ask who is online"],
  ["users", "make users and their tokens"], ["disconnect", "disconnect users"], ["as_user", "send as any user"],
];
const EXPIRIES = [[3600, "1 hour"], [86400, "1 day"], [7 * 86400, "7 days"], [30 * 86400, "30 days"]];

/** env: {token(), me(), role(): "owner" | "admin", toasts} */
export function openAdmin(env) {
  const view = new AdminView(env);
  document.body.append(view.dialog);
  view.dialog.showModal();
  view.select("users");
  return view.dialog;
}

const when = (iso) => {
  const date = parseTime(iso);
  return date ? h("time", { datetime: iso, title: iso }, fullTime(date)) : "—";
};

function say(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

class AdminView {
  constructor(env) {
    this.env = env;
    this.tabs = new Map();
    this.tablist = h("div", { class: "admin-tabs", role: "tablist", "aria-label": "Administration" });
    this.panels = h("div", { class: "admin-panels" });
    for (const [key, label] of TABS) {
      const tab = h("button", { class: "admin-tab", type: "button", role: "tab", id: `admin-tab-${key}`, "data-testid": `admin-tab-${key}`,
        "aria-controls": `admin-panel-${key}`, "aria-selected": "false", tabindex: "-1", onclick: () => this.select(key) }, label);
      const panel = h("section", { class: "admin-panel", role: "tabpanel", id: `admin-panel-${key}`, "data-testid": `admin-panel-${key}`,
        "aria-labelledby": `admin-tab-${key}`, tabindex: "0", hidden: true });
      this.tabs.set(key, { tab, panel, loaded: false });
      this.tablist.append(tab);
      this.panels.append(panel);
    }
    this.tablist.addEventListener("keydown", (event) => this.onKey(event));
    this.dialog = h("dialog", { class: "dialog admin-dialog", "data-testid": "admin-view", "data-session": "", "aria-labelledby": "admin-title" },
      h("div", { class: "admin-head" },
        h("h2", { class: "dialog-title", id: "admin-title" }, "Administration"),
        h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "admin-close", onclick: () => this.dialog.close() }, "Close")),
      this.tablist, this.panels);
    this.dialog.addEventListener("close", () => this.dialog.remove());
  }

  get token() {
    return this.env.token();
  }

  onKey(event) {
    const keys = [...this.tabs.keys()];
    const at = keys.indexOf(this.current);
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: keys.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const key = keys[(next + keys.length) % keys.length];
    this.select(key);
    this.tabs.get(key).tab.focus();
  }

  select(key) {
    this.current = key;
    for (const [name, { tab, panel }] of this.tabs) {
      const on = name === key;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
    }
    const entry = this.tabs.get(key);
    if (!entry.loaded) {
      entry.loaded = true;
      entry.reload = this[`build_${key}`](entry.panel); // builds, loads, and says how to load again
    } else entry.reload?.(); // shown again: what changed meanwhile shows too
  }

  /**
   * A panel's frame: a count of what it lists, an error line (role=alert) and a status line
   * (role=status) that says what the last action did.
   */
  frame(panel, intro, ...content) {
    const count = h("p", { class: "hint", "data-testid": "admin-count" });
    const status = h("p", { class: "hint", role: "status", "data-testid": "admin-status" });
    const error = h("p", { class: "form-error small", role: "alert", "data-testid": "admin-error", hidden: true });
    fill(panel, intro ? h("p", { class: "dialog-text" }, intro) : null, ...content, count, error, status);
    return { count, status, error };
  }

  /** Run an action; its refusal shows in the panel's error line, its success in the status line. */
  async act(notes, run, done = "") {
    say(notes.error, "");
    try {
      const result = await run();
      if (done) notes.status.textContent = done;
      return result;
    } catch (err) {
      notes.status.textContent = "";
      say(notes.error, err.code === "not_found" && err.enveloped === false ? `${err.message || "This server does not offer that yet"} (${err.code}).` : err.message);
      return undefined;
    }
  }

  // ---- users --------------------------------------------------------------------------------

  build_users(panel) {
    const q = h("input", { id: "admin-users-q", type: "search", class: "search-input", "data-testid": "admin-users-q", autocomplete: "off", placeholder: "name or email" });
    const role = h("select", { id: "admin-users-role", "data-testid": "admin-users-role" },
      h("option", { value: "" }, "Any role"), ...["owner", "admin", "member"].map((r) => h("option", { value: r }, r)));
    const state = h("select", { id: "admin-users-state", "data-testid": "admin-users-state" },
      h("option", { value: "" }, "Any state"), h("option", { value: "false" }, "Active"), h("option", { value: "true" }, "Disabled"));
    const search = h("form", { class: "admin-filters", role: "search", "aria-label": "Find accounts" },
      h("label", { for: "admin-users-q" }, "Search"), q, h("label", { for: "admin-users-role" }, "Role"), role,
      h("label", { for: "admin-users-state" }, "State"), state,
      h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "admin-users-search" }, "Search"));
    const body = h("tbody", { "data-testid": "admin-users" });
    const table = h("table", { class: "admin-table" },
      h("caption", { class: "sr-only" }, "Accounts"),
      h("thead", {}, h("tr", {}, ...["Account", "Role", "State", "Last seen", "Signs in with", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      body);
    const newName = h("input", { id: "admin-new-name", "data-testid": "admin-new-username", autocomplete: "off", autocapitalize: "none", maxlength: "32" });
    const newEmail = h("input", { id: "admin-new-email", type: "email", "data-testid": "admin-new-email", autocomplete: "off", maxlength: "254" });
    const create = h("form", { class: "admin-create", "aria-label": "Create an account" },
      h("h3", { class: "settings-title" }, "Create an account"),
      h("div", { class: "inline-row" },
        h("label", { for: "admin-new-name" }, "Username"), newName, h("label", { for: "admin-new-email" }, "Email"), newEmail,
        h("button", { class: "btn btn-ghost btn-small", type: "submit", "data-testid": "admin-new-submit" }, "Create")),
      h("p", { class: "hint" }, "Without a password the account gets a mail to choose one."));
    const more = h("button", { class: "link-btn search-more", type: "button", "data-testid": "admin-users-more", hidden: true }, "More accounts");
    const notes = this.frame(panel, null, search, h("div", { class: "admin-scroll" }, table), more, create);
    let next = null;
    const load = async (after = null) => {
      const params = { q: q.value.trim(), role: role.value, disabled: state.value, after };
      const page = await this.act(notes, () => api.adminUsers(this.token, params));
      if (!page) return;
      const rows = page.users.map((u) => this.userRow(u, notes, () => load()));
      if (after) body.append(...rows);
      else fill(body, rows);
      next = page.next;
      more.hidden = !next;
      const shown = body.children.length;
      notes.count.textContent = shown ? `${plural(shown, "account")}${next ? " so far" : ""}` : "No account matches.";
    };
    more.addEventListener("click", () => next && load(next));
    search.addEventListener("submit", (event) => { event.preventDefault(); load(); });
    create.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = { username: newName.value.trim() };
      if (newEmail.value.trim()) fields.email = newEmail.value.trim();
      const made = await this.act(notes, () => api.adminCreateUser(this.token, fields));
      if (made === undefined) return;
      notes.status.textContent = made?.invite
        ? `Created ${fields.username}: an invitation to choose a password was mailed${fields.email ? ` to ${fields.email}` : ""}.`
        : `Created ${fields.username}.`;
      newName.value = newEmail.value = "";
      load();
    });
    load();
    return load;
  }

  userRow(u, notes, reload) {
    const name = u.username;
    const me = name.toLowerCase() === String(this.env.me()).toLowerCase();
    const owner = this.env.role() === "owner";
    const disabled = u.state ? u.state !== "active" : Boolean(u.disabled);
    const roleCell = owner && !me
      ? h("select", { "data-testid": "admin-user-role", "aria-label": `Role of ${name}`,
        onchange: async (event) => {
          const next = event.currentTarget.value;
          if (await this.act(notes, () => api.adminUpdateUser(this.token, name, { role: next }), `${name} is now ${next}.`) === undefined) event.currentTarget.value = u.role;
          else reload();
        } }, ...["owner", "admin", "member"].map((r) => h("option", { value: r, selected: r === u.role }, r)))
      : h("span", { class: `role role-${u.role}`, "data-testid": "admin-user-role-text" }, u.role);
    const button = (label, testid, run, danger = false) => h("button", {
      class: `btn ${danger ? "btn-danger" : "btn-ghost"} btn-small`, type: "button", "data-testid": testid, "aria-label": `${label}: ${name}`,
      onclick: run }, label);
    const methods = Array.isArray(u.methods) ? u.methods.join(", ") : u.methods ?? (u.sign_in ?? "");
    return h("tr", { "data-testid": "admin-user", "data-username": name },
      h("th", { scope: "row" }, name, u.display_name ? h("span", { class: "hint" }, ` ${u.display_name}`) : null,
        u.bot ? h("span", { class: "role" }, "bot") : null),
      h("td", {}, roleCell),
      h("td", { "data-testid": "admin-user-state" }, disabled ? "disabled" : u.state ?? "active"),
      h("td", {}, when(u.last_seen)),
      h("td", {}, methods || "—"),
      h("td", { class: "admin-actions" }, me ? h("span", { class: "hint" }, "you") : [
        button(disabled ? "Enable" : "Disable", "admin-user-disable", async () => {
          if (await this.act(notes, () => api.adminUpdateUser(this.token, name, { disabled: !disabled }), `${name} is ${disabled ? "enabled" : "disabled"}.`) !== undefined) reload();
        }),
        button("Send password reset", "admin-user-reset", () => this.act(notes, () => api.adminPasswordReset(this.token, name), `A password reset mail is on its way to ${name} (when the account has an email address).`)),
        button("Erase", "admin-user-erase", async (event) => {
          const confirm = event.currentTarget.dataset.confirm === "1";
          if (!confirm) {
            event.currentTarget.dataset.confirm = "1";
            event.currentTarget.textContent = `Erase ${name} for good?`;
            return;
          }
          if (await this.act(notes, () => api.adminEraseUser(this.token, name), `${name} is being erased.`) !== undefined) reload();
        }, true),
      ]));
  }

  // ---- invites ------------------------------------------------------------------------------

  build_invites(panel) {
    const uses = h("input", { id: "admin-inv-uses", type: "number", min: "1", max: "1000", step: "1", value: "1", inputmode: "numeric", "data-testid": "admin-invite-uses" });
    const expiry = h("select", { id: "admin-inv-expiry", "data-testid": "admin-invite-expiry" },
      ...EXPIRIES.map(([seconds, label]) => h("option", { value: String(seconds), selected: seconds === 7 * 86400 }, label)));
    const email = h("input", { id: "admin-inv-email", type: "email", maxlength: "254", autocomplete: "off", "data-testid": "admin-invite-email" });
    const topics = h("input", { id: "admin-inv-topics", autocomplete: "off", "data-testid": "admin-invite-topics", placeholder: "design, releases" });
    const created = h("p", { class: "form-info", role: "status", "data-testid": "admin-invite-created", hidden: true });
    const copy = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "admin-invite-copy", hidden: true,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(copy.dataset.link);
          copy.textContent = "Copied";
        } catch {
          copy.textContent = "Select the link and copy it";
        }
      } }, "Copy link");
    const form = h("form", { class: "admin-create", "aria-label": "Create an invitation" },
      h("h3", { class: "settings-title" }, "New invitation"),
      h("div", { class: "admin-grid" },
        h("label", { for: "admin-inv-uses" }, "Uses"), uses,
        h("label", { for: "admin-inv-expiry" }, "Valid for"), expiry,
        h("label", { for: "admin-inv-email" }, "Mail it to (optional)"), email,
        h("label", { for: "admin-inv-topics" }, "Also joins topics (optional)"), topics),
      h("div", { class: "inline-row end" }, h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "admin-invite-create" }, "Create invitation")),
      created, copy,
      h("p", { class: "hint" }, "The link is shown once, here: the list below never shows it again."));
    const list = h("ul", { class: "admin-list", "data-testid": "admin-invites", "aria-label": "Invitations" });
    const notes = this.frame(panel, "An invitation link lets someone create an account, also when registration is by invitation only.", form, list);
    const load = async () => {
      const invites = await this.act(notes, () => api.listInvites(this.token));
      if (!invites) return;
      fill(list, invites.map((inv) => this.inviteItem(inv, notes, load)));
      if (!invites.length) list.append(h("li", { class: "panel-empty" }, "No invitation yet."));
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = { max_uses: Number(uses.value) || 1, expires_in: Number(expiry.value) };
      if (email.value.trim()) fields.email = email.value.trim();
      const names = topics.value.split(/[\s,]+/).map((t) => t.replace(/^#/, "")).filter(Boolean);
      if (names.length) fields.topics = names;
      const invite = await this.act(notes, () => api.createInvite(this.token, fields));
      if (!invite) return;
      say(created, `Invitation created${fields.email ? ` and mailed to ${fields.email}` : ""}: ${linkOf(invite)}`);
      copy.dataset.link = linkOf(invite);
      copy.textContent = "Copy link";
      copy.hidden = false;
      email.value = topics.value = "";
      load();
    });
    load();
    return load;
  }

  inviteItem(inv, notes, reload) {
    const left = inv.uses_left ?? inv.max_uses;
    const state = inv.revoked ? "revoked" : inv.usable === false ? (left === 0 ? "used up" : "expired") : "usable";
    return h("li", { class: "admin-item", "data-testid": "admin-invite", "data-id": String(inv.id) },
      h("span", { class: "entry-main" },
        h("span", { class: "entry-head" },
          h("span", { class: "entry-sender" }, `Invitation ${inv.id}`),
          h("span", { class: "role", "data-testid": "admin-invite-state" }, state)),
        h("span", { class: "session-meta" },
          `${left === undefined ? "" : `${plural(left, "use")} left · `}expires `, when(inv.expires_at),
          inv.email ? ` · for ${inv.email}` : "", inv.topics?.length ? ` · joins ${inv.topics.map((t) => `#${t}`).join(", ")}` : "",
          inv.created_by ? ` · by ${inv.created_by}` : "")),
      inv.revoked ? null : h("button", { class: "btn btn-danger btn-small", type: "button", "data-testid": "admin-invite-revoke", "aria-label": `Revoke invitation ${inv.id}`,
        onclick: async () => {
          if (await this.act(notes, () => api.revokeInvite(this.token, inv.id), "Invitation revoked.") !== undefined) reload();
        } }, "Revoke"));
  }

  // ---- the server API's keys (PROTOCOL.md section 17) --------------------------------------------

  build_keys(panel) {
    const label = h("input", { id: "admin-key-label", "data-testid": "admin-key-label", required: true, maxlength: "64",
      autocomplete: "off", placeholder: "billing backend", "aria-describedby": "admin-key-label-hint" });
    const scopes = SCOPES.map(([scope, text]) => h("input", { type: "checkbox", id: `admin-key-scope-${scope}`, value: scope,
      "data-testid": "admin-key-scope", checked: scope !== "as_user" }));
    const created = h("p", { class: "form-info", role: "status", "data-testid": "admin-key-created", hidden: true });
    const form = h("form", { class: "admin-create", "aria-label": "Make a server key" },
      h("div", { class: "field" }, h("label", { for: "admin-key-label" }, "Label"), label,
        h("p", { class: "hint", id: "admin-key-label-hint" }, "What the key is for: its messages are sent by a bot of this name.")),
      h("fieldset", { class: "field" }, h("legend", {}, "Scopes"),
        ...scopes.map((box, i) => h("label", { class: "inline-row", for: box.id }, box, ` ${SCOPES[i][0]}: ${SCOPES[i][1]}`))),
      h("div", { class: "inline-row end" }, h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "admin-key-create" }, "Make key")),
      created,
      h("p", { class: "hint" }, "The key is shown once, here: copy it to your backend now."));
    const list = h("ul", { class: "admin-list", "data-testid": "admin-keys", "aria-label": "Server keys" });
    const notes = this.frame(panel, "A server key lets your application's backend call Parley's server API (/api/server/) without a socket.", form, list);
    const load = async () => {
      const keys = await this.act(notes, () => api.listServerKeys(this.token));
      if (!keys) return;
      notes.count.textContent = plural(keys.length, "key");
      fill(list, keys.map((key) => h("li", { class: "admin-item", "data-testid": "admin-key", "data-id": key.id },
        h("span", { class: "entry-main" },
          h("span", { class: "entry-head" }, h("span", { class: "entry-sender" }, key.label)),
          h("span", { class: "session-meta" }, `${key.scopes.join(", ")} · sends as ${key.bot} · made `, when(key.created_at))),
        h("button", { class: "btn btn-danger btn-small", type: "button", "data-testid": "admin-key-revoke", "aria-label": `Revoke the key ${key.label}`,
          onclick: async () => {
            if (await this.act(notes, () => api.revokeServerKey(this.token, key.id), `The key ${key.label} is revoked.`) !== undefined) load();
          } }, "Revoke"))));
      if (!keys.length) list.append(h("li", { class: "panel-empty" }, "No server key yet."));
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = scopes.filter((box) => box.checked).map((box) => box.value);
      const made = await this.act(notes, () => api.createServerKey(this.token, { label: label.value.trim(), scopes: chosen }));
      if (!made) return;
      say(created, `Key for ${made.label}: ${made.key}`);
      label.value = "";
      load();
    });
    load();
    return load;
  }

  // ---- custom emoji (PROTOCOL.md section 13) ----------------------------------------------------

  build_emoji(panel) {
    const name = h("input", { id: "admin-emoji-name", "data-testid": "admin-emoji-name", required: true, maxlength: "32",
      pattern: "[a-z0-9_\\-]{1,32}", autocomplete: "off", placeholder: "party_parrot", "aria-describedby": "admin-emoji-name-hint" });
    const file = h("input", { id: "admin-emoji-file", type: "file", "data-testid": "admin-emoji-file", required: true,
      accept: "image/png,image/jpeg,image/gif,image/webp" });
    const form = h("form", { class: "admin-create", "aria-label": "Add a custom emoji" },
      h("div", { class: "field" }, h("label", { for: "admin-emoji-name" }, "Name"), name,
        h("p", { class: "hint", id: "admin-emoji-name-hint" }, "1 to 32 of a-z, 0-9, _ and -: people type it as :name:.")),
      h("div", { class: "field" }, h("label", { for: "admin-emoji-file" }, "Picture (PNG, JPEG, GIF or WebP, at most 256 KiB)"), file),
      h("div", { class: "inline-row end" }, h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "admin-emoji-add" }, "Add emoji")));
    const list = h("ul", { class: "admin-emoji-list", "data-testid": "admin-emoji", "aria-label": "Custom emoji" });
    const notes = this.frame(panel, "Custom emoji can be used in messages and reactions by everyone in the workspace.", form, list);
    const load = async () => {
      const emoji = await this.act(notes, () => api.listEmoji(this.token));
      if (!emoji) return;
      notes.count.textContent = plural(emoji.length, "custom emoji", "custom emoji");
      const picture = (item) => Object.assign(customEmojiImage(item), { alt: "" }); // the name beside it says it
      fill(list, emoji.map((item) => h("li", { class: "admin-item", "data-testid": "admin-emoji-item", "data-name": item.name },
        picture(item), h("span", { class: "entry-sender" }, `:${item.name}:`),
        h("span", { class: "emoji-by" }, item.by ? `by ${item.by} · ` : "", when(item.created_at)),
        h("button", { class: "btn btn-danger btn-small", type: "button", "data-testid": "admin-emoji-remove", "aria-label": `Remove :${item.name}:`,
          onclick: async () => {
            if (await this.act(notes, () => api.removeEmoji(this.token, item.name), `:${item.name}: removed.`) !== undefined) load();
          } }, "Remove"))));
      if (!emoji.length) list.append(h("li", { class: "panel-empty" }, "No custom emoji yet."));
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const picked = file.files?.[0];
      if (!picked) return;
      const made = await this.act(notes, () => api.addEmoji(this.token, name.value.trim(), picked), `:${name.value.trim()}: added.`);
      if (!made) return;
      name.value = "";
      file.value = "";
      load();
    });
    load();
    return load;
  }

  // ---- registration -------------------------------------------------------------------------

  build_registration(panel) {
    const modes = [["open", "Open: anyone may create an account"], ["invite", "By invitation: an invitation link is needed"],
      ["closed", "Closed: only admins create accounts"]];
    const radios = modes.map(([value]) => h("input", { type: "radio", name: "admin-registration", id: `admin-reg-${value}`, value, "data-testid": `admin-registration-${value}` }));
    const domains = h("textarea", { id: "admin-reg-domains", rows: "3", "data-testid": "admin-allowed-domains", placeholder: "example.com" });
    const membersInvite = h("input", { type: "checkbox", id: "admin-reg-members", "data-testid": "admin-members-invite" });
    const form = h("form", { class: "admin-create", "aria-label": "Registration" },
      h("fieldset", { class: "notify-group" }, h("legend", {}, "Who may create an account"),
        ...modes.map(([value, label], i) => h("label", { class: "check", for: `admin-reg-${value}` }, radios[i], label))),
      h("div", { class: "field" }, h("label", { for: "admin-reg-domains" }, "Allowed email domains (one a line; empty: any)"), domains,
        h("p", { class: "hint" }, "Emails and single-sign-on accounts outside them are refused.")),
      h("label", { class: "check", for: "admin-reg-members" }, membersInvite, "Members may create invitations too"),
      h("div", { class: "inline-row end" }, h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "admin-registration-save" }, "Save")));
    const notes = this.frame(panel, null, form);
    let edited = false; // a load answered late does not undo what was chosen meanwhile
    form.addEventListener("input", () => { edited = true; });
    const show = (settings) => {
      edited = false;
      for (const radio of radios) radio.checked = radio.value === settings.registration;
      domains.value = (settings.allowed_domains ?? []).join("\n");
      membersInvite.checked = Boolean(settings.members_invite);
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const changes = {
        registration: radios.find((r) => r.checked)?.value ?? "open",
        allowed_domains: domains.value.split(/[\s,]+/).map((d) => d.trim().replace(/^@/, "").toLowerCase()).filter(Boolean),
        members_invite: membersInvite.checked,
      };
      const saved = await this.act(notes, () => api.saveAdminSettings(this.token, changes), "Saved.");
      if (saved) show(saved);
    });
    const load = () => this.act(notes, () => api.adminSettings(this.token)).then((settings) => settings && !edited && show(settings));
    load();
    return load;
  }

  // ---- topics -------------------------------------------------------------------------------

  build_topics(panel) {
    const body = h("tbody", { "data-testid": "admin-topics" });
    const table = h("table", { class: "admin-table" }, h("caption", { class: "sr-only" }, "Public topics"),
      h("thead", {}, h("tr", {}, ...["Topic", "Owner", "Members", "State", "Actions"].map((t) => h("th", { scope: "col" }, t)))), body);
    const notes = this.frame(panel, "Every public topic. Workspace owners and admins moderate them all; private topics stay private.", h("div", { class: "admin-scroll" }, table));
    const load = async () => {
      const topics = await this.act(notes, () => api.adminTopics(this.token));
      if (!topics) return;
      const shown = topics.filter((t) => t.kind === "public").sort((a, b) => a.name.localeCompare(b.name));
      keepingTyped(body, () => fill(body, shown.map((t) => this.topicRow(t, notes, load))));
      notes.count.textContent = plural(shown.length, "public topic");
    };
    load();
    return load;
  }

  topicRow(t, notes, reload) {
    const rename = h("input", { "data-testid": "admin-topic-name", "aria-label": `New name for #${t.name}`, value: t.name, maxlength: "64", autocomplete: "off", autocapitalize: "none" });
    const heir = h("input", { "data-testid": "admin-topic-heir", "aria-label": `New owner of #${t.name}`, placeholder: "username", maxlength: "32", autocomplete: "off", autocapitalize: "none" });
    const small = (label, testid, run, aria) => h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": testid, "aria-label": aria, onclick: run }, label);
    return h("tr", { "data-testid": "admin-topic", "data-topic": t.name },
      h("th", { scope: "row" }, `#${t.name}`),
      h("td", {}, t.owner ?? h("span", { class: "hint" }, "the workspace")),
      h("td", {}, String(t.members ?? "")),
      h("td", { "data-testid": "admin-topic-state" }, t.archived ? "archived" : "open"),
      h("td", { class: "admin-actions" },
        h("span", { class: "inline-row" }, rename, small("Rename", "admin-topic-rename", async () => {
          const next = rename.value.trim().replace(/^#/, "");
          if (next && next !== t.name && await this.act(notes, () => api.renameTopic(this.token, t.name, next), `#${t.name} is now #${next}.`) !== undefined) reload();
        }, `Rename #${t.name}`)),
        small(t.archived ? "Unarchive" : "Archive", "admin-topic-archive", () => {
          const apply = async () => {
            if (await this.act(notes, () => api.archiveTopic(this.token, t.name, !t.archived), `#${t.name} is ${t.archived ? "open again" : "archived"}.`) !== undefined) reload();
          };
          return t.archived ? apply() : confirmArchive(t.name, apply);
        }, `${t.archived ? "Unarchive" : "Archive"} #${t.name}`),
        h("span", { class: "inline-row" }, heir, small("Transfer", "admin-topic-transfer", async () => {
          const who = heir.value.trim();
          if (who && await this.act(notes, () => api.transferTopic(this.token, t.name, who), `#${t.name} now belongs to ${who}.`) !== undefined) {
            heir.value = ""; // done: the reload does not bring it back
            reload();
          }
        }, `Transfer #${t.name}`))));
  }

  // ---- reports ------------------------------------------------------------------------------

  build_reports(panel) {
    const list = h("ul", { class: "admin-list", "data-testid": "admin-reports", "aria-label": "Reported messages" });
    const notes = this.frame(panel, "Reported messages, newest first.", list);
    const load = async () => {
      const reports = await this.act(notes, () => api.adminReports(this.token));
      if (!reports) return;
      fill(list, reports.map((r) => this.reportItem(r, notes, load)));
      if (!reports.length) list.append(h("li", { class: "panel-empty" }, "Nothing reported."));
    };
    load();
    return load;
  }

  reportItem(report, notes, reload) {
    const m = report.message ?? {};
    return h("li", { class: "admin-item", "data-testid": "admin-report", "data-id": String(report.id) },
      h("span", { class: "entry-main" },
        h("span", { class: "entry-head" },
          h("span", { class: "entry-sender" }, m.sender ?? "?"), m.topic ? h("span", { class: "hit-place" }, m.topic.startsWith("@") ? m.topic : `#${m.topic}`) : null,
          when(report.created_at), h("span", {}, `reported by ${report.reporter}`)),
        h("span", { class: "hit-text" }, m.deleted ? "(deleted)" : m.excerpt ?? ""),
        report.reason ? h("span", { class: "session-meta" }, `Reason: ${report.reason}`) : null),
      m.deleted || !m.id ? null : h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "admin-report-delete", "aria-label": `Delete message ${m.id}`,
        onclick: async () => {
          if (await this.act(notes, () => api.adminDeleteMessage(this.token, m.id), `Message ${m.id} deleted.`) !== undefined) reload();
        } }, "Delete message"),
      m.sender ? h("button", { class: "btn btn-danger btn-small", type: "button", "data-testid": "admin-report-disable", "aria-label": `Disable ${m.sender}`,
        onclick: () => this.act(notes, () => api.adminUpdateUser(this.token, m.sender, { disabled: true }), `${m.sender} is disabled.`) }, `Disable ${m.sender}`) : null);
  }

  // ---- audit --------------------------------------------------------------------------------

  build_audit(panel) {
    const actor = h("input", { id: "admin-audit-actor", "data-testid": "admin-audit-actor", maxlength: "64", autocomplete: "off" });
    const action = h("input", { id: "admin-audit-action", "data-testid": "admin-audit-action", maxlength: "32", autocomplete: "off", placeholder: "user.role" });
    const since = h("input", { id: "admin-audit-since", type: "date", "data-testid": "admin-audit-since" });
    const filters = h("form", { class: "admin-filters", "aria-label": "Filter the audit log" },
      h("label", { for: "admin-audit-actor" }, "Who"), actor, h("label", { for: "admin-audit-action" }, "Action"), action,
      h("label", { for: "admin-audit-since" }, "Since"), since,
      h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "admin-audit-search" }, "Show"));
    const body = h("tbody", { "data-testid": "admin-audit" });
    const table = h("table", { class: "admin-table" }, h("caption", { class: "sr-only" }, "Audit log, newest first"),
      h("thead", {}, h("tr", {}, ...["When", "Who", "Action", "Target", "Topic", "Details"].map((t) => h("th", { scope: "col" }, t)))), body);
    const notes = this.frame(panel, null, filters, h("div", { class: "admin-scroll" }, table));
    const load = async () => {
      const entries = await this.act(notes, () => api.adminAudit(this.token, { actor: actor.value.trim(), action: action.value.trim(), since: since.value, limit: 200 }));
      if (!entries) return;
      fill(body, entries.map((e) => h("tr", { "data-testid": "admin-audit-entry", "data-action": e.action },
        h("td", {}, when(e.at)), h("td", {}, e.actor ?? "—"), h("td", {}, h("code", {}, e.action)),
        h("td", {}, e.target ?? ""), h("td", {}, e.topic ?? ""),
        h("td", { class: "admin-details" }, e.details && Object.keys(e.details).length
          ? Object.entries(e.details).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ") : ""))));
      notes.count.textContent = `${plural(entries.length, "row")}, newest first`;
    };
    filters.addEventListener("submit", (event) => { event.preventDefault(); load(); });
    load();
    return load;
  }
}

/** The invitation's full link (the server answers a path, /#invite=<code>). */
function linkOf(invite) {
  const path = invite.url ?? (invite.code ? `/#invite=${encodeURIComponent(invite.code)}` : "");
  return path ? new URL(path, location.origin).href : "";
}

/**
 * Re-render rows (``render``) keeping what was typed in them and not yet applied, and the focus:
 * a reload after one action (its answer comes later) must not wipe a field being edited, in the
 * same row or another. A field is matched by its row's ``data-topic`` and its own test id.
 */
function keepingTyped(body, render) {
  const keyOf = (input) => `${input.closest("tr")?.dataset.topic}|${input.dataset.testid}`;
  const typed = new Map();
  for (const input of body.querySelectorAll("input")) {
    if (input.value !== input.defaultValue) typed.set(keyOf(input), input.value);
  }
  const focused = body.contains(document.activeElement) ? keyOf(document.activeElement) : null;
  render();
  for (const input of body.querySelectorAll("input")) {
    const key = keyOf(input);
    if (typed.has(key)) input.value = typed.get(key);
    if (key === focused) input.focus();
  }
}
