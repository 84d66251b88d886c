// A search hit's `highlight` (PROTOCOL.md section 9): HTML-escaped text with
// <mark> and </mark> around the matches. It is the one piece of server HTML the
// page shows, and it never reaches innerHTML: it is checked to hold nothing but
// text, character references and <mark>/</mark> (balanced, not nested), then
// rebuilt as text nodes and <mark> elements. Anything else is refused (null),
// and the caller shows the plain body instead.
import { h } from "./dom.js";

const TOKEN = /<mark>|<\/mark>|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});|[^<>&]+/y;
const NAMED = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'", nbsp: "\u00a0" };

/** The parts of a highlight: [{text, mark: bool}], or null when it is not plain marked text. */
export function parseHighlight(html) {
  if (typeof html !== "string") return null;
  const parts = [];
  let marked = false;
  let text = "";
  const flush = () => {
    if (text) parts.push({ text, mark: marked });
    text = "";
  };
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < html.length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(html);
    if (!match || match.index !== start) return null; // a stray < > or &
    const token = match[0];
    if (token === "<mark>" || token === "</mark>") {
      if (marked === (token === "<mark>")) return null; // nested or unopened
      flush();
      marked = !marked;
    } else if (token[0] === "&") {
      const char = decode(token.slice(1, -1));
      if (char === null) return null;
      text += char;
    } else text += token;
  }
  if (marked) return null;
  flush();
  return parts;
}

function decode(ref) {
  if (ref[0] !== "#") return NAMED[ref] ?? null;
  const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
  if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) return null;
  return String.fromCodePoint(code);
}

/**
 * A hit's text as it reads, not as it was typed: Markdown's markers go (`**bold**` -> bold,
 * `[the notes](https://...)` -> the notes, a heading's `#`, a quote's `>`, code's backticks).
 * Single `*` and `_` stay: in a line of chat they are as often a snake_case name or a footnote.
 */
export function withoutMarkup(text) {
  return text
    .replace(/!?\[([^\]\n]*)\]\([^)\s]*\)/g, "$1")
    .replace(/(\*\*|__|~~|`+)/g, "")
    .replace(/(^|\n)[ \t]{0,3}(?:#{1,6}|>+)[ \t]+/g, "$1");
}

/** Text nodes and <mark> elements for a highlight, or null when it is refused. */
export function highlightNodes(html) {
  const parts = parseHighlight(html);
  if (parts === null) return null;
  return parts.map(({ mark, text }) => {
    const shown = withoutMarkup(text);
    return mark ? h("mark", {}, shown) : document.createTextNode(shown);
  });
}
