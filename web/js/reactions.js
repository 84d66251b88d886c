// Reactions (PROTOCOL.md section 8): the small set the picker offers, toggling
// mine with reaction:add / reaction:remove, and others' changes (reaction:updated).

export const EMOJI = ["👍", "❤️", "😂", "🎉", "👀", "✅"];

export class Reactions {
  constructor(chat) {
    this.chat = chat;
  }

  /** Add my reaction, or take it back when I have it already. */
  async toggle(message, emoji) {
    const mine = (message.reactions ?? []).some((r) => r.emoji === emoji && r.me);
    try {
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
