// The sign-in screen: log in or create an account.
import { checkUsername } from "../targets.js";
import { h } from "./dom.js";

/**
 * Render the screen into root. submit(mode, username, password) is called with
 * mode "login" or "register" and may throw a ChatError, shown in words.
 */
export function renderLogin(root, { notice = "", submit }) {
  const username = h("input", {
    id: "login-username", name: "username", "data-testid": "login-username",
    autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true,
  });
  const password = h("input", {
    id: "login-password", name: "password", type: "password", "data-testid": "login-password",
    autocomplete: "current-password", required: true,
  });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "login-error" });
  const info = h("p", { class: "form-info", "data-testid": "login-notice" }, notice);
  info.hidden = !notice;
  error.hidden = true;
  const loginButton = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "login-submit" }, "Log in");
  const registerButton = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "register-submit" }, "Create account");

  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };

  async function run(mode) {
    const name = username.value.trim();
    const problem = checkFields(mode, name, password.value);
    if (problem) return showError(problem);
    showError("");
    for (const b of [loginButton, registerButton]) b.disabled = true;
    try {
      await submit(mode, name, password.value);
    } catch (err) {
      showError(err.message);
      password.select();
    } finally {
      for (const b of [loginButton, registerButton]) b.disabled = false;
    }
  }

  const form = h("form", {
    class: "auth-card", "data-testid": "login-form", "aria-labelledby": "auth-title", novalidate: true,
    onsubmit: (event) => { event.preventDefault(); run("login"); },
  },
    h("div", { class: "brand brand-large" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, "P"), "Parley"),
    h("h1", { id: "auth-title", class: "auth-title" }, "Welcome"),
    h("p", { class: "auth-sub" }, "Log in, or pick a username and password to create an account."),
    info,
    h("div", { class: "field" }, h("label", { for: "login-username" }, "Username"), username),
    h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
    error,
    h("div", { class: "auth-actions" }, loginButton, registerButton),
  );
  registerButton.addEventListener("click", () => run("register"));
  root.replaceChildren(h("main", { class: "auth-screen", "data-testid": "login-screen" }, form));
  username.focus();
}

function checkFields(mode, username, password) {
  if (!username || !password) return "Enter a username and a password.";
  if (mode !== "register") return null;
  const problem = checkUsername(username);
  if (problem) return problem;
  if (new TextEncoder().encode(password).length < 8) return "A password has at least 8 characters.";
  if (new TextEncoder().encode(password).length > 72) return "A password has at most 72 bytes.";
  return null;
}
