// `@` autocomplete for a message box: typing `@` and the start of a name lists
// the conversation's members; arrows move, Enter or Tab completes, Escape closes.
// The box stays focused (an ARIA combobox with a listbox popup).
import { completeMention, suggestions, typedMention } from "../mentions.js";
import { people } from "../people.js";
import { h } from "./dom.js";

let nextId = 0;

export class MentionAutocomplete {
  /** source: {members(): Promise<[{username, role}]>, me(): name, allowAll(): bool} */
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
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
  }

  get open() {
    return !this.list.hidden;
  }

  async update() {
    const typed = typedMention(this.input.value, this.input.selectionStart ?? 0);
    if (!typed) return this.close();
    const asked = ++this.asked;
    const members = (await this.source.members()).map((m) => ({ ...m, display_name: m.display_name || people().get(m.username)?.display_name || "" }));
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
