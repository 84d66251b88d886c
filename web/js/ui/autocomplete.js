// `@` autocomplete for a message box: typing `@` and the start of a name lists
// the conversation's members; arrows move, Enter or Tab completes, Escape closes.
// The box stays focused (an ARIA combobox with a listbox popup). `:` does the
// same for emoji (EmojiAutocomplete).
import { completeMention, suggestions, typedMention } from "../mentions.js";
import { customEmojiImage, emojiLoaded, loadEmoji, searchEmoji } from "../emoji.js";
import { people } from "../people.js";
import { h } from "./dom.js";

let nextId = 0;

export class MentionAutocomplete {
  /** source: {members(query): Promise<[{username, role}]>, me(): name, allowAll(): bool} */
  constructor(input, source) {
    this.input = input;
    this.source = source;
    this.id = `mentions-${++nextId}`;
    this.items = [];
    this.active = 0;
    this.asked = 0; // drops answers to an older keystroke
    this.list = h("ul", { class: "mention-list", id: this.id, role: "listbox", "aria-label": "Members to mention", "data-testid": "mention-list", hidden: true });
    for (const [name, value] of Object.entries({ role: "combobox", "aria-autocomplete": "list", "aria-controls": this.id, "aria-expanded": "false" })) {
      input.setAttribute(name, value);
    }
    input.addEventListener("input", () => this.update());
    input.addEventListener("click", () => this.update());
    // A click on the list blurs the box first; a blur the box has since come back from (the page
    // moved the focus and gave it back) must not close a list opened after it.
    input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) this.close(); }, 150));
  }

  get open() {
    return !this.list.hidden;
  }

  async update() {
    const typed = typedMention(this.input.value, this.input.selectionStart ?? 0);
    if (!typed) return this.close();
    const asked = ++this.asked;
    const members = (await this.source.members(typed.query)).map((m) => ({ ...m, display_name: m.display_name || people().get(m.username)?.display_name || "" }));
    if (asked !== this.asked || document.activeElement !== this.input) return;
    this.typed = typed;
    this.items = suggestions(members, typed.query, this.source.me(), { allowAll: this.source.allowAll() });
    this.active = 0;
    if (this.items.length === 0) return this.close();
    this.show();
  }

  /** Called first by the box's keydown handler: true when the key was for the list. */
  handleKey(event) {
    if (!this.open || event.isComposing) return false;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves) this.move(moves[event.key]);
    else if (event.key === "Enter" || event.key === "Tab") this.choose(this.active);
    else if (event.key === "Escape") this.close();
    else return false;
    event.preventDefault();
    event.stopPropagation();
    return true;
  }

  move(step) {
    this.active = (this.active + step + this.items.length) % this.items.length;
    this.show();
  }

  choose(index) {
    const item = this.items[index];
    if (!item || !this.typed) return this.close();
    const { text, caret } = completeMention(this.input.value, this.input.selectionStart ?? 0, this.typed, item.username);
    this.input.value = text;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.dispatchEvent(new Event("input")); // the box's own listeners: size, counter, typing
    this.input.focus();
  }

  show() {
    this.list.replaceChildren(...this.items.map((item, i) => h("li", {
      id: `${this.id}-${i}`, role: "option", class: `mention-option${i === this.active ? " active" : ""}`,
      "aria-selected": String(i === this.active), "data-testid": "mention-option", "data-username": item.username,
      onmousedown: (event) => event.preventDefault(), // keep the focus in the box
      onclick: () => this.choose(i),
    }, h("span", { class: "mention-name" }, `@${item.username}`),
    item.display_name ? h("span", { class: "mention-display", "data-testid": "mention-display-name" }, item.display_name) : null,
    h("span", { class: "mention-hint" }, item.all ? "everyone here" : item.role && item.role !== "member" ? item.role : ""))));
    this.list.hidden = false;
    this.input.setAttribute("aria-controls", this.id);
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", `${this.id}-${this.active}`);
  }

  close() {
    this.asked += 1;
    this.typed = null;
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}

/**
 * `:` autocomplete: typing `:` and two or more letters of a name (`:smi`)
 * lists the matching emoji, the workspace's custom ones and Unicode ones by
 * shortcode, name or keyword; arrows move, Enter or Tab inserts (a Unicode
 * emoji as its character, a custom one as `:name:`), Escape closes.
 */
export class EmojiAutocomplete {
  constructor(input, { limit = 8, testid = "emoji-list" } = {}) {
    this.input = input;
    this.limit = limit;
    this.id = `emoji-${++nextId}`;
    this.items = [];
    this.active = 0;
    this.typed = null;
    this.list = h("ul", { class: "mention-list emoji-list", id: this.id, role: "listbox", "aria-label": "Emoji", "data-testid": testid, hidden: true });
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.addEventListener("input", () => this.update());
    // A click on the list blurs the box first; a blur the box has since come back from (the page
    // moved the focus and gave it back) must not close a list opened after it.
    input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) this.close(); }, 150));
  }

  get open() {
    return !this.list.hidden;
  }

  /** The `:query` the caret ends, or null: {start, query}. */
  typedEmoji() {
    const caret = this.input.selectionStart ?? 0;
    const match = /(^|[\s(])(:([a-z0-9_+-]{2,32}))$/i.exec(this.input.value.slice(0, caret));
    return match ? { start: caret - match[2].length, end: caret, query: match[3] } : null;
  }

  update() {
    const typed = this.typedEmoji();
    if (!typed) return this.close();
    if (!emojiLoaded()) loadEmoji().then(() => this.input.isConnected && document.activeElement === this.input && this.update());
    this.typed = typed;
    this.items = searchEmoji(typed.query, this.limit);
    this.active = 0;
    if (this.items.length === 0) return this.close();
    this.show();
  }

  handleKey(event) {
    if (!this.open || event.isComposing) return false;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves) this.move(moves[event.key]);
    else if (event.key === "Enter" || event.key === "Tab") this.choose(this.active);
    else if (event.key === "Escape") this.close();
    else return false;
    event.preventDefault();
    event.stopPropagation();
    return true;
  }

  move(step) {
    this.active = (this.active + step + this.items.length) % this.items.length;
    this.show();
  }

  choose(index) {
    const item = this.items[index];
    if (!item || !this.typed) return this.close();
    const { start, end } = this.typed;
    const value = this.input.value;
    const after = value.slice(end);
    const inserted = `${item.emoji}${after.startsWith(" ") ? "" : " "}`;
    this.input.value = value.slice(0, start) + inserted + after;
    const caret = start + inserted.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.dispatchEvent(new Event("input"));
    this.input.focus();
  }

  show() {
    this.list.replaceChildren(...this.items.map((item, i) => h("li", {
      id: `${this.id}-${i}`, role: "option", class: `mention-option emoji-option${i === this.active ? " active" : ""}`,
      "aria-selected": String(i === this.active), "data-testid": "emoji-option", "data-emoji": item.emoji,
      "aria-label": `${item.label} :${item.shortcodes[0] ?? item.label}:`,
      onmousedown: (event) => event.preventDefault(),
      onclick: () => this.choose(i),
    }, h("span", { class: "emoji-face", "aria-hidden": "true" }, item.custom ? customEmojiImage(item.custom) : item.emoji),
    h("span", { class: "mention-name" }, `:${item.shortcodes[0] ?? item.label}:`),
    h("span", { class: "mention-hint" }, item.custom ? "custom" : item.label))));
    this.list.hidden = false;
    this.input.setAttribute("aria-controls", this.id);
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", `${this.id}-${this.active}`);
  }

  close() {
    this.typed = null;
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}
