// Reaction chips under a message (one button per emoji, pressed when it is
// mine: a click toggles it; a custom emoji shows its picture, a removed one its
// `:name:`) and the picker of any emoji (ui/emoji_picker.js).
import { customEmoji, customEmojiImage, emojiName } from "../emoji.js";
import { h, icon, ICONS } from "./dom.js";
import { emojiPicker, focusEmojiPicker } from "./emoji_picker.js";

/** The chips of a message, or null when it has none. toggle(message, emoji). */
export function reactionChips(message, toggle, { canReact = true } = {}) {
  const reactions = message.deleted ? [] : message.reactions ?? [];
  if (reactions.length === 0) return null;
  return h("div", { class: "reactions", role: "group", "aria-label": "Reactions", "data-testid": "reactions" },
    reactions.map((r) => h("button", {
      class: `chip${r.me ? " mine" : ""}`, type: "button", "data-testid": "reaction",
      "data-emoji": r.emoji, "data-count": String(r.count), "data-me": String(Boolean(r.me)),
      "aria-pressed": String(Boolean(r.me)), disabled: !canReact,
      "aria-label": `${emojiName(r.emoji)} ${r.count}: ${(r.users ?? []).join(", ")}. ${r.me ? "Remove your reaction" : "React too"}`,
      title: (r.users ?? []).join(", "), onclick: () => toggle(message, r.emoji),
    }, h("span", { class: "chip-emoji", "aria-hidden": "true" }, emojiFace(r.emoji)),
    h("span", { class: "chip-count", "aria-hidden": "true" }, String(r.count)))));
}

/** A reaction's emoji as shown: a custom one's picture, else its text. */
export function emojiFace(emoji) {
  const named = /^:([a-z0-9_-]{1,32}):$/.exec(emoji);
  const item = named ? customEmoji(named[1]) : null;
  return item ? customEmojiImage(item) : emoji;
}

/** The button that opens the picker. */
export function reactButton(open) {
  return h("button", {
    class: "icon-btn small", type: "button", "data-testid": "react", "aria-label": "Add a reaction",
    title: "React", "aria-haspopup": "dialog", onclick: open,
  }, icon(ICONS.smile));
}

/**
 * The picker for a message's reactions: pick(emoji), close(). It opens on its
 * first emoji (focusPicker); Escape closes it.
 */
export function reactionPicker(message, pick, close) {
  const mine = new Set((message.reactions ?? []).filter((r) => r.me).map((r) => r.emoji));
  return emojiPicker({ label: "Pick a reaction", verb: "React with", pick: (entry) => pick(entry.emoji), close, mine, testid: "reaction-picker" });
}

export function focusPicker(container) {
  focusEmojiPicker(container.querySelector("[data-testid=reaction-picker]"));
}
