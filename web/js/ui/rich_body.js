// A message body on the page: its Markdown rendered (../markdown.js), and a long
// one (more than LONG_LINES lines or LONG_CHARS characters) folded to a few
// lines with a "Show more" / "Show less" button, so one paste does not push
// the whole conversation out of sight. What was unfolded stays unfolded when
// the message is drawn again (a reaction, an edit, a preview arriving).
import { markdownLoaded, renderBody } from "../markdown.js";
import { h } from "./dom.js";

const LONG_LINES = 12;
const LONG_CHARS = 1200;
const unfolded = new Set(); // ids of long messages shown in full

/** The body element (data-testid message-body), followed by its toggle when it is long. */
export function richBody(message) {
  const body = message.body ?? "";
  const el = h("div", { class: bodyClass(), "data-testid": "message-body" },
    renderBody(body, { mentions: message.mentions ?? [], mentionsAll: Boolean(message.mentions_all) }));
  if (!isLong(body)) return el;
  const id = message.id;
  const toggle = h("button", { class: "link-btn more-toggle", type: "button", "data-testid": "show-more" });
  const show = (open) => {
    el.classList.toggle("collapsed", !open);
    toggle.textContent = open ? "Show less" : "Show more";
    toggle.setAttribute("aria-expanded", String(open));
    if (id != null) (open ? unfolded.add(id) : unfolded.delete(id));
  };
  toggle.addEventListener("click", () => show(el.classList.contains("collapsed")));
  show(id != null && unfolded.has(id));
  return h("div", { class: "body-wrap" }, el, toggle);
}

export function isLong(body) {
  return body.length > LONG_CHARS || body.split("\n").length > LONG_LINES;
}

/** Markdown blocks bring their own spacing; plain text (no renderer) keeps its line breaks. */
export function bodyClass() {
  return markdownLoaded() ? "msg-body md" : "msg-body";
}
