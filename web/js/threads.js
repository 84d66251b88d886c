// Threads (PROTOCOL.md section 8): the thread open in the side panel, its pages
// of replies (thread:history), replying in it (message:send with "thread"), and
// the summaries under roots (thread:updated). Replies are ordinary messages of
// the conversation too: the main stream shows them, marked as thread replies.
import { newClientId } from "./actions.js";
import { Thread } from "./state.js";
import { sendTarget } from "./targets.js";

const PAGE = 50;

export class Threads {
  constructor(chat) {
    this.chat = chat;
  }

  get state() { return this.chat.state; }

  /** Open the thread of a message: its own, or the one it is a reply in. */
  async open(message) {
    const rootId = message.thread ?? message.id;
    const conv = this.state.conversation(message.topic);
    const root = conv.messages.get(rootId) ?? (message.thread ? { id: rootId, topic: conv.name, missing: true } : message);
    const thread = new Thread(conv.name, root);
    for (const m of conv.messages.values()) if (m.thread === rootId) thread.upsert(m);
    this.state.thread = thread;
    this.chat.panels.show("thread");
    await this.load(thread);
  }

  close() {
    this.state.thread = null;
    this.chat.panels.show(null);
  }

  /** The newest page, or the page before the oldest reply held (older = true). */
  async load(thread, older = false) {
    if (older && (thread.loadingOlder || !thread.hasMore)) return;
    thread.loadingOlder = older;
    this.chat.render();
    const payload = { root: thread.rootId, limit: PAGE };
    if (older) payload.before_id = thread.oldestId;
    try {
      const page = await this.chat.conn.request("thread:history", payload);
      for (const m of page?.messages ?? []) thread.upsert(m);
      thread.hasMore = Boolean(page?.has_more);
    } catch (err) {
      this.chat.env.toasts.error(err);
    } finally {
      thread.loaded = true;
      thread.loadingOlder = false;
      this.chat.render();
    }
  }

  loadOlder() {
    if (this.state.thread) return this.load(this.state.thread, true);
  }

  /** Reply in the open thread; the stored message joins the thread and the main stream. */
  async send(body) {
    const thread = this.state.thread;
    if (!thread) return;
    const message = await this.chat.conn.send(sendTarget(thread.name), body, newClientId(), { thread: thread.rootId });
    this.chat.actions.accept(message);
  }

  /** A message arrived, was sent or edited: the open thread keeps it if it is one of its own. */
  noteMessage(message) {
    if (this.state.thread?.upsert(message)) this.chat.render();
  }

  noteDeleted(id) {
    if (this.state.thread?.patch(id, { body: "", deleted: true, reactions: [] })) this.chat.render();
  }

  /** thread:updated {topic, root, thread_summary} */
  onUpdated({ topic, root, thread_summary: summary } = {}) {
    if (typeof topic !== "string" || typeof root !== "number") return;
    this.state.conversation(topic).patch(root, { thread_summary: summary ?? null });
    this.state.thread?.patch(root, { thread_summary: summary ?? null });
    this.chat.render();
  }
}
