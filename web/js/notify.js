// The notification level of a topic (topic:notify) and the badges it shows:
// "all" the unread count (and mentions), "mentions" only the mention count,
// "none" nothing. The server counts both whatever the level. A direct
// conversation is named {with: username} (topic:notify takes it as topic:pins does).
import { positionTarget } from "./targets.js";

export const LEVELS = [
  { level: "all", label: "All messages", hint: "Unread and mention badges" },
  { level: "mentions", label: "Mentions only", hint: "Only the @ badge" },
  { level: "none", label: "Nothing", hint: "No badges" },
];

export const levelOf = (topic) => topic?.notify ?? "all";

/** {unread, mentions}: the counts the sidebar shows for a topic at its level. */
export function badges(topic) {
  const level = levelOf(topic);
  if (level === "none") return { unread: 0, mentions: 0 };
  const mentions = topic.mentions ?? 0;
  return { unread: level === "all" ? topic.unread ?? 0 : 0, mentions };
}

export class Notify {
  constructor(chat) {
    this.chat = chat;
  }

  /** topic:notify; the answer is the Topic with its new level. */
  async set(name, level) {
    const topic = await this.chat.conn.request("topic:notify", { ...positionTarget(name), level });
    this.chat.state.putTopic(topic?.name ? topic : { name, notify: level });
    this.chat.render();
  }
}
