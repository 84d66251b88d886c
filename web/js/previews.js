// Link previews (PROTOCOL.md section 13): the server makes them after a send is
// acknowledged and pushes message:previews {topic, id, previews} (an empty list
// when they were removed); they are applied to the message held, so every later
// drawing of it keeps its cards. A message not loaded is left alone (its
// previews come with it when it is). The sender may remove a message's previews
// (message:previews:remove {id}).
import { keyOf } from "./targets.js";

export class Previews {
  constructor(chat) {
    this.chat = chat;
  }

  get state() { return this.chat.state; }

  /** message:previews {topic, id, previews} */
  onUpdated({ topic, id, previews } = {}) {
    if (typeof topic === "string" && typeof id === "number" && Array.isArray(previews)) this.apply(topic, id, previews);
  }

  /** The sender drops the previews of a message; the server then tells every member. */
  async remove(message) {
    try {
      await this.chat.conn.request("message:previews:remove", { id: message.id });
      this.apply(message.topic, message.id, []);
    } catch (err) {
      this.chat.env.toasts.error(err);
    }
  }

  apply(topic, id, previews) {
    const conv = this.state.conversations.get(keyOf(topic));
    let changed = Boolean(conv?.patch(id, { previews }));
    if (conv?.pins?.some((m) => m.id === id)) {
      conv.pins = conv.pins.map((m) => (m.id === id ? { ...m, previews } : m));
      changed = true;
    }
    if (this.state.thread?.patch(id, { previews })) changed = true;
    if (changed) this.chat.render();
  }
}
