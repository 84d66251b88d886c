// The message list as one Tab stop (a roving tabindex): one message is in the
// Tab order, the newest until another is focused; ArrowUp/ArrowDown, Home and
// End move between messages, Enter goes to the focused message's first action,
// and Escape from inside a message goes back to it. The buttons and links of a
// message are in the Tab order only while the focus is on one of them, so Tab
// goes from a message out of the list, whatever the number of messages, and
// from one of its actions to the next.

const MESSAGE = "article[data-testid=message]";
const INSIDE = "button, a[href], input, textarea, select, [tabindex]:not(article)";
const MOVES = { ArrowUp: -1, ArrowDown: 1, Home: -Infinity, End: Infinity };

export class MessageKeys {
  /** items: the element holding the list's rows (messages, day lines, system lines). */
  constructor(items) {
    this.items = items;
    this.activeKey = null; // data-key of the message in the Tab order; null: the newest
    items.addEventListener("focusin", (event) => this.entered(event.target));
    items.addEventListener("focusout", (event) => {
      const from = event.target.closest(MESSAGE);
      if (from && (from === event.relatedTarget || !from.contains(event.relatedTarget))) setInside(from, false);
    });
    items.addEventListener("keydown", (event) => this.onKey(event));
  }

  get messages() {
    return [...this.items.querySelectorAll(MESSAGE)];
  }

  /** Another conversation was opened: its newest message comes first. */
  reset() {
    this.activeKey = null;
  }

  /** After each render: exactly one message is tabbable; only the focused one's actions are. */
  rove() {
    const all = this.messages;
    const active = all.find((el) => el.dataset.key === this.activeKey) ?? all.at(-1);
    for (const el of all) {
      el.tabIndex = el === active ? 0 : -1;
      setInside(el, el !== document.activeElement && el.contains(document.activeElement));
    }
  }

  /** A message took the focus: it is the one in the Tab order; its actions are while one of them has it. */
  entered(target) {
    const message = target.closest(MESSAGE);
    if (!message) return;
    setInside(message, target !== message);
    if (message.tabIndex === 0) return;
    const all = this.messages;
    this.activeKey = message === all.at(-1) ? null : message.dataset.key; // the newest: it follows new ones
    for (const el of all) el.tabIndex = el === message ? 0 : -1;
  }

  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const message = event.target.closest(MESSAGE);
    if (!message) return;
    if (event.target !== message) { // on a button or in a box of the message
      if (event.key === "Escape" && !event.defaultPrevented && event.target.tagName !== "TEXTAREA") {
        event.preventDefault();
        message.focus();
      }
      return;
    }
    if (event.key === "Enter") {
      const first = message.querySelector(".msg-actions button") ?? message.querySelector(INSIDE);
      if (first) { event.preventDefault(); first.focus(); }
      return;
    }
    const step = MOVES[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const all = this.messages;
    const at = Math.max(0, Math.min(all.length - 1, all.indexOf(message) + (Number.isFinite(step) ? step : step * all.length)));
    all[at]?.focus();
    all[at]?.scrollIntoView({ block: "nearest" });
  }
}

/** The message's own buttons, links and boxes: in the Tab order (on) or out of it. */
function setInside(message, on) {
  for (const el of message.querySelectorAll(INSIDE)) {
    if (on && el.dataset.roved !== undefined) { // its own tabindex back, or none
      if (el.dataset.roved) el.setAttribute("tabindex", el.dataset.roved);
      else el.removeAttribute("tabindex");
      delete el.dataset.roved;
    } else if (!on && el.dataset.roved === undefined && el.getAttribute("tabindex") !== "-1") {
      el.dataset.roved = el.getAttribute("tabindex") ?? "";
      el.tabIndex = -1;
    }
  }
}
