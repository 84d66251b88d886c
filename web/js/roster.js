// Who is in a conversation (topic:members), kept a short while per conversation:
// the `@` autocomplete offers them and my role among them decides who may pin. A crowded
// conversation is never listed whole: the autocomplete asks the server for the typed name.
import { isDirect, keyOf, peerOf } from "./targets.js";

const FRESH_MS = 15_000;
const ROSTER_WHOLE = 500; // members up to which a conversation's whole list is asked for
const MATCHED = 8; // members a `@` completion asks the server for in a larger one (as many as it shows)

export class Roster {
  constructor(chat) {
    this.chat = chat;
    this.loading = new Map(); // key -> Promise of the list
  }

  get state() { return this.chat.state; }

  /** The members of a conversation: the cached list when fresh, else asked for again. */
  async members(name) {
    const key = keyOf(name);
    const known = this.state.rosters.get(key);
    if (known && Date.now() - known.at < FRESH_MS) return known.list;
    if (isDirect(name)) return this.store(key, [{ username: this.state.me }, { username: peerOf(name) }]);
    if (!this.loading.has(key)) {
      this.loading.set(key, this.fetch(name, key).finally(() => this.loading.delete(key)));
    }
    return this.loading.get(key);
  }

  /** Too many members to ask for all of them (#lobby holds every account): the server finds them. */
  crowded(name) {
    return Boolean(name) && !isDirect(name) && this.state.topics.get(keyOf(name))?.members > ROSTER_WHOLE;
  }

  /** The members a typed `@query` may complete to: the whole list, or in a crowded conversation
   * the server's best matches (topic:members with the query: an index read, not every account). */
  async matching(name, query) {
    if (!this.crowded(name)) return this.members(name);
    if (!query) return [];
    try {
      const data = await this.chat.conn.request("topic:members", { topic: name, query, limit: MATCHED });
      return data?.members ?? [];
    } catch {
      return []; // offline, or not a member of a private topic any more
    }
  }

  async fetch(name, key) {
    try {
      const data = await this.chat.conn.request("topic:members", { topic: name });
      const list = this.store(key, data?.members ?? []);
      this.chat.render(); // my role may allow more actions now
      return list;
    } catch {
      return this.state.rosters.get(key)?.list ?? []; // not a member of a private topic, offline...
    }
  }

  /** Ask again next time, still answering from the old list meanwhile (my role). */
  stale(name) {
    const known = this.state.rosters.get(keyOf(name));
    if (known) known.at = 0;
  }

  /** Also fed by the members panel, which asks for the same list. Its read marks (a member's
   * `read_seq`) rebuild the conversation's "Seen by" marks after a reload, where only the live
   * `read` events set them before. */
  store(key, list) {
    this.state.rosters.set(key, { list, at: Date.now() });
    this.chat.people?.noteMembers(list);
    const conv = this.state.conversations.get(key);
    let moved = false;
    for (const m of conv ? list : []) {
      if (typeof m.read_seq !== "number" || !m.username || (conv.readMarks.get(m.username) ?? 0) >= m.read_seq) continue;
      conv.readMarks.set(m.username, m.read_seq);
      moved = true;
    }
    if (moved) this.chat.render();
    return list;
  }
}
