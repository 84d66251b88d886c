// Reaction chips under a message (one button per emoji, pressed when it is
// mine: a click toggles it) and the picker of the small fixed set.
import { EMOJI } from "../reactions.js";
import { h, icon, ICONS } from "./dom.js";

/** The chips of a message, or null when it has none. toggle(message, emoji). */
export function reactionChips(message, toggle, { canReact = true } = {}) {
  const reactions = message.deleted ? [] : message.reactions ?? [];
  if (reactions.length === 0) return null;
  return h("div", { class: "reactions", role: "group", "aria-label": "Reactions", "data-testid": "reactions" },
    reactions.map((r) => h("button", {
      class: `chip${r.me ? " mine" : ""}`, type: "button", "data-testid": "reaction",
      "data-emoji": r.emoji, "data-count": String(r.count), "data-me": String(Boolean(r.me)),
      "aria-pressed": String(Boolean(r.me)), disabled: !canReact,
      "aria-label": `${r.emoji} ${r.count}: ${(r.users ?? []).join(", ")}. ${r.me ? "Remove your reaction" : "React too"}`,
      title: (r.users ?? []).join(", "), onclick: () => toggle(message, r.emoji),
    }, h("span", { class: "chip-emoji", "aria-hidden": "true" }, r.emoji),
    h("span", { class: "chip-count", "aria-hidden": "true" }, String(r.count)))));
}

/** The button that opens the picker. */
export function reactButton(open) {
  return h("button", {
    class: "icon-btn small", type: "button", "data-testid": "react", "aria-label": "Add a reaction",
    title: "React", "aria-haspopup": "true", onclick: open,
  }, icon(ICONS.smile));
}

/**
 * The picker: one button per emoji; Escape closes it. pick(emoji), close().
 * Focus goes to its first emoji when it opens (see focusPicker).
 */
export function reactionPicker(message, pick, close) {
  const mine = new Set((message.reactions ?? []).filter((r) => r.me).map((r) => r.emoji));
  const picker = h("div", { class: "picker", role: "group", "aria-label": "Pick a reaction", "data-testid": "reaction-picker" },
    EMOJI.map((emoji) => h("button", {
      class: `pick${mine.has(emoji) ? " mine" : ""}`, type: "button", "data-testid": "pick-emoji", "data-emoji": emoji,
      "aria-label": `${mine.has(emoji) ? "Remove" : "React with"} ${emoji}`, "aria-pressed": String(mine.has(emoji)),
      onclick: () => pick(emoji),
    }, emoji)),
    h("button", { class: "icon-btn small", type: "button", "data-testid": "picker-close", "aria-label": "Close reactions", onclick: close },
      icon(ICONS.close)));
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const buttons = [...picker.querySelectorAll("button")];
      const at = buttons.indexOf(document.activeElement);
      const next = buttons[(at + (event.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
      next?.focus();
      event.preventDefault();
    }
  });
  return picker;
}

export function focusPicker(container) {
  container.querySelector("[data-testid=pick-emoji]")?.focus();
}
