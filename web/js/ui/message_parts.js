// Parts of a message that the message list, the thread panel and the pinned panel
// share: the body with its mentions, the quote of the message it replies to, the
// thread summary under a root, the pinned mark and the line of a system message.
// User text goes in as text nodes, or as Markdown rendered and sanitised by
// ../markdown.js (never as raw HTML).
import { renderInline } from "../markdown.js";
import { h, icon, ICONS } from "./dom.js";
import { clock, fullTime, parseTime, plural } from "./format.js";
import { richBody } from "./rich_body.js";

/** The body as Markdown, with the names the server recognised as mentions set apart. */
export function messageBody(message) {
  if (message.deleted) {
    return h("p", { class: "msg-body tombstone", "data-testid": "message-body" }, "This message was deleted.");
  }
  return richBody(message);
}

/** The quote of the message replied to (a button that shows it), or null. */
export function replyQuote(quoted, jump) {
  if (!quoted) return null;
  const excerpt = quoted.excerpt
    ? h("span", { class: "quote-excerpt md", "data-testid": "reply-quote-excerpt" }, renderInline(quoted.excerpt.replace(/\s*\n\s*/g, " ")))
    : h("span", { class: "quote-excerpt gone", "data-testid": "reply-quote-excerpt" }, "Deleted message");
  return h("button", {
    class: "reply-quote", type: "button", "data-testid": "reply-quote", "data-reply-to": String(quoted.id),
    title: "Show the quoted message", onclick: () => jump?.(quoted.id),
  }, h("span", { class: "sr-only" }, "Replying to "), // its name: the words it shows, and these (axe)
  h("span", { class: "quote-sender", "data-testid": "reply-quote-sender" }, quoted.sender), excerpt);
}

/** "3 replies · last at 10:42" under a thread's root (a button that opens it), or null. */
export function threadSummary(message, open) {
  const summary = message.thread_summary;
  if (!summary?.count) return null;
  const last = parseTime(summary.last_at);
  return h("button", {
    class: "thread-summary", type: "button", "data-testid": "thread-summary", "data-count": String(summary.count),
    title: (summary.participants ?? []).join(", "), onclick: () => open(message),
  }, icon(ICONS.thread), `${plural(summary.count, "reply", "replies")} · last at ${clock(last)}`);
}

/** A reply in a thread, seen in the main stream: a line that opens its thread. */
export function threadMark(message, open) {
  if (message.thread == null) return null;
  return h("button", {
    class: "thread-mark", type: "button", "data-testid": "thread-mark", "data-thread": String(message.thread),
    onclick: () => open(message),
  }, icon(ICONS.reply), "replied in a thread");
}

export function pinnedMark(message) {
  if (!message.pinned || message.deleted) return null;
  return h("span", { class: "pinned-mark", "data-testid": "pinned-mark", title: "Pinned" }, icon(ICONS.pin), "pinned");
}

/** A system message (a pin, a moderation step): a centred, muted line, not a bubble. */
export function systemLine(message) {
  const date = parseTime(message.created_at);
  return h("div", {
    class: "system-line", "data-testid": "system-message", role: "note",
    "data-id": String(message.id), "data-action": message.system?.action ?? "",
  },
  h("span", { class: "system-text", "data-testid": "system-text" }, message.body ?? ""),
  h("time", { datetime: message.created_at ?? "", title: fullTime(date) }, clock(date)));
}
