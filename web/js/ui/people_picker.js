// People by name for a box that wants a username (issue 55, row 8: the direct-message and invite
// boxes): typing part of a display name or a username lists matches from the directory (PROTOCOL.md
// section 14, `users:search`); arrows move, Enter or Tab picks, Escape closes; a pick puts the
// username in the box. A box holding something that is not a username ("Alice Liddell") is looked
// up on submit: one match is taken, several or none say so (`resolve`). An ARIA combobox, as the
// `@` autocomplete is.
import { people } from "../people.js";
import { checkUsername } from "../targets.js";
import { h } from "./dom.js";
import { personAvatar } from "./people_parts.js";

const DELAY_MS = 150;
const SHOWN = 8;
let nextId = 0;

export class PeoplePicker {
  /** input: the box; label: what the list is ("People to message"). */
  constructor(input, label) {
    this.input = input;
    this.id = `people-${++nextId}`;
    this.items = [];
    this.active = 0;
    this.asked = 0; // drops answers to an older keystroke
    this.timer = null;
    this.list = h("ul", { class: "mention-list people-picker", id: this.id, role: "listbox", "aria-label": label, "data-testid": "people-options", hidden: true });
    for (const [name, value] of Object.entries({ role: "combobox", "aria-autocomplete": "list", "aria-controls": this.id, "aria-expanded": "false" })) {
      input.setAttribute(name, value);
    }
    input.addEventListener("input", () => { clearTimeout(this.timer); this.timer = setTimeout(() => this.update(), DELAY_MS); });
    input.addEventListener("keydown", (event) => this.onKey(event));
    // A click on the list blurs the box first; a blur the box has since come back from (the page
    // moved the focus and gave it back) must not close a list opened after it.
    input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) this.close(); }, 150));
  }

  get open() {
    return !this.list.hidden;
  }

  async update() {
    const q = this.input.value.trim().replace(/^@/, "");
    const asked = ++this.asked;
    if (!q) return this.close();
    let found;
    try {
      found = await people().search(q, SHOWN);
    } catch {
      return this.close(); // offline: the box still takes a username as typed
    }
    if (asked !== this.asked || document.activeElement !== this.input) return;
    this.items = found;
    this.active = 0;
    if (!this.items.length) return this.close();
    this.list.replaceChildren(...this.items.map((u, i) => h("li", {
      id: `${this.id}-${i}`, role: "option", class: `mention-option${i === this.active ? " active" : ""}`,
      "aria-selected": String(i === this.active), "data-testid": "people-option", "data-username": u.username,
      onmousedown: (event) => { event.preventDefault(); this.choose(i); },
    }, personAvatar(u.username, "small"), h("span", { class: "mention-name" }, u.display_name || u.username),
    u.display_name ? h("span", { class: "mention-handle" }, ` @${u.username}`) : null)));
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", `${this.id}-0`);
  }

  onKey(event) {
    if (!this.open || event.isComposing) return;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves) this.move(moves[event.key]);
    else if (event.key === "Enter" || event.key === "Tab") this.choose(this.active);
    else if (event.key === "Escape") this.close();
    else return;
    event.preventDefault();
    event.stopPropagation();
  }

  move(step) {
    this.active = (this.active + step + this.items.length) % this.items.length;
    [...this.list.children].forEach((li, i) => {
      li.classList.toggle("active", i === this.active);
      li.setAttribute("aria-selected", String(i === this.active));
    });
    this.input.setAttribute("aria-activedescendant", `${this.id}-${this.active}`);
  }

  choose(i) {
    const picked = this.items[i];
    if (!picked) return;
    this.input.value = picked.username;
    this.close();
  }

  close() {
    this.asked += 1;
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}

/**
 * The username a box means: as typed when it is one, else the one person whose name matches.
 * Throws an Error that says what to do when nobody or several people match.
 */
export async function resolvePerson(typed) {
  const value = typed.trim().replace(/^@/, "");
  if (!checkUsername(value)) return value;
  const whole = value.toLowerCase();
  // The directory matches a word's start: a whole name ("Alice Liddell") is looked for by its
  // first word, then held to the name as typed.
  const first = value.split(/\s+/)[0];
  const found = first ? await people().search(first, 20) : [];
  const exact = found.filter((u) => (u.display_name || "").toLowerCase() === whole);
  const matches = exact.length || /\s/.test(value) ? exact : found;
  if (matches.length === 1) return matches[0].username;
  throw new Error(matches.length ? `Several people match "${value}": pick one from the list.` : `Nobody is called "${value}".`);
}
