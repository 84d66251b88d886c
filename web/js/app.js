// Entry point: load the Socket.IO client and the Markdown renderer, then show
// the login screen or the chat, and switch between them.
import * as api from "./api.js";
import { Chat } from "./chat.js";
import { clearCredentials, loadCredentials, saveCredentials } from "./credentials.js";
import { keepLink, pendingLink, takeLink } from "./deep_link.js";
import { loadMarkdown } from "./markdown.js";
import { registerWorker } from "./push.js";
import { loadClient } from "./socket.js";
import { h } from "./ui/dom.js";
import { renderLogin } from "./ui/login.js";
import { Banner, Toasts } from "./ui/notices.js";

const root = document.getElementById("app");
const banner = new Banner(document.getElementById("banner"));
const toasts = new Toasts(document.getElementById("toasts"));
let io = null;
let chat = null;

async function boot() {
  const sso = takeSignOnResult(); // before anything else: the one-time code leaves the URL at once
  takeLink(); // #topic=...&message=...: opened once signed in
  window.addEventListener("hashchange", followLink); // a link opened in this tab
  registerWorker(); // shows pushes; asks the user nothing
  listenToWorker();
  try {
    [io] = await Promise.all([loadClient(), loadMarkdown()]); // without Markdown: plain text bodies
  } catch (err) {
    showFatal(err.message);
    return;
  }
  if (sso?.code) return finishSignOn(sso.code);
  if (sso?.error) return showLogin("", `Single sign-on did not sign you in (${sso.error}). Try again.`);
  const creds = loadCredentials();
  if (creds) startChat(creds);
  else showLogin();
}

/**
 * Single sign-on ends on `/#oidc_code=<one-time code>` (or `/#oidc_error=<code>`): read it and
 * take it out of the address bar and the history at once.
 */
function takeSignOnResult() {
  const found = new URLSearchParams(location.hash.slice(1));
  const code = found.get("oidc_code");
  const error = found.get("oidc_error");
  if (code === null && error === null) return null;
  history.replaceState(history.state, "", location.pathname + location.search);
  return { code, error: error === null ? null : (/^[a-z_]{1,32}$/.test(error) ? error : "error") };
}

/** Exchange the one-time code for a token (once, within a minute), then sign in as a login does. */
async function finishSignOn(code) {
  try {
    const data = await api.oidcToken(code);
    const profile = await api.me(data.token);
    const creds = { token: data.token, username: profile.username, expiresAt: data.expires_at ?? null };
    saveCredentials(creds);
    startChat(creds);
  } catch (err) {
    showLogin("", `Single sign-on did not sign you in: ${err.message}`);
  }
}

/** A link to a message opened in this tab, while it runs: now when signed in, else after sign-in. */
function followLink() {
  const link = takeLink(); // kept for after sign-in
  if (link && chat) chat.openLink(pendingLink()); // signed in: now, and no longer kept
}

/**
 * The service worker's messages (web/sw.js): "parley:showing?" asks which conversation this window
 * shows (answered on the port; none unless the window has focus), "parley:open" says a
 * notification was clicked: its conversation opens now, or once signed in.
 */
function listenToWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    const { type, topic, id, seq } = event.data ?? {};
    if (type === "parley:showing?") {
      const seen = document.visibilityState === "visible" && document.hasFocus();
      event.ports[0]?.postMessage({ topic: (seen && chat?.state.currentName) || null });
      return;
    }
    if (type !== "parley:open" || typeof topic !== "string" || !topic) return;
    const link = { topic, id: Number.isSafeInteger(id) ? id : null, seq: Number.isSafeInteger(seq) ? seq : null };
    if (chat) chat.openLink(link);
    else keepLink(link);
  });
  navigator.serviceWorker.startMessages();
}

function showFatal(text) {
  root.replaceChildren(h("main", { class: "auth-screen" },
    h("div", { class: "auth-card fatal", role: "alert", "data-testid": "fatal-error" },
      h("h1", { class: "auth-title" }, "Parley cannot start"),
      h("p", {}, withCode(text)))));
}

/** Show `quoted` parts of a sentence as code (as text nodes: nothing is parsed as HTML). */
function withCode(text) {
  return text.split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part));
}

async function showLogin(notice = "", error = "") {
  banner.show("hidden");
  toasts.clear();
  let methods = { password: true, oidc: null };
  try {
    methods = await api.authMethods();
  } catch {
    // An older server or a network hiccup: the password form, as before.
  }
  renderLogin(root, { notice, error, methods, submit: signIn });
}

async function signIn(mode, username, password) {
  let creds;
  if (mode === "register") {
    const data = await api.register(username, password);
    creds = { token: data.token, username: data.user?.username ?? username, expiresAt: data.expires_at ?? null };
  } else {
    const data = await api.login(username, password);
    creds = { token: data.token, username, expiresAt: data.expires_at ?? null };
  }
  saveCredentials(creds);
  startChat(creds);
}

function startChat(creds) {
  chat = new Chat(root, {
    io, creds, banner, toasts,
    logout,
    signedOut: (notice) => {
      chat = null;
      clearCredentials();
      showLogin(notice);
    },
  });
}

async function logout() {
  const current = chat;
  if (!current) return;
  try {
    await api.logout(current.env.creds.token);
  } catch {
    // Already invalid or unreachable: forgetting the token locally is what matters.
  }
  current.end("You are logged out.");
}

// A test sets window.__parleyTest (an init script) to reach the page's state and
// clock (chat().refresher.advanceClock(ms)); a normal page exposes nothing.
if (window.__parleyTest) Object.assign(window.__parleyTest, { chat: () => chat });

boot();
