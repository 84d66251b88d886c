// The emoji picker (reactions and the composer): a search box, the categories
// (frequently used: the recent ones first; the workspace's custom emoji; the
// Unicode groups) and a grid of buttons named for screen readers.
//
// Keyboard: it opens on its first emoji; arrows move in the grid (up from the
// first row reaches the search box, down from the box the grid) and among the
// categories (one Tab stop each: box, close, categories, grid), Enter picks,
// typing a letter anywhere searches, Escape closes (the caller puts the focus
// back where it was). At phone width it is a sheet along the bottom (app.css).
import { blobUrl } from "../files.js";
import {
  customEntries, emojiGroups, emojiLoaded, emojiOfGroup, entryOf, frequentEmoji, loadEmoji, searchEmoji,
} from "../emoji.js";
import { h, icon, ICONS } from "./dom.js";

const FREQUENT = "frequent";
const CUSTOM = "custom";

/**
 * pick(entry) with entry = {emoji, label, custom?}; close(). verb: the button
 * names' first word ("React with", "Insert"); mine: emoji already chosen
 * (pressed, "Remove" instead of the verb).
 */
export function emojiPicker({ label, verb, pick, close, mine = new Set(), testid = "emoji-picker" }) {
  let category = FREQUENT;
  const search = h("input", {
    type: "search", class: "emoji-search", "data-testid": "emoji-search", "aria-label": "Search emoji",
    placeholder: "Search emoji", autocomplete: "off", spellcheck: "false",
  });
  const tabs = h("div", { class: "emoji-tabs", role: "toolbar", "aria-label": "Emoji categories", "data-testid": "emoji-categories" });
  const grid = h("div", { class: "emoji-grid", "data-testid": "emoji-grid" });
  const status = h("p", { class: "sr-only", "aria-live": "polite", "data-testid": "emoji-status" });
  const picker = h("div", { class: "picker emoji-picker", role: "dialog", "aria-label": label, "data-testid": testid },
    h("div", { class: "emoji-picker-head" }, search,
      h("button", { class: "icon-btn small", type: "button", "data-testid": "picker-close", "aria-label": "Close the emoji picker", onclick: close },
        icon(ICONS.close))),
    tabs, grid, status);

  const button = (entry) => {
    const chosen = mine.has(entry.emoji);
    const name = entry.label || entry.emoji;
    const face = entry.custom
      ? h("img", { class: "custom-emoji", alt: entry.emoji, draggable: "false" })
      : entry.emoji;
    if (entry.custom) blobUrl(entry.custom.url).then((url) => { face.src = url; }).catch(() => face.classList.add("broken"));
    return h("button", {
      class: `pick${chosen ? " mine" : ""}`, type: "button", "data-testid": "pick-emoji", "data-emoji": entry.emoji,
      "aria-label": `${chosen ? "Remove" : verb} ${name}`, "aria-pressed": String(chosen),
      title: entry.shortcodes?.length ? `${name} :${entry.shortcodes[0]}:` : name,
      tabindex: "-1", onclick: () => pick(entry),
    }, face);
  };

  const section = (title, entries) => h("div", { class: "emoji-section", role: "group", "aria-label": title },
    h("p", { class: "emoji-section-title", "aria-hidden": "true" }, title), entries.map(button));

  const categories = () => [
    { id: FREQUENT, name: "Frequently used", face: "🕘" },
    ...(customEntries().length ? [{ id: CUSTOM, name: "Custom", face: "★" }] : []),
    ...emojiGroups().map((g) => ({ ...g, face: emojiOfGroup(g.id)[0]?.emoji ?? "?" })),
  ];

  const entriesOf = (id) => {
    if (id === FREQUENT) return frequentEmoji().map((emoji) => entryOf(emoji) ?? { emoji, label: emoji });
    if (id === CUSTOM) return customEntries();
    return emojiOfGroup(id);
  };

  const emojiButtons = () => [...grid.querySelectorAll("[data-testid=pick-emoji]")];
  const roving = (current = 0) => { // the grid is one Tab stop: the emoji last moved to
    const buttons = emojiButtons();
    buttons.forEach((b, i) => b.setAttribute("tabindex", i === current ? "0" : "-1"));
    return buttons;
  };

  const show = () => {
    const query = search.value.trim();
    if (query) {
      const found = searchEmoji(query);
      grid.replaceChildren(found.length ? section(`Results for ${query}`, found)
        : h("p", { class: "muted small emoji-none", "data-testid": "emoji-none" }, `No emoji match “${query}”.`));
      status.textContent = found.length === 1 ? "1 emoji found" : `${found.length} emoji found`;
    } else {
      const current = categories().find((c) => c.id === category) ?? categories()[0];
      grid.replaceChildren(section(current.name, entriesOf(current.id)));
      status.textContent = "";
    }
    tabs.replaceChildren(...categories().map((c) => h("button", {
      class: `emoji-tab${!query && c.id === category ? " active" : ""}`, type: "button",
      "data-testid": "emoji-category", "data-category": c.id, "aria-label": c.name, title: c.name,
      "aria-pressed": String(!query && c.id === category),
      tabindex: c.id === (query ? FREQUENT : category) ? "0" : "-1", // one Tab stop: arrows move between them
      onclick: () => { category = c.id; search.value = ""; show(); roving()[0]?.focus(); },
    }, c.face)));
    roving();
  };

  tabs.addEventListener("keydown", (event) => {
    const buttons = [...tabs.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (at < 0 || step === undefined) return;
    event.preventDefault();
    const next = buttons[(at + step + buttons.length) % buttons.length];
    buttons.forEach((b) => b.setAttribute("tabindex", b === next ? "0" : "-1"));
    next.focus();
  });

  const columns = (buttons) => {
    const top = buttons[0]?.offsetTop;
    const n = buttons.filter((b) => b.offsetTop === top).length;
    return n || 8;
  };

  search.addEventListener("input", show);
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      roving()[0]?.focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      roving()[0]?.click();
    }
  });
  grid.addEventListener("keydown", (event) => {
    const buttons = emojiButtons();
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    const cols = columns(buttons);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
    let next = null;
    if (event.key in moves) {
      next = at + moves[event.key];
      if (next < 0) { event.preventDefault(); search.focus(); return; }
      next = Math.min(next, buttons.length - 1);
    } else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = buttons.length - 1;
    else if (event.key.length === 1 && event.key !== " " && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault(); // a letter searches
      search.focus();
      search.value += event.key;
      show();
      return;
    }
    if (next === null) return;
    event.preventDefault();
    roving(next);
    buttons[next].focus();
  });
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });

  show();
  if (!emojiLoaded()) {
    loadEmoji().then(() => {
      const focused = grid.contains(document.activeElement);
      show();
      if (focused) focusEmojiPicker(picker);
    });
  }
  return picker;
}

/** Focus the picker's first emoji (it opens there). */
export function focusEmojiPicker(picker) {
  picker?.scrollIntoView?.({ block: "nearest" }); // opened under the last message: all of it in view
  picker?.querySelector("[data-testid=pick-emoji]")?.focus({ preventScroll: true });
}
