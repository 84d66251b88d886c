// The operators' message search at /admin/search (with the Admin UI: PARLEY_ADMIN_UI=1; the
// server side is server/edge/rest/admin_search.py): every topic and direct conversation, in
// PROTOCOL.md section 9's query language. The Admin UI's credentials go as HTTP Basic and are
// kept in the tab's sessionStorage under the Reports page's key (one sign-in for both pages);
// the hits' highlights are shown as text and <mark> elements only (ui/highlight.js).
import { avatar, fill, h } from "./ui/dom.js";
import { clock, dayLabel, fullTime, parseTime, plural } from "./ui/format.js";
import { highlightNodes } from "./ui/highlight.js";

const PAGE = 50;
const STORED = "parley_admin_basic"; // base64 "user:password", as the Reports page keeps it

class AdminSearch {
  constructor(root) {
    this.root = root;
    this.auth = null; // "Basic ..." once signed in
    this.query = "";
    this.next = null;
    this.count = 0;
    this.resume(sessionStorage.getItem(STORED));
  }

  /** Signed in on this tab already (here or on Reports): straight to the search. */
  async resume(stored) {
    if (!stored) return this.showLogin();
    this.auth = `Basic ${stored}`;
    try {
      await this.call("/admin/api/login");
      this.showSearch();
    } catch {
      sessionStorage.removeItem(STORED);
      this.auth = null;
      this.showLogin();
    }
  }

  async call(path, params = {}) {
    const url = `${path}?${new URLSearchParams(params)}`;
    const response = await fetch(url, { headers: { Authorization: this.auth, Accept: "application/json" } });
    if (response.ok) return response.status === 204 ? null : response.json();
    const body = await response.json().catch(() => null);
    const error = new Error(body?.error?.message ?? `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }

  showLogin(problem = "") {
    const user = h("input", { id: "admin-user", "data-testid": "admin-user", autocomplete: "username", required: true, value: "admin" });
    const password = h("input", { id: "admin-password", "data-testid": "admin-password", type: "password", autocomplete: "current-password", required: true });
    const note = h("p", { class: "form-error", role: "alert", "data-testid": "admin-login-error", hidden: !problem }, problem);
    const form = h("form", { class: "admin-card", "aria-label": "Sign in" },
      h("h1", {}, "Message search"),
      h("p", { class: "muted" }, "Every topic and direct conversation. Sign in with the Admin UI's credentials."),
      h("label", { for: "admin-user" }, "Username"), user,
      h("label", { for: "admin-password" }, "Password"), password,
      note,
      h("button", { class: "btn btn-primary", type: "submit", "data-testid": "admin-login" }, "Sign in"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const encoded = btoa(String.fromCharCode(...new TextEncoder().encode(`${user.value}:${password.value}`)));
      this.auth = `Basic ${encoded}`;
      try {
        await this.call("/admin/api/login");
        sessionStorage.setItem(STORED, encoded);
        this.showSearch();
      } catch (err) {
        this.auth = null;
        note.textContent = err.message;
        note.hidden = false;
      }
    });
    fill(this.root, form);
    password.focus();
  }

  showSearch() {
    this.input = h("input", { id: "admin-q", type: "search", class: "search-input", "data-testid": "admin-search-input", maxlength: "256", placeholder: "from:alice in:general \"a phrase\" -word deploy*", "aria-label": "Search every conversation", autocomplete: "off" });
    this.status = h("p", { class: "search-status", role: "status", "data-testid": "admin-search-status" });
    this.list = h("ul", { class: "search-results", "data-testid": "admin-search-results" });
    this.more = h("button", { class: "link-btn search-more", type: "button", "data-testid": "admin-search-more", hidden: true, onclick: () => this.page() }, "More results");
    const form = h("form", { class: "search-row", role: "search" }, this.input,
      h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "admin-search-submit" }, "Search"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start(this.input.value.trim());
    });
    fill(this.root, h("div", { class: "admin-card wide" },
      h("h1", {}, "Message search"),
      h("p", { class: "muted" }, "Every topic and direct conversation, newest first: words, \"a phrase\", -word, word*, from:, in:, before:, after:, has:file, is:thread."),
      form, this.status, this.list, this.more));
    this.input.focus();
  }

  start(query) {
    this.query = query;
    this.next = null;
    this.count = 0;
    fill(this.list);
    this.more.hidden = true;
    this.status.textContent = "";
    if (query) this.page();
  }

  async page() {
    const params = { q: this.query, limit: PAGE };
    if (this.next) params.cursor = this.next;
    this.status.textContent = "Searching…";
    this.more.disabled = true;
    try {
      const data = await this.call("/admin/api/search", params);
      const hits = Array.isArray(data?.hits) ? data.hits : [];
      this.list.append(...hits.filter((hit) => typeof hit?.message?.id === "number").map((hit) => item(hit)));
      this.count += hits.length;
      this.next = typeof data?.next === "string" && data.next ? data.next : null;
      this.status.textContent = this.count ? `${plural(this.count, "message")}${this.next ? " so far" : ""}, newest first` : "No messages found.";
    } catch (err) {
      if (err.status === 401) {
        sessionStorage.removeItem(STORED);
        return this.showLogin(err.message);
      }
      this.status.textContent = err.message;
    } finally {
      this.more.hidden = !this.next;
      this.more.disabled = false;
    }
  }
}

function item(hit) {
  const message = hit.message;
  const date = parseTime(message.created_at);
  const place = message.topic.startsWith("@") ? message.topic : `#${message.topic}`;
  return h("li", { class: "search-hit", "data-testid": "admin-search-hit", "data-id": String(message.id) },
    avatar(message.sender, "small"),
    h("span", { class: "entry-main" },
      h("span", { class: "entry-head" },
        h("span", { class: "entry-sender" }, message.sender),
        h("span", { class: "hit-place", "data-testid": "admin-search-place" }, place),
        message.kind && message.kind !== "public" ? h("span", { class: "role" }, message.kind) : null,
        h("time", { datetime: message.created_at ?? "", title: fullTime(date) }, `${dayLabel(date)} ${clock(date)}`),
        h("span", {}, `id ${message.id} · #${message.seq}`)),
      h("span", { class: "hit-text", "data-testid": "admin-search-highlight" }, highlightNodes(hit.highlight) ?? [message.body ?? ""])));
}

new AdminSearch(document.getElementById("admin-search"));
