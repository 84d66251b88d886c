// The sign-in screen: log in or create an account, or sign in with the single sign-on provider.
// Section 19: "Create account" follows the server's registration (open, invite, closed); an
// invitation link (`/#invite=<code>`) opens the screen to create an account with it; "Forgot
// password?" leads to the reset form (./auth_links.js).
import { checkUsername } from "../targets.js";
import { h } from "./dom.js";

/**
 * Render the screen into root. submit(mode, username, password) is called with
 * mode "login" or "register" and may throw a ChatError, shown in words.
 * methods is GET /api/auth/methods' answer: {password, oidc: null | {name}}. With oidc, a
 * "Sign in with <name>" link starts single sign-on; without password, there is no form.
 * invite: an invitation's code (the screen creates an account with it); forgot(): the
 * "Forgot password?" link; loginInstead(): back from an invitation to the plain login.
 */
export function renderLogin(root, {
  notice = "", error: failure = "", methods = { password: true, oidc: null }, submit, invite = null, forgot = null, loginInstead = null,
}) {
  const typed = typedSoFar(root); // the screen redrawn (a link followed, a slow answer): nothing typed is lost
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
  const registration = methods.registration ?? "open";
  const loginButton = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "login-submit" }, "Log in");
  const registerButton = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "register-submit" }, "Create account");
  if (invite) { // the invitation's screen: creating the account is what Enter does
    loginButton.type = "button";
    registerButton.type = "submit";
    registerButton.classList.replace("btn-ghost", "btn-primary");
  }
  const canRegister = Boolean(invite) || registration === "open";

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
  const title = h("h1", { id: "auth-title", class: "auth-title" }, invite ? "You are invited" : "Welcome");
  const sub = invite
    ? "Pick a username and a password to create your account."
    : canRegister ? "Log in, or pick a username and password to create an account."
      : registration === "invite" ? "Log in. New accounts need an invitation link." : "Log in. New accounts are created by the workspace's admins.";
  const forgotLink = forgot && !invite
    ? h("button", { type: "button", class: "link-btn forgot-link", "data-testid": "forgot-open", onclick: () => forgot() }, "Forgot password?")
    : null;
  const instead = invite && loginInstead
    ? h("button", { type: "button", class: "link-btn", "data-testid": "login-instead", onclick: () => loginInstead() }, "I already have an account")
    : null;
  const sso = methods.oidc
    ? h("a", {
      class: "btn btn-primary sso-button", "data-testid": "sso-login",
      // from an invitation's screen, the account single sign-on makes joins by its code
      href: invite ? `/api/auth/oidc/login?invite=${encodeURIComponent(invite)}` : "/api/auth/oidc/login",
    },
      `Sign in with ${methods.oidc.name}`)
    : null;
  if (sso && methods.password) sso.classList.replace("btn-primary", "btn-ghost");
  let form;
  if (methods.password) {
    form = h("form", {
      class: "auth-card", "data-testid": "login-form", "aria-labelledby": "auth-title", novalidate: true,
      onsubmit: (event) => { event.preventDefault(); run(invite ? "register" : "login"); },
    },
      brand, title,
      h("p", { class: "auth-sub", "data-testid": "login-sub" }, sub),
      info,
      h("div", { class: "field" }, h("label", { for: "login-username" }, "Username"), username),
      h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
      error,
      h("div", { class: "auth-actions" }, ...(invite ? [registerButton] : [loginButton, canRegister ? registerButton : null]),
        ...(sso && !invite ? [sso] : [])),
      forgotLink || instead ? h("p", { class: "auth-links" }, forgotLink, instead) : null,
    );
  } else {
    form = h("div", { class: "auth-card", "data-testid": "login-form", "aria-labelledby": "auth-title" },
      brand, title, info, error,
      h("div", { class: "auth-actions" }, sso ?? h("p", { class: "auth-sub" }, "No way to sign in is configured.")));
  }
  if (!invite) registerButton.addEventListener("click", () => run("register"));
  if (invite) password.setAttribute("autocomplete", "new-password");
  root.replaceChildren(h("main", { class: "auth-screen", "data-testid": "login-screen" }, form));
  username.value = typed.username;
  password.value = typed.password;
  if (methods.password) (typed.inPassword ? password : username).focus();
  else sso?.focus();
}

/**
 * What the login screen being replaced holds: someone who started typing before an invitation
 * link's screen (or a slower answer) redrew it keeps their username, password and place.
 */
function typedSoFar(root) {
  const username = root.querySelector("#login-username");
  const password = root.querySelector("#login-password");
  return {
    username: username?.value ?? "",
    password: password?.value ?? "",
    inPassword: Boolean(password) && document.activeElement === password,
  };
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
