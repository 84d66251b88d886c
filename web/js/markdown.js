// Message bodies as Markdown (PROTOCOL.md section 13), turned into DOM nodes.
//
// Two walls, because a body is anyone's text: markdown-it parses with raw HTML
// off (`<b>` stays the text "<b>") and a link check that takes only http:,
// https: and mailto:; DOMPurify then sanitises what markdown-it produced
// against a short allow-list of tags and attributes, drops any other href, and
// forces every link to open in a new tab without an opener or a referrer.
// Image syntax becomes a link with the alt text (no foreign <img> ever loads),
// `:name:` shortcodes become emoji (a custom emoji's its picture, emoji.js), fenced code is highlighted by highlight.js,
// and after sanitising, the mentions the server recognised are set apart in
// text nodes outside code and links, as the page always did.
//
// The libraries are npm packages served under /vendor/, loaded once at start
// (loadMarkdown). Without them (web/node_modules missing) bodies are plain
// text: the page still works, and says elsewhere how to install its packages.
import { markCustomEmoji } from "./emoji.js";
import { bodyParts } from "./mentions.js";

const LIBS = {
  markdownIt: "/vendor/markdown-it/markdown-it.min.js", // UMD: sets globalThis.markdownit
  emoji: "/vendor/markdown-it-emoji/index.mjs",
  purify: "/vendor/dompurify/purify.es.mjs",
  hljs: "/vendor/highlight.js/es/highlight.min.js",
};
const SAFE_URL = /^(?:https?:|mailto:)/i;
const TAGS = ["p", "br", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li",
  "a", "span", "h1", "h2", "h3", "h4", "h5", "h6", "hr"];
const ATTRS = ["href", "class", "title", "start"];
const KEPT_CLASS = /^(?:hljs(?:-[\w-]+)?|[a-z]+_{1,2}|language-[\w+#.-]+|mention)$/; // highlight.js scopes, "class_"
const NO_MENTIONS_IN = "code, pre, a";

let md = null; // markdown-it, configured; null: plain text
let purify = null;

/** Load and configure the libraries; never throws (plain text bodies without them). */
export async function loadMarkdown() {
  if (md) return true;
  try {
    const [, emoji, dompurify, hljs] = await Promise.all([
      import(LIBS.markdownIt), import(LIBS.emoji), import(LIBS.purify), import(LIBS.hljs),
    ]);
    purify = configurePurify(dompurify.default(window));
    md = configureMarkdown(globalThis.markdownit, emoji.full, hljs.default);
    return true;
  } catch {
    md = purify = null;
    return false;
  }
}

export function markdownLoaded() {
  return md !== null;
}

function configureMarkdown(markdownit, emojiPlugin, hljs) {
  const parser = markdownit({
    html: false, // raw HTML is text
    linkify: true,
    breaks: true, // a chat line break (Shift+Enter) stays a line break
    highlight: (code, lang) => highlight(hljs, code, lang),
  });
  // Links as people write them: http(s):// and "www." (a bare "example.com" or "notes.txt" stays text).
  parser.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
  parser.linkify.add("www.", {
    validate(text, pos, self) {
      self.re.www ??= new RegExp(`^${self.re.src_host_port_strict}${self.re.src_path}`, "i");
      const found = self.re.www.exec(text.slice(pos));
      return found && pos >= 4 && !/[\w.-]/.test(text[pos - 5] ?? "") ? found[0].length : 0;
    },
    normalize(match) {
      match.url = `https://${match.url}`;
    },
  });
  parser.validateLink = (url) => SAFE_URL.test(url.trim());
  parser.use(emojiPlugin, { shortcuts: {} }); // `:name:` only: ":)" stays as typed
  parser.renderer.rules.image = imageAsLink;
  return parser;
}

function highlight(hljs, code, lang) {
  const language = (lang ?? "").trim().split(/\s+/)[0];
  if (!language || !hljs.getLanguage(language)) return ""; // markdown-it escapes it as plain code
  try {
    return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  } catch {
    return "";
  }
}

/** `![alt](url)` -> a link to the url saying the alt text (or the url); inside a link, the text. */
function imageAsLink(tokens, idx, options, env, self) {
  const token = tokens[idx];
  const src = token.attrGet("src") ?? "";
  const alt = self.renderInlineAsText(token.children ?? [], options, env) || src;
  if (insideLink(tokens, idx)) return escapeHtml(alt); // a link in a link would split in two
  return `<a href="${escapeHtml(src)}">${escapeHtml(alt)}</a>`;
}

function insideLink(tokens, idx) {
  let depth = 0;
  for (const token of tokens.slice(0, idx)) {
    if (token.type === "link_open") depth += 1;
    else if (token.type === "link_close") depth -= 1;
  }
  return depth > 0;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" })[c]);
}

function configurePurify(instance) {
  instance.addHook("afterSanitizeAttributes", (node) => {
    if (node.hasAttribute("class")) {
      const kept = node.getAttribute("class").split(/\s+/).filter((c) => KEPT_CLASS.test(c));
      if (kept.length) node.setAttribute("class", kept.join(" "));
      else node.removeAttribute("class");
    }
    if (node.nodeName !== "A") return;
    const href = (node.getAttribute("href") ?? "").trim();
    if (!SAFE_URL.test(href)) node.removeAttribute("href");
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  });
  return instance;
}

function sanitize(html) {
  return purify.sanitize(html, {
    ALLOWED_TAGS: TAGS, ALLOWED_ATTR: ATTRS, ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
}

/**
 * A body as nodes: Markdown blocks (paragraphs, lists, code) when the libraries
 * are loaded, else one text node. mentions: the names the server recognised;
 * mentionsAll: `@all` counts.
 */
export function renderBody(body, { mentions = [], mentionsAll = false } = {}) {
  const text = body ?? "";
  if (!md) return withCustomEmoji(withMentions(document.createTextNode(text), mentions, mentionsAll));
  const fragment = sanitize(md.render(text));
  markMentions(fragment, mentions, mentionsAll);
  markCustomEmoji(fragment);
  return fragment;
}

/**
 * One line of Markdown without blocks or links (a quote's excerpt inside a
 * button, where a link cannot go): emphasis, code and emoji only.
 */
export function renderInline(text, { mentions = [], mentionsAll = false } = {}) {
  const source = text ?? "";
  if (!md) return withCustomEmoji(withMentions(document.createTextNode(source), mentions, mentionsAll));
  const fragment = sanitize(md.renderInline(source));
  for (const link of [...fragment.querySelectorAll("a")]) link.replaceWith(...link.childNodes);
  markMentions(fragment, mentions, mentionsAll);
  markCustomEmoji(fragment);
  return fragment;
}

/** Wrap recognised mentions in the text nodes that are not inside code or a link. */
function markMentions(root, mentions, mentionsAll) {
  if (!mentions.length && !mentionsAll) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement?.closest(NO_MENTIONS_IN)) texts.push(node);
  }
  for (const node of texts) {
    const parts = bodyParts(node.data, mentions, mentionsAll);
    if (parts.length === 1 && typeof parts[0] === "string") continue;
    node.replaceWith(...parts.map(partNode));
  }
}

function withCustomEmoji(fragment) {
  markCustomEmoji(fragment);
  return fragment;
}

function withMentions(textNode, mentions, mentionsAll) {
  const fragment = document.createDocumentFragment();
  fragment.append(textNode);
  markMentions(fragment, mentions, mentionsAll);
  return fragment;
}

function partNode(part) {
  if (typeof part === "string") return document.createTextNode(part);
  const span = document.createElement("span");
  span.className = "mention";
  span.dataset.testid = "mention";
  span.textContent = part.mention;
  return span;
}
