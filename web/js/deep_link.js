// Links to a conversation and a message (PROTOCOL.md section 15): `/#topic=<encoded name>`, with
// `&message=<id>` in the links of pushes and email digests (a direct conversation is named
// `@username`, as the one who gets the link sees it).
//
// A link found at load is kept in sessionStorage until the chat has its topics (a sign-in comes
// first; single sign-on leaves the page and comes back): then the conversation opens, the history
// is paged back to the message, and the message is shown marked, as a search hit is.
import { keyOf, labelOf, positionTarget } from "./targets.js";

const PENDING = "parley.link";
const PAGE = 200;
const MAX_PAGES = 5; // how far back a link looks for its message (then: shown at the newest)
const AROUND = 40; // with the message's seq known (a push), the messages loaded around it...
const AFTER = 10; // ...of which this many after it

/** {topic, id} from a `#topic=...&message=...` fragment (id null when absent), or null. */
export function parseLink(hash) {
  const found = new URLSearchParams(String(hash).replace(/^#/, ""));
  const topic = found.get("topic");
  if (!topic) return null;
  const id = Number(found.get("message"));
  return { topic, id: Number.isSafeInteger(id) && id > 0 ? id : null };
}

/** Keep the address's link for after sign-in and take it out of the address; the link or null. */
export function takeLink() {
  const link = parseLink(location.hash);
  if (!link) return null;
  keepLink(link);
  history.replaceState(history.state, "", location.pathname + location.search);
  return link;
}

/** Keep a link to open once the chat has its topics. */
export function keepLink(link) {
  sessionStorage.setItem(PENDING, JSON.stringify(link));
}

/** The link kept at load (once), or null. */
export function pendingLink() {
  const kept = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  try {
    const link = JSON.parse(kept ?? "null");
    return typeof link?.topic === "string" && link.topic ? { topic: link.topic, id: link.id ?? null, seq: link.seq ?? null } : null;
  } catch {
    return null;
  }
}

/** Open a conversation at a message: {topic, id?, seq?} (seq: known from a push, else paged for). */
export async function openLink(chat, { topic, id, seq }) {
  // topic:list has every conversation I may open; a conversation that began a moment ago (a
  // notification's first direct message) may not be in the list the page holds yet: ask again.
  if (!chat.state.topics.has(keyOf(topic))) await chat.loadTopics();
  if (!chat.state.topics.has(keyOf(topic))) {
    chat.env.toasts.show(`${labelOf(topic)} is not a conversation you can open.`, "error");
    return;
  }
  await chat.actions.open(topic);
  if (!id) return;
  const conv = chat.state.conversation(topic);
  try {
    if (Number.isSafeInteger(seq) && !conv.messages.has(id)) await loadAround(chat, conv, seq);
    await pageBackTo(chat, conv, id);
  } catch (err) {
    chat.env.toasts.error(err);
  }
  if (keyOf(conv.name) !== chat.state.current) return; // another conversation was opened meanwhile
  chat.renderNow({});
  chat.messages.jumpTo(id, { found: true });
}

async function loadAround(chat, conv, seq) {
  const page = await chat.conn.request("history", { ...positionTarget(conv.name), before_seq: seq + AFTER + 1, limit: AROUND });
  take(chat, conv, page?.messages ?? []);
}

/** Page back until the message is held, or older ones are (it is not there), or history ends. */
async function pageBackTo(chat, conv, id) {
  for (let i = 0; i < MAX_PAGES && !conv.messages.has(id); i++) {
    const held = [...conv.messages.values()];
    if (held.some((m) => m.id < id)) return; // ids grow with seq: it would be held by now
    const before = conv.minSeq;
    if (before !== null && before <= 1) return;
    const page = await chat.conn.request("history", {
      ...positionTarget(conv.name), limit: PAGE, ...(before === null ? {} : { before_seq: before }),
    });
    const messages = page?.messages ?? [];
    take(chat, conv, messages);
    if (!page?.has_more || messages.length === 0) return;
  }
}

function take(chat, conv, messages) {
  for (const m of messages) conv.upsert(m);
  chat.conn.noteHistory(conv.name, messages);
}
