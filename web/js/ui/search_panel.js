// The search side panel: a search box (Enter searches; optionally only in the
// open conversation), the operators it understands, the hits newest first with
// their highlights, and "More results". A hit is a button: it shows the message
// in its conversation. Arrow keys move between the box and the hits.
import { renderInline } from "../markdown.js";
import { labelOf } from "../targets.js";
import { avatar, fill, h, icon, ICONS } from "./dom.js";
import { clock, dayLabel, fullTime, parseTime, plural } from "./format.js";
import { highlightNodes } from "./highlight.js";

const OPERATORS = [
  ["from:alice", "sent by alice"],
  ["in:general · in:@bob", "in a topic · in a direct conversation"],
  ["before:2026-01-31 · after:2026-01-01", "sent before or after a day"],
  ["has:file", "with a file attached"],
  ["is:mention · is:thread", "mentioning you · replies in a thread"],
  ["\"exact phrase\"", "these words in this order"],
  ["-word", "without this word"],
  ["deploy*", "words starting with deploy"],
];

export class SearchPanel {
  /** actions: close(), search(query, scope), more(), jump(hit) */
  constructor(actions) {
    this.actions = actions;
    this.input = h("input", {
      id: "search-input", type: "search", class: "search-input", "data-testid": "search-input",
      placeholder: "Search messages", "aria-label": "Search messages", maxlength: "256",
      autocomplete: "off", autocapitalize: "none", spellcheck: "false", enterkeyhint: "search",
    });
    this.scope = h("input", { id: "search-scope", type: "checkbox", "data-testid": "search-scope" });
    this.scopeText = h("span", {});
    this.scopeRow = h("label", { class: "check search-scope", hidden: true }, this.scope, this.scopeText);
    this.form = h("form", { class: "search-form", role: "search", "aria-label": "Search messages" },
      h("div", { class: "search-row" }, this.input,
        h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "search-submit" }, "Search")),
      this.scopeRow, operatorsHelp());
    this.status = h("p", { class: "search-status", "data-testid": "search-status", role: "status", "aria-live": "polite" });
    this.list = h("ul", { class: "search-results", "data-testid": "search-results", "aria-label": "Search results" });
    this.moreButton = h("button", { class: "link-btn search-more", type: "button", "data-testid": "search-more", hidden: true, onclick: () => actions.more() }, "More results");
    this.closeButton = h("button", { class: "icon-btn", type: "button", "data-testid": "search-close", "aria-label": "Close search", onclick: () => actions.close() }, icon(ICONS.close));
    this.el = h("aside", { class: "side-panel search-panel", id: "search-panel", "data-testid": "search-panel", "aria-label": "Search", hidden: true },
      h("div", { class: "panel-head" }, h("h2", { class: "panel-title" }, "Search messages"), this.closeButton),
      h("div", { class: "search-top" }, this.form),
      h("div", { class: "panel-scroll" }, this.status, this.list, this.moreButton));
    this.bind();
  }

  bind() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.actions.search(this.input.value, this.scope.checked ? this.scopeName : null);
    });
    this.scope.addEventListener("change", () => this.input.value.trim() && this.form.requestSubmit());
    this.input.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown") return;
      const first = this.list.querySelector("button");
      if (first) { event.preventDefault(); first.focus(); }
    });
    this.list.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      const hits = [...this.list.querySelectorAll("button")];
      const at = hits.indexOf(document.activeElement);
      if (at < 0) return;
      event.preventDefault();
      const next = at + (event.key === "ArrowDown" ? 1 : -1);
      (next < 0 ? this.input : hits[Math.min(next, hits.length - 1)]).focus();
    });
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  /** search: the Search controller's state; open: whether the panel is shown. */
  render(state, search, open) {
    this.el.hidden = !open;
    if (!open) return;
    this.scopeName = state.currentName;
    this.scopeRow.hidden = !this.scopeName;
    if (this.scopeName) this.scopeText.textContent = `Only in ${labelOf(this.scopeName)}`;
    else this.scope.checked = false;
    this.status.textContent = statusText(search);
    this.status.classList.toggle("form-error", Boolean(search.error));
    this.moreButton.hidden = !search.next;
    this.moreButton.disabled = search.loading;
    this.moreButton.textContent = search.loading && search.hits?.length ? "Loading…" : "More results";
    const sig = JSON.stringify([search.run, search.hits?.length ?? null]);
    if (this.list.dataset.sig === sig) return;
    const grew = this.list.dataset.run === String(search.run);
    this.list.dataset.sig = sig;
    this.list.dataset.run = String(search.run);
    if (!grew) fill(this.list);
    for (const hit of (search.hits ?? []).slice(this.list.children.length)) this.list.append(this.item(hit));
  }

  item(hit) {
    const message = hit.message;
    const date = parseTime(message.created_at);
    // The highlight is shown as text with <mark>s (never as Markdown); without one, the body in one line.
    const text = highlightNodes(hit.highlight) ?? renderInline((message.body ?? "").replace(/\s*\n\s*/g, " "));
    return h("li", {},
      h("button", {
        type: "button", class: "search-hit", "data-testid": "search-hit", "data-id": String(message.id),
        "data-topic": message.topic, title: fullTime(date), // its name: the words it shows (axe)
        onclick: () => this.actions.jump(hit),
      },
      avatar(message.sender, "small"),
      h("span", { class: "entry-main" },
        h("span", { class: "entry-head" },
          h("span", { class: "entry-sender" }, message.sender), h("span", { class: "sr-only" }, " in "),
          h("span", { class: "hit-place", "data-testid": "search-hit-place" }, labelOf(message.topic)),
          h("time", { datetime: message.created_at ?? "", title: fullTime(date) }, `${dayLabel(date)} ${clock(date)}`)),
        h("span", { class: "hit-text", "data-testid": "search-highlight" }, text))));
  }
}

function statusText(search) {
  if (search.error) return search.error;
  if (search.hits === null) return search.loading ? "Searching…" : "Type words to find, then Enter.";
  if (search.hits.length === 0) return search.loading ? "Searching…" : "No messages found.";
  const count = plural(search.hits.length, "message");
  return search.next ? `${count} so far, newest first` : `${count}, newest first`;
}

function operatorsHelp() {
  return h("details", { class: "search-help", "data-testid": "search-help" },
    h("summary", {}, "Search operators"),
    h("dl", {}, OPERATORS.map(([op, meaning]) => [h("dt", {}, h("code", {}, op)), h("dd", {}, meaning)])));
}
