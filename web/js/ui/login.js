// The sign-in screen: log in or create an account, or sign in with the single sign-on provider.
import { checkUsername } from "../targets.js";
import { h } from "./dom.js";

/**
 * Render the screen into root. submit(mode, username, password) is called with
 * mode "login" or "register" and may throw a ChatError, shown in words.
 * methods is GET /api/auth/methods' answer: {password, oidc: null | {name}}. With oidc, a
 * "Sign in with <name>" link starts single sign-on; without password, there is no form.
 */
export function renderLogin(root, { notice = "", error: failure = "", methods = { password: true, oidc: null }, submit }) {
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
  error.textContent = failure;
  error.hidden = !failure;
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

  const brand = h("div", { class: "brand brand-large" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, "P"), "Parley");
  const title = h("h1", { id: "auth-title", class: "auth-title" }, "Welcome");
  const sso = methods.oidc
    ? h("a", { class: "btn btn-primary sso-button", href: "/api/auth/oidc/login", "data-testid": "sso-login" },
      `Sign in with ${methods.oidc.name}`)
    : null;
  if (sso && methods.password) sso.classList.replace("btn-primary", "btn-ghost");
  let form;
  if (methods.password) {
    form = h("form", {
      class: "auth-card", "data-testid": "login-form", "aria-labelledby": "auth-title", novalidate: true,
      onsubmit: (event) => { event.preventDefault(); run("login"); },
    },
      brand, title,
      h("p", { class: "auth-sub" }, "Log in, or pick a username and password to create an account."),
      info,
      h("div", { class: "field" }, h("label", { for: "login-username" }, "Username"), username),
      h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
      error,
      h("div", { class: "auth-actions" }, loginButton, registerButton, ...(sso ? [sso] : [])),
    );
  } else {
    form = h("div", { class: "auth-card", "data-testid": "login-form", "aria-labelledby": "auth-title" },
      brand, title, info, error,
      h("div", { class: "auth-actions" }, sso ?? h("p", { class: "auth-sub" }, "No way to sign in is configured.")));
  }
  registerButton.addEventListener("click", () => run("register"));
  root.replaceChildren(h("main", { class: "auth-screen", "data-testid": "login-screen" }, form));
  if (methods.password) username.focus();
  else sso?.focus();
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
