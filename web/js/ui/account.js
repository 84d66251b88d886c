// The "My account" dialog: change the password with the current one (PROTOCOL.md section 19; every
// other session is signed out); the account's sessions: the device (from its browser's name), the
// address, when it was last used, "this device"; sign one out (its sockets close on every node) or
// every other one; and what the account holds (section 16): download my data, delete my account.
import * as api from "../api.js";
import { h } from "./dom.js";
import { fullTime, parseTime } from "./format.js";
import { checkNewPassword } from "./auth_links.js";
import { exportSection } from "./export_data.js";

/**
 * env: {token(): the current token, newToken({token, expires_at}): a token the password change
 * answered with, refresh(): get one through the cookie, deleteAccount(): the deletion's dialog}
 */
export function openAccount(env) {
  const view = new AccountDialog(env);
  document.body.append(view.dialog);
  view.dialog.showModal();
  view.current.focus();
  view.load();
  return view.dialog;
}

class AccountDialog {
  constructor(env) {
    this.env = env;
    this.current = h("input", { id: "acc-current", type: "password", "data-testid": "password-current", autocomplete: "current-password" });
    this.next = h("input", { id: "acc-new", type: "password", "data-testid": "password-new", autocomplete: "new-password" });
    this.again = h("input", { id: "acc-again", type: "password", "data-testid": "password-again", autocomplete: "new-password" });
    this.passwordError = h("p", { class: "form-error small", role: "alert", "data-testid": "password-error", hidden: true });
    this.passwordDone = h("p", { class: "hint", role: "status", "data-testid": "password-done" });
    this.passwordForm = h("form", { class: "notify-group", "aria-labelledby": "acc-password-title", novalidate: true },
      h("h3", { class: "settings-title", id: "acc-password-title" }, "Change my password"),
      h("div", { class: "field" }, h("label", { for: "acc-current" }, "Current password"), this.current),
      h("div", { class: "field" }, h("label", { for: "acc-new" }, "New password"), this.next),
      h("div", { class: "field" }, h("label", { for: "acc-again" }, "The new password again"), this.again),
      this.passwordError, this.passwordDone,
      h("div", { class: "inline-row end" },
        h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "password-save" }, "Change password")));
    this.passwordForm.addEventListener("submit", (event) => { event.preventDefault(); this.changePassword(); });
    this.list = h("ul", { class: "session-list", "data-testid": "session-list", "aria-label": "My sessions" });
    this.sessionsState = h("p", { class: "hint", role: "status", "data-testid": "sessions-state" }, "Loading…");
    this.othersButton = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "sessions-end-others", hidden: true,
      onclick: () => this.endOthers() }, "Sign out every other session");
    this.dialog = h("dialog", { class: "dialog people-dialog account-dialog", "data-testid": "account-dialog", "data-session": "", "aria-labelledby": "acc-title" },
      h("div", { class: "dialog-form" },
        h("h2", { class: "dialog-title", id: "acc-title" }, "My account"),
        this.passwordForm,
        h("section", { class: "notify-group", "aria-labelledby": "acc-sessions-title" },
          h("h3", { class: "settings-title", id: "acc-sessions-title" }, "Where I am signed in"),
          this.sessionsState, this.list, this.othersButton),
        h("section", { class: "notify-group", "aria-labelledby": "acc-data-title" },
          h("h3", { class: "settings-title", id: "acc-data-title" }, "My data"),
          exportSection(env.token),
          h("div", { class: "inline-row" },
            h("button", { class: "btn btn-danger btn-small", type: "button", "data-testid": "delete-account-open",
              onclick: () => { this.dialog.close(); env.deleteAccount?.(); } }, "Delete my account…"))),
        h("div", { class: "inline-row end" },
          h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "account-close", onclick: () => this.dialog.close() }, "Close"))));
    this.dialog.addEventListener("close", () => this.dialog.remove());
  }

  async changePassword() {
    const problem = !this.current.value ? "Type your current password." : checkNewPassword(this.next.value, this.again.value);
    show(this.passwordError, problem ?? "");
    this.passwordDone.textContent = "";
    if (problem) return;
    const button = this.passwordForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await api.changePassword(this.env.token(), this.current.value, this.next.value);
      // Every other session is signed out; this one goes on (a new token when the server gives one).
      if (answer?.token) await this.env.newToken(answer);
      else await this.env.refresh();
      for (const input of [this.current, this.next, this.again]) input.value = "";
      this.passwordDone.textContent = "Your password is changed. Every other session was signed out.";
      await this.load();
    } catch (err) {
      show(this.passwordError, err.code === "unauthorized" || err.code === "forbidden" ? "The current password is wrong: nothing changed." : err.message);
    } finally {
      button.disabled = false;
    }
  }

  async load() {
    try {
      const sessions = await api.listSessions(this.env.token());
      this.render(sessions);
    } catch (err) {
      this.sessionsState.textContent = err.message;
    }
  }

  render(sessions) {
    const sorted = [...sessions].sort((a, b) => Number(Boolean(b.current)) - Number(Boolean(a.current))
      || String(b.last_used_at ?? "").localeCompare(String(a.last_used_at ?? "")));
    this.list.replaceChildren(...sorted.map((s) => this.item(s)));
    const others = sorted.filter((s) => !s.current).length;
    this.sessionsState.textContent = others ? `${sorted.length} sessions` : "Only this device is signed in.";
    this.othersButton.hidden = !others;
  }

  item(s) {
    const used = parseTime(s.last_used_at);
    const started = parseTime(s.created_at);
    const device = deviceOf(s.user_agent);
    return h("li", { class: "session-item", "data-testid": "session", "data-id": String(s.id), "data-current": String(Boolean(s.current)) },
      h("span", { class: "entry-main" },
        h("span", { class: "entry-head" },
          h("span", { class: "entry-sender", "data-testid": "session-device" }, device),
          s.current ? h("span", { class: "role", "data-testid": "session-this" }, "this device") : null),
        h("span", { class: "session-meta" },
          s.address ? `${s.address} · ` : "",
          "last used ", h("time", { datetime: s.last_used_at ?? "", title: fullTime(used) }, fullTime(used) || "unknown"),
          started ? ` · signed in ${fullTime(started)}` : "")),
      s.current ? null : h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "session-end",
        "aria-label": `Sign out ${device}${s.address ? ` at ${s.address}` : ""}`, onclick: (event) => this.end(s.id, event.currentTarget) }, "Sign out"));
  }

  async end(id, button) {
    button.disabled = true;
    try {
      await api.endSession(this.env.token(), id);
      await this.load();
    } catch (err) {
      this.sessionsState.textContent = err.message;
      button.disabled = false;
    }
  }

  async endOthers() {
    this.othersButton.disabled = true;
    try {
      await api.endOtherSessions(this.env.token());
      await this.load();
    } catch (err) {
      this.sessionsState.textContent = err.message;
    } finally {
      this.othersButton.disabled = false;
    }
  }
}

function show(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

/** "Firefox on Linux" from a User-Agent header (a few common names; else the start of it). */
export function deviceOf(agent) {
  const ua = String(agent ?? "");
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua) ? "Edge" : /OPR\//.test(ua) ? "Opera" : /Firefox\//.test(ua) ? "Firefox"
    : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : null;
  const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows"
    : /Mac OS X|Macintosh/.test(ua) ? "macOS" : /Linux|X11/.test(ua) ? "Linux" : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? ua.slice(0, 40);
}
