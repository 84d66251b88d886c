// Pins (PROTOCOL.md section 8): pin and unpin a message, the list of a
// conversation's pinned messages (topic:pins: {topic}, or {with} for a direct
// conversation) and its live changes (pins:updated). Each change also arrives as
// a system message, shown like any other message.
import { positionTarget } from "./targets.js";

export class Pins {
  constructor(chat) {
    this.chat = chat;
  }

  get state() { return this.chat.state; }

  async toggle(message) {
    try {
      const data = await this.chat.conn.request(message.pinned ? "message:unpin" : "message:pin", { id: message.id });
      this.apply(data?.topic ?? message.topic, data?.pins);
    } catch (err) {
      this.chat.env.toasts.error(err);
    }
  }

  /** The pinned list of a conversation, asked for when its panel opens. */
  async load(name) {
    try {
      const data = await this.chat.conn.request("topic:pins", positionTarget(name));
      this.apply(name, data?.pins);
    } catch (err) {
      this.state.conversation(name).pins ??= [];
      this.chat.env.toasts.error(err);
      this.chat.render();
    }
  }

  /** pins:updated {topic, pins} */
  onUpdated({ topic, pins } = {}) {
    if (typeof topic === "string") this.apply(topic, pins);
  }

  apply(topic, pins) {
    if (!Array.isArray(pins)) return;
    this.state.conversation(topic).setPins(pins);
    const thread = this.state.thread;
    if (thread) {
      const ids = new Set(pins.map((m) => m.id));
      for (const m of [thread.root, ...thread.replies.values()]) thread.patch(m.id, { pinned: ids.has(m.id) });
    }
    this.chat.render();
  }
}
