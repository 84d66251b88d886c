// Mentions (PROTOCOL.md section 8): whether a message mentions me, the `@name`
// being typed before the caret, completing it, and the parts of a body to
// highlight. Plain functions: no DOM, no network.

const TYPED = /(?:^|[^\p{L}\p{N}_.-])@([\p{L}\p{N}_.-]{0,32})$/u; // a display name may have accents
const IN_BODY = /(^|[^A-Za-z0-9_.-])@([A-Za-z0-9_.-]+)/g;
const MAX_SUGGESTIONS = 8;

const lower = (name) => String(name).toLowerCase();

/** Someone else's live message that names me or @all (the server computed `mentions`). */
export function mentionsMe(message, me) {
  if (!message || message.type === "system" || message.deleted || lower(message.sender) === lower(me)) return false;
  return Boolean(message.mentions_all) || (message.mentions ?? []).some((name) => lower(name) === lower(me));
}

/** The `@name` typed just before the caret: {start, query}, or null when there is none. */
export function typedMention(text, caret) {
  const match = TYPED.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[1].length - 1, query: match[1] };
}

/** Replace the typed `@que` with `@name ` and put the caret after it. */
export function completeMention(text, caret, typed, name) {
  const before = text.slice(0, typed.start);
  const after = text.slice(caret);
  const inserted = `@${name}${after.startsWith(" ") ? "" : " "}`;
  return { text: before + inserted + after, caret: before.length + inserted.length };
}

/**
 * Members whose username, or a word of it or of their display name, starts with the query (case
 * and accents aside, as the server's member search and directory find them), me left out, then
 * "all" for a topic when it matches: [{username, role?, all?}].
 */
export function suggestions(members, query, me, { allowAll = false } = {}) {
  const q = lower(query);
  const found = members
    .filter((m) => (lower(m.username).startsWith(q) || [...wordsOf(m.username), ...wordsOf(m.display_name)].some((w) => w.startsWith(fold(q))))
      && lower(m.username) !== lower(me))
    .sort((a, b) => a.username.localeCompare(b.username))
    .slice(0, MAX_SUGGESTIONS);
  if (allowAll && "all".startsWith(q)) found.push({ username: "all", all: true });
  return found;
}

/** Lower-case, accents dropped: "Élodie" -> "elodie". */
export function fold(text) {
  return String(text ?? "").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The words of a display name, folded ("Élodie Martin" -> ["elodie", "martin"]). */
function wordsOf(name) {
  return fold(name).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/**
 * A body cut into strings and {mention: text} parts for the names the server
 * recognised (`mentions`, and `@all` when `mentions_all`). A trailing "." or "-"
 * that makes no member name stays text, as on the server.
 */
export function bodyParts(body, mentions = [], mentionsAll = false) {
  const names = new Set(mentions.map(lower));
  if (mentionsAll) names.add("all");
  if (names.size === 0 || !body) return [body];
  const parts = [];
  let last = 0;
  for (const match of body.matchAll(IN_BODY)) {
    const name = known(match[2], names);
    if (!name) continue;
    const at = match.index + match[1].length;
    if (at > last) parts.push(body.slice(last, at));
    parts.push({ mention: `@${name}` });
    last = at + 1 + name.length;
  }
  if (last < body.length) parts.push(body.slice(last));
  return parts;
}

/** The longest prefix of `word` that is a mentioned name, dropping trailing "." and "-". */
function known(word, names) {
  let name = word;
  while (name && !names.has(lower(name)) && /[.-]$/.test(name)) name = name.slice(0, -1);
  return name && names.has(lower(name)) ? name : null;
}
