// The password screens of the sign-in (PROTOCOL.md section 19), styled as the login card:
// "Forgot password?" asks a username or an email address and always says the same thing (the
// server never tells whether the account exists); the mailed link `/#reset=<code>` opens
// "Choose a new password", which signs every session out and returns to the login.
import { h } from "./dom.js";

const SENT = "If the account exists, a mail is on its way with a link to choose a new password. The link works once, within 30 minutes.";

function card(testid, title, sub, ...content) {
  return h("main", { class: "auth-screen", "data-testid": `${testid}-screen` },
    h("form", { class: "auth-card", "data-testid": testid, "aria-labelledby": `${testid}-title`, novalidate: true },
      h("div", { class: "brand brand-large" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, "P"), "Parley"),
      h("h1", { id: `${testid}-title`, class: "auth-title" }, title),
      h("p", { class: "auth-sub" }, sub),
      ...content));
}

function say(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

/** submit(usernameOrEmail) -> Promise; back(): to the login form. */
export function renderForgot(root, { submit, back }) {
  const who = h("input", { id: "forgot-who", name: "who", "data-testid": "forgot-who", autocomplete: "username", autocapitalize: "none", spellcheck: "false", maxlength: "254", required: true });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "forgot-error", hidden: true });
  const info = h("p", { class: "form-info", role: "status", "data-testid": "forgot-sent", hidden: true });
  const send = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "forgot-submit" }, "Send the link");
  const screen = card("forgot", "Forgot password?", "Type your username or your email address: a link to choose a new password is mailed to the account's address.",
    h("div", { class: "field" }, h("label", { for: "forgot-who" }, "Username or email address"), who),
    error, info,
    h("div", { class: "auth-actions" }, send,
      h("button", { type: "button", class: "btn btn-ghost", "data-testid": "forgot-back", onclick: () => back() }, "Back to log in")));
  screen.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = who.value.trim();
    say(info, "");
    if (!value) return say(error, "Type your username or your email address.");
    say(error, "");
    send.disabled = true;
    try {
      await submit(value);
      say(info, SENT);
    } catch (err) {
      say(error, err.message);
    } finally {
      send.disabled = false;
    }
  });
  root.replaceChildren(screen);
  who.focus();
}

/** submit(password) -> Promise; done(): the password is set; back(): to the login form. */
export function renderReset(root, { submit, done, back }) {
  const password = h("input", { id: "reset-password", type: "password", "data-testid": "reset-password", autocomplete: "new-password", required: true });
  const again = h("input", { id: "reset-again", type: "password", "data-testid": "reset-again", autocomplete: "new-password", required: true });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "reset-error", hidden: true });
  const save = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "reset-submit" }, "Set the password");
  const screen = card("reset", "Choose a new password", "Every session of your account is signed out once it is set.",
    h("div", { class: "field" }, h("label", { for: "reset-password" }, "New password"), password),
    h("div", { class: "field" }, h("label", { for: "reset-again" }, "The new password again"), again),
    error,
    h("div", { class: "auth-actions" }, save,
      h("button", { type: "button", class: "btn btn-ghost", "data-testid": "reset-back", onclick: () => back() }, "Back to log in")));
  screen.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = checkNewPassword(password.value, again.value);
    if (problem) return say(error, problem);
    say(error, "");
    save.disabled = true;
    try {
      await submit(password.value);
      done();
    } catch (err) {
      say(error, err.code === "invalid" && !/password/i.test(err.message) ? `${err.message}. Ask for a new link.` : err.message);
      save.disabled = false;
    }
  });
  root.replaceChildren(screen);
  password.focus();
}

/** The page's own check of a new password (8 to 72 bytes, typed twice alike), as the server's. */
export function checkNewPassword(password, again) {
  const size = new TextEncoder().encode(password).length;
  if (size < 8) return "A password has at least 8 characters.";
  if (size > 72) return "A password has at most 72 bytes.";
  if (password !== again) return "The two passwords differ.";
  return null;
}
