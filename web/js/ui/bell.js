// The bell in the conversation header: a menu of the topic's notification
// level (all / mentions / none). Arrow keys move in the menu, Escape closes it.
import { LEVELS, levelOf } from "../notify.js";
import { h, icon, ICONS } from "./dom.js";

export class BellMenu {
  /** actions: set(level) -> Promise */
  constructor(actions) {
    this.actions = actions;
    this.button = h("button", {
      class: "icon-btn", type: "button", "data-testid": "notify-toggle", "aria-haspopup": "menu",
      "aria-expanded": "false", "aria-controls": "notify-menu", onclick: () => this.toggle(),
    });
    this.error = h("p", { class: "form-error small", role: "alert", hidden: true });
    this.items = LEVELS.map(({ level, label, hint }) => h("button", {
      class: "menu-item", type: "button", role: "menuitemradio", "data-testid": `notify-${level}`, "data-level": level,
      "aria-checked": "false", onclick: () => this.choose(level),
    }, h("span", { class: "menu-label" }, label), h("span", { class: "menu-hint" }, hint)));
    this.menu = h("div", { class: "bell-menu popover", id: "notify-menu", role: "menu", "aria-label": "Notifications for this conversation", "data-testid": "notify-menu", hidden: true },
      ...this.items, this.error);
    this.menu.addEventListener("keydown", (event) => this.onKey(event));
    this.el = h("div", { class: "bell" }, this.button, this.menu);
  }

  toggle(open = this.menu.hidden) {
    this.menu.hidden = !open;
    this.error.hidden = true;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) (this.items.find((b) => b.getAttribute("aria-checked") === "true") ?? this.items[0]).focus();
  }

  onKey(event) {
    const at = this.items.indexOf(document.activeElement);
    if (event.key === "Escape") {
      this.toggle(false);
      this.button.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : this.items.length - 1;
      this.items[(Math.max(at, 0) + step) % this.items.length].focus();
    } else return;
    event.preventDefault();
    event.stopPropagation();
  }

  async choose(level) {
    try {
      await this.actions.set(level);
      this.toggle(false);
      this.button.focus();
    } catch (err) {
      this.error.textContent = err.message;
      this.error.hidden = false;
    }
  }

  /** Shown for topics I am in and direct conversations. */
  render(topic, shown) {
    this.el.hidden = !shown;
    if (!shown) return this.toggle(false);
    const level = levelOf(topic);
    const label = LEVELS.find((l) => l.level === level)?.label ?? level;
    if (this.button.dataset.level === level) return;
    this.button.dataset.level = level;
    this.button.setAttribute("aria-label", `Notifications: ${label}`);
    this.button.title = `Notifications: ${label}`;
    this.button.replaceChildren(icon(level === "none" ? ICONS.bellOff : level === "mentions" ? ICONS.at : ICONS.bell));
    for (const item of this.items) item.setAttribute("aria-checked", String(item.dataset.level === level));
  }
}
