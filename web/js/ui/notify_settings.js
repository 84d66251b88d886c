// The "Notifications" dialog (PROTOCOL.md section 15): push on this browser, a test notification,
// the email address and its verification, email digests and their interval, quiet hours.
//
// Push applies at once (turning it on asks the browser's permission, only then); the other
// preferences are saved together with Save (PUT /api/users/me/notifications), and the server's
// refusal ("invalid", with its message) shows in the dialog. User text goes in as text nodes only.
import * as api from "../api.js";
import { browserPush, pushSupported, subscribe, testNotification, unsubscribe } from "../push.js";
import { alertSettings, allowNotifications, saveAlertSettings } from "../alerts.js";
import { h } from "./dom.js";

const DIGESTS = [[15, "15 minutes"], [30, "30 minutes"], [60, "1 hour"], [240, "4 hours"], [1440, "1 day"]];

const PUSH_ON = "On: this browser shows direct messages and mentions that reach you while you are away.";
const PUSH_OFF = "Off on this browser.";

/** token(): the current token (it is refreshed while the dialog is open). */
export function openNotifySettings(token) {
  const view = new NotifySettings(token);
  document.body.append(view.dialog);
  view.dialog.showModal();
  view.load();
  return view.dialog;
}

class NotifySettings {
  constructor(token) {
    this.token = token;
    this.prefs = null; // as the server last answered
    const id = (name) => ({ id: `ns-${name}`, "data-testid": `notify-${name}` });
    this.push = h("input", { type: "checkbox", ...id("push"), disabled: true, onchange: () => this.togglePush() });
    this.pushState = h("p", { class: "hint", role: "status", "data-testid": "notify-push-state" }, "Loading…");
    this.testState = h("p", { class: "hint", role: "status", "data-testid": "notify-test-state" });
    this.address = h("input", { type: "email", ...id("email-address"), maxlength: "254", autocomplete: "email", placeholder: "you@example.com" });
    this.emailState = h("p", { class: "hint", role: "status", "data-testid": "notify-email-state" });
    this.sendVerify = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "notify-email-save", onclick: () => this.saveAddress() }, "Verify address");
    const alerts = alertSettings();
    this.alertNotify = h("input", { type: "checkbox", ...id("alerts-notify"), checked: alerts.notify, onchange: () => this.toggleAlerts() });
    this.alertSound = h("input", { type: "checkbox", ...id("alerts-sound"), checked: alerts.sound, onchange: () => this.toggleAlerts() });
    this.alertState = h("p", { class: "hint", role: "status", "data-testid": "notify-alerts-state" });
    this.email = h("input", { type: "checkbox", ...id("email") });
    this.digest = h("select", id("digest"), DIGESTS.map(([minutes, label]) => h("option", { value: String(minutes) }, label)));
    this.quiet = h("input", { type: "checkbox", ...id("quiet"), onchange: () => this.showQuiet() });
    this.quietFrom = h("input", { type: "time", ...id("quiet-from"), "aria-label": "Quiet from" });
    this.quietTo = h("input", { type: "time", ...id("quiet-to"), "aria-label": "Quiet until" });
    this.error = h("p", { class: "form-error small", role: "alert", "data-testid": "notify-error", hidden: true });
    this.saved = h("span", { class: "hint", role: "status", "data-testid": "notify-saved" });
    this.save = h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "notify-save", disabled: true }, "Save");
    this.form = h("form", { class: "dialog-form", novalidate: true },
      h("h2", { class: "dialog-title" }, "Notifications"),
      h("p", { class: "dialog-text" }, "Direct messages and mentions that reach you while you are away."),
      h("fieldset", { class: "notify-group" }, h("legend", {}, "While Parley is open"),
        h("label", { class: "check", for: "ns-alerts-notify" }, this.alertNotify, "Show a notification"),
        h("label", { class: "check", for: "ns-alerts-sound" }, this.alertSound, "Play a sound"),
        this.alertState,
        h("p", { class: "hint" }, "For direct messages, mentions, topics set to all messages and incoming calls; not for the conversation you are reading.")),
      h("fieldset", { class: "notify-group" }, h("legend", {}, "Push"),
        h("label", { class: "check", for: "ns-push" }, this.push, "Push notifications on this browser"), this.pushState,
        h("div", { class: "inline-row" },
          h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "notify-test", onclick: () => this.test() }, "Send a test notification")),
        this.testState),
      h("fieldset", { class: "notify-group" }, h("legend", {}, "Email"),
        h("div", { class: "field" }, h("label", { for: "ns-email-address" }, "Email address"),
          h("div", { class: "inline-row" }, this.address, this.sendVerify), this.emailState),
        h("label", { class: "check", for: "ns-email" }, this.email, "Email me a digest of what I missed"),
        h("div", { class: "field" }, h("label", { for: "ns-digest" }, "At most one digest every"), this.digest)),
      h("fieldset", { class: "notify-group" }, h("legend", {}, "Quiet hours"),
        h("label", { class: "check", for: "ns-quiet" }, this.quiet, "No notifications between"),
        h("div", { class: "inline-row" }, this.quietFrom, h("span", {}, "and"), this.quietTo),
        h("p", { class: "hint" }, "In your profile's time zone (UTC when it has none).")),
      this.error,
      h("div", { class: "inline-row end" }, this.saved,
        h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "notify-close", onclick: () => this.dialog.close() }, "Close"),
        this.save));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.dialog = h("dialog", { class: "dialog people-dialog", "data-testid": "notify-settings", "aria-label": "Notifications" }, this.form);
    this.dialog.addEventListener("close", () => this.dialog.remove());
  }

  /** The open tab's alerts apply at once, on this browser; a notification needs the permission,
   * asked now (this click), never at load. */
  async toggleAlerts() {
    this.alertState.textContent = "";
    if (this.alertNotify.checked && !(await allowNotifications())) {
      this.alertNotify.checked = false;
      this.alertState.textContent = "The browser does not allow notifications for this page: allow them in its site settings.";
    }
    saveAlertSettings({ notify: this.alertNotify.checked, sound: this.alertSound.checked });
  }

  async load() {
    try {
      this.show(await api.notificationPrefs(this.token()));
      this.save.disabled = false;
    } catch (err) {
      this.fail(`Notification settings could not be loaded: ${err.message}`);
      this.pushState.textContent = "";
      return;
    }
    await this.showPush();
  }

  /** The server's preferences into the form. */
  show(prefs) {
    this.prefs = prefs;
    this.email.checked = Boolean(prefs.email);
    this.digest.value = String(prefs.email_digest_minutes ?? 60);
    this.quiet.checked = Boolean(prefs.quiet_hours);
    this.quietFrom.value = prefs.quiet_hours?.from ?? "";
    this.quietTo.value = prefs.quiet_hours?.to ?? "";
    this.showQuiet();
    this.address.value = prefs.email_address ?? "";
    const available = prefs.email_available !== false;
    for (const el of [this.address, this.sendVerify]) el.disabled = !available; // the preferences stay settable
    this.emailState.textContent = emailText(prefs);
    this.emailState.dataset.state = !available ? "unavailable" : prefs.email_verified ? "verified" : prefs.email_address ? "sent" : "none";
  }

  showQuiet() {
    this.quietFrom.disabled = this.quietTo.disabled = !this.quiet.checked;
  }

  /** The toggle follows the browser: permission, a subscription, and the account's push preference. */
  async showPush(text = null) {
    const browser = await browserPush().catch(() => ({ supported: pushSupported(), permission: "default", subscription: null }));
    const on = browser.permission === "granted" && Boolean(browser.subscription) && Boolean(this.prefs?.push);
    this.push.checked = on;
    this.push.disabled = !browser.supported || browser.permission === "denied";
    this.pushState.dataset.state = on ? "on" : browser.supported ? browser.permission : "unsupported";
    if (text) this.pushState.textContent = text;
    else if (!browser.supported) this.pushState.textContent = "This browser cannot receive push notifications.";
    else if (browser.permission === "denied") this.pushState.textContent = "Notifications are blocked for this site: allow them in the browser's site settings.";
    else this.pushState.textContent = on ? PUSH_ON : PUSH_OFF;
  }

  async togglePush() {
    const wanted = this.push.checked;
    this.push.disabled = true;
    this.pushState.textContent = wanted ? "Turning push on…" : "Turning push off…";
    let problem = null;
    try {
      if (wanted) await subscribe(this.token());
      else await unsubscribe(this.token());
      // The stored preferences with push changed: edits not saved yet stay in the form, unsent.
      this.prefs = await api.saveNotificationPrefs(this.token(), { ...stored(this.prefs), push: wanted });
    } catch (err) {
      problem = err.message || "Push could not be changed.";
    }
    await this.showPush(problem);
    if (problem) this.pushState.dataset.state = "failed";
  }

  async test() {
    this.testState.textContent = "";
    try {
      await testNotification();
      this.testState.textContent = "Sent: a notification titled Parley should show now.";
    } catch (err) {
      this.testState.textContent = err.message || "The test notification could not be shown.";
    }
  }

  async saveAddress() {
    const email = this.address.value.trim();
    this.fail("");
    this.sendVerify.disabled = true;
    try {
      await api.setEmail(this.token(), email);
      const prefs = await api.notificationPrefs(this.token());
      this.show({ ...prefs, email_address: prefs.email_address ?? email });
    } catch (err) {
      this.fail(err.message);
    } finally {
      this.sendVerify.disabled = this.prefs?.email_available === false;
    }
  }

  /** The four preferences of PUT /api/users/me/notifications, from the form (push: as stored). */
  body() {
    return {
      push: Boolean(this.prefs?.push),
      email: this.email.checked,
      email_digest_minutes: Number(this.digest.value),
      quiet_hours: this.quiet.checked ? { from: this.quietFrom.value, to: this.quietTo.value } : null,
    };
  }

  async submit() {
    this.fail("");
    this.saved.textContent = "";
    this.save.disabled = true;
    try {
      this.show(await api.saveNotificationPrefs(this.token(), this.body()));
      this.saved.textContent = "Saved";
    } catch (err) {
      this.fail(err.message);
    } finally {
      this.save.disabled = false;
    }
  }

  fail(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}

/** The four preferences PUT takes, as the server last answered them. */
function stored(prefs) {
  const { push, email, email_digest_minutes: minutes, quiet_hours: quiet } = prefs ?? {};
  return { push: Boolean(push), email: Boolean(email), email_digest_minutes: minutes ?? 60, quiet_hours: quiet ?? null };
}

function emailText(prefs) {
  if (prefs.email_available === false) return "Email is not configured on this server.";
  if (!prefs.email_address) return "No address yet: digests need a verified one.";
  if (prefs.email_verified) return `Verified: ${prefs.email_address}`;
  return `Verification sent to ${prefs.email_address}: open the link in that mail.`;
}
