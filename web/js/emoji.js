// Emoji (PROTOCOL.md sections 8 and 13): every Unicode emoji from the npm
// package emojibase-data (served under /vendor/emojibase-data/, no table of
// our own), the workspace's custom emoji (GET /api/emoji, kept current by
// `emoji:updated`), the user's recent ones (localStorage) and the search the
// picker and the composer's `:` autocomplete share.
//
// A reaction or a body carries a Unicode emoji as its characters and a custom
// one as `:name:`; an entry here is {emoji, label, group, keywords, shortcodes,
// custom?: {name, url}} where `emoji` is what is sent.

import { blobUrl } from "./files.js";

const DATA = "/vendor/emojibase-data/en/compact.json";
const GROUPS = "/vendor/emojibase-data/en/messages.json";
const SHORTCODES = "/vendor/emojibase-data/en/shortcodes/github.json";
const COMPONENT_GROUP = 2; // skin tones and hair pieces: not emoji of their own
const RECENT_KEY = "parley.emoji.recent";
const MAX_RECENT = 16;
// Offered first while the user has no recent ones (the page's six of old).
export const DEFAULT_EMOJI = ["👍", "❤️", "😂", "🎉", "👀", "✅"];
const CUSTOM_NAME = /^:([a-z0-9_-]{1,32}):$/;

let loading = null; // Promise<{entries, groups, byEmoji}>
let data = null;
const custom = new Map(); // name -> {name, url, by, created_at}
let customVersion = 0;
const listeners = new Set();

/** Load the Unicode data once (never throws: without the package there is only custom emoji). */
export function loadEmoji() {
  if (!loading) {
    loading = Promise.all([fetchJson(DATA), fetchJson(GROUPS), fetchJson(SHORTCODES)])
      .then(([list, messages, codes]) => (data = build(list, messages, codes)))
      .catch(() => (data = { entries: [], groups: [], byEmoji: new Map() }));
  }
  return loading;
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function build(list, messages, codes) {
  const names = new Map((messages.groups ?? []).map((g) => [g.order, g.message]));
  const entries = [];
  const byEmoji = new Map();
  for (const item of list) {
    if (item.group === undefined || item.group === COMPONENT_GROUP || !item.unicode) continue;
    const shortcodes = [codes[item.hexcode] ?? []].flat();
    const entry = {
      emoji: presented(item.unicode), label: item.label ?? "", group: item.group, order: item.order ?? 0,
      keywords: item.tags ?? [], shortcodes,
    };
    entries.push(entry);
    byEmoji.set(entry.emoji, entry);
  }
  entries.sort((a, b) => a.order - b.order);
  const groups = [...new Set(entries.map((e) => e.group))].sort((a, b) => a - b)
    .map((group) => ({ id: String(group), name: capitalise(names.get(group) ?? `group ${group}`) }));
  return { entries, groups, byEmoji };
}

/**
 * The characters a reaction carries: emojibase gives the fully-qualified form,
 * which adds U+FE0F even after a character shown as an emoji by default (👍);
 * without it the reaction is the one other clients send for the same emoji.
 */
export function presented(text) {
  const chars = [...text];
  if (chars.length === 2 && chars[1] === "\uFE0F" && /\p{Emoji_Presentation}/u.test(chars[0])) return chars[0];
  return text;
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function emojiLoaded() {
  return data !== null;
}

/** The categories: [{id, name}] (Unicode groups, in order). */
export function emojiGroups() {
  return data?.groups ?? [];
}

/** The Unicode emoji of one group, in order. */
export function emojiOfGroup(id) {
  return (data?.entries ?? []).filter((e) => String(e.group) === id);
}

// ---- custom emoji ------------------------------------------------------------

/** The workspace's custom emoji as entries, by name. */
export function customEntries() {
  return [...custom.values()].map(customEntry);
}

function customEntry(item) {
  return { emoji: `:${item.name}:`, label: item.name, group: "custom", keywords: [], shortcodes: [item.name], custom: item };
}

/** The custom emoji named `name` (no colons), or null. */
export function customEmoji(name) {
  return custom.get(name) ?? null;
}

/** GET /api/emoji's list or emoji:updated's: replaces what the page knows. */
export function setCustomEmoji(list) {
  if (!Array.isArray(list)) return;
  custom.clear();
  for (const item of list) {
    if (item && typeof item.name === "string" && typeof item.url === "string") custom.set(item.name, item);
  }
  customVersion += 1;
  for (const listener of listeners) listener();
}

/** A number that changes whenever the custom emoji do (part of a message's render signature). */
export function customEmojiVersion() {
  return customVersion;
}

export function onCustomEmoji(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * A custom emoji's picture (an <img> whose bytes are fetched with the token),
 * with its `:name:` as the text a screen reader or a copy gets; if the picture
 * cannot be had, the `:name:` text takes its place.
 */
export function customEmojiImage(item) {
  const text = `:${item.name}:`;
  const img = document.createElement("img");
  Object.assign(img, { className: "custom-emoji", alt: text, title: text, draggable: false });
  img.dataset.testid = "custom-emoji";
  img.dataset.name = item.name;
  blobUrl(item.url).then((url) => { img.src = url; }).catch(() => img.replaceWith(document.createTextNode(text)));
  return img;
}

/** In the text nodes of `root` outside code and links: each `:name:` of a known custom emoji becomes its picture. */
export function markCustomEmoji(root, skip = "code, pre") {
  if (custom.size === 0) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.data.includes(":") && !node.parentElement?.closest(skip)) texts.push(node);
  }
  for (const node of texts) {
    const parts = node.data.split(/(:[a-z0-9_-]{1,32}:)/);
    if (parts.length === 1 || !parts.some((part, i) => i % 2 === 1 && custom.has(part.slice(1, -1)))) continue;
    node.replaceWith(...parts.map((part, i) => {
      const item = i % 2 === 1 ? custom.get(part.slice(1, -1)) : null;
      return item ? customEmojiImage(item) : document.createTextNode(part);
    }).filter((n) => !(n.nodeType === 3 && n.data === "")));
  }
}

// ---- looking up -----------------------------------------------------------------

/** The entry for a reaction's or a body's emoji: a known custom `:name:`, a Unicode one, else null. */
export function entryOf(emoji) {
  const named = CUSTOM_NAME.exec(emoji ?? "");
  if (named) {
    const item = custom.get(named[1]);
    return item ? customEntry(item) : null;
  }
  return data?.byEmoji.get(emoji) ?? data?.byEmoji.get(presented(emoji)) ?? null;
}

/** A short accessible name for an emoji: "thumbs up", "party_parrot", else the text itself. */
export function emojiName(emoji) {
  return entryOf(emoji)?.label || emoji;
}

/**
 * Entries matching `query` (case-insensitive): custom names, then Unicode
 * emoji whose shortcode or name starts with it, then those with a keyword or a
 * word of the name starting with it. At most `limit`.
 */
export function searchEmoji(query, limit = 120) {
  const q = query.trim().toLowerCase().replace(/^:|:$/g, "");
  if (!q) return [];
  const scored = [];
  for (const entry of [...customEntries(), ...(data?.entries ?? [])]) {
    const score = scoreOf(entry, q);
    if (score < 9) scored.push([score, scored.length, entry]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return scored.slice(0, limit).map(([, , entry]) => entry);
}

function scoreOf(entry, q) {
  const custom = entry.custom ? 0 : 1;
  if (entry.shortcodes.some((code) => code === q)) return custom;
  if (entry.shortcodes.some((code) => code.startsWith(q))) return 2 + custom;
  const label = entry.label.toLowerCase();
  if (label.startsWith(q)) return 4;
  if (label.split(/[\s:,-]+/).some((word) => word.startsWith(q))) return 5;
  if (entry.keywords.some((word) => word.startsWith(q))) return 6;
  if (entry.shortcodes.some((code) => code.includes(q)) || label.includes(q)) return 7;
  return 9;
}

// ---- recent ones ------------------------------------------------------------------

/** The emoji this browser used last, newest first (localStorage). */
export function recentEmoji() {
  try {
    const stored = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(stored) ? stored.filter((e) => typeof e === "string").slice(0, MAX_RECENT) : [];
  } catch {
    return [];
  }
}

export function noteRecent(emoji) {
  const next = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, MAX_RECENT);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    // storage full or off: the order is only a convenience
  }
}

/** The picker's first row: the recent ones (a removed custom one left out), then the defaults. */
export function frequentEmoji() {
  const known = (emoji) => !CUSTOM_NAME.test(emoji) || entryOf(emoji) !== null;
  return [...new Set([...recentEmoji().filter(known), ...DEFAULT_EMOJI])].slice(0, MAX_RECENT);
}
