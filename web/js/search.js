// Search (PROTOCOL.md section 9): the query typed in the search panel, its
// pages of hits (`search`, newest first, "more" with the cursor), and the jump
// from a hit to its message: the conversation opens with the messages around
// the hit loaded (history before a seq just after it) and the message marked.
import { isDirect, keyOf, positionTarget } from "./targets.js";

const PAGE = 20;
const AROUND = 40; // messages loaded around a hit...
const AFTER = 10; // ...of which this many after it

export class Search {
  constructor(chat) {
    this.chat = chat;
    this.query = "";
    this.scope = null; // the conversation searched in, or null for everywhere
    this.hits = null; // [{message, highlight}] once the first page came
    this.next = null; // the cursor of the next page
    this.loading = false;
    this.error = null;
    this.run = 0; // answers of an older query are dropped
  }

  /** A new query (empty: clears the results); scope: a conversation name or null. */
  async start(query, scope = null) {
    this.query = query.trim();
    this.scope = scope;
    this.hits = null;
    this.next = null;
    this.error = null;
    this.run += 1;
    if (!this.query) return this.chat.render();
    await this.page(this.run);
  }

  async more() {
    if (this.next && !this.loading) await this.page(this.run);
  }

  async page(run) {
    const payload = { q: this.query, limit: PAGE };
    if (this.scope) Object.assign(payload, isDirect(this.scope) ? { with: this.scope.slice(1) } : { topic: this.scope });
    if (this.next) payload.cursor = this.next;
    this.loading = true;
    this.chat.render();
    try {
      const data = await this.chat.conn.request("search", payload);
      if (run !== this.run) return;
      const hits = (Array.isArray(data?.hits) ? data.hits : []).filter((hit) => isHit(hit));
      this.hits = [...(this.hits ?? []), ...hits];
      this.next = typeof data?.next === "string" && data.next ? data.next : null;
    } catch (err) {
      if (run !== this.run) return;
      this.error = err.message;
      this.hits ??= [];
    } finally {
      if (run === this.run) this.loading = false;
      this.chat.render();
    }
  }

  /** Show a hit's message in its conversation, with its neighbours loaded. */
  async jump(hit) {
    const { chat } = this;
    const { message } = hit;
    await chat.actions.open(message.topic);
    const conv = chat.state.conversation(message.topic);
    if (!conv.messages.has(message.id)) {
      try {
        const page = await chat.conn.request("history", {
          ...positionTarget(conv.name), before_seq: message.seq + AFTER + 1, limit: AROUND,
        });
        const messages = page?.messages ?? [];
        for (const m of messages) conv.upsert(m);
        chat.conn.noteHistory(conv.name, messages);
        if (!conv.messages.has(message.id)) conv.upsert(message); // deleted meanwhile: shown as found
      } catch (err) {
        chat.env.toasts.error(err);
      }
    }
    if (keyOf(conv.name) !== chat.state.current) return; // another conversation was opened meanwhile
    chat.renderNow({});
    chat.messages.jumpTo(message.id, { found: true });
  }
}

function isHit(hit) {
  const m = hit?.message;
  return m && typeof m.id === "number" && typeof m.topic === "string" && typeof m.seq === "number";
}

/** Ctrl+K (Cmd+K) anywhere, or "/" outside a text field: the keys that open the search. */
export function isSearchKey(event) {
  if (event.defaultPrevented || event.isComposing || event.altKey) return false;
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") return true;
  const field = event.target?.closest?.("input, textarea, select, [contenteditable]");
  return event.key === "/" && !event.ctrlKey && !event.metaKey && !field;
}
