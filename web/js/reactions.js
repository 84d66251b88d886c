// Reactions (PROTOCOL.md section 8): toggling mine with reaction:add /
// reaction:remove (any Unicode emoji, or a custom one's `:name:`; one added is
// remembered as recent, emoji.js), and others' changes (reaction:updated).
import { noteRecent } from "./emoji.js";

export class Reactions {
  constructor(chat) {
    this.chat = chat;
  }

  /** Add my reaction, or take it back when I have it already. */
  async toggle(message, emoji) {
    const mine = (message.reactions ?? []).some((r) => r.emoji === emoji && r.me);
    try {
      if (!mine) noteRecent(emoji);
      const data = await this.chat.conn.request(mine ? "reaction:remove" : "reaction:add", { id: message.id, emoji });
      this.apply(message.topic, data?.id ?? message.id, data?.reactions);
    } catch (err) {
      this.chat.env.toasts.error(err);
    }
  }

  /** reaction:updated {topic, id, reactions}: `me` is already as seen by me. */
  onUpdated({ topic, id, reactions } = {}) {
    if (typeof topic === "string" && typeof id === "number") this.apply(topic, id, reactions);
  }

  apply(topic, id, reactions) {
    if (!Array.isArray(reactions)) return;
    this.chat.state.conversation(topic).patch(id, { reactions });
    this.chat.state.thread?.patch(id, { reactions });
    this.chat.render();
  }
}
