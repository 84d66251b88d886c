// Blocking and reports (PROTOCOL.md section 10): the users I block (user:blocks,
// user:block, user:unblock) and reporting a message to the operators
// (message:report). Messages of a user I block are folded in the message list.

export const MAX_REASON = 500;

export class Safety {
  constructor(chat) {
    this.chat = chat;
    this.blocks = null; // Set of lower-case names once known (null: not known, trust `blocked`)
  }

  get conn() { return this.chat.conn; }

  /** After each connect: who I block (an older server without blocking answers `invalid`). */
  async load() {
    try {
      const data = await this.conn.request("user:blocks", {});
      this.blocks = new Set((data?.users ?? []).map((u) => String(u).toLowerCase()));
      this.chat.render();
    } catch {
      this.blocks = null;
    }
  }

  isBlocked(username) {
    return Boolean(this.blocks?.has(String(username).toLowerCase()));
  }

  /**
   * Whether a message is folded: its sender is one I block now (when the list is
   * known), else the server's "blocked" mark as it was sent to me.
   */
  folds(message) {
    if (message.type === "system" || message.deleted) return false;
    return this.blocks ? this.isBlocked(message.sender) : message.blocked === true;
  }

  async setBlocked(username, blocked) {
    try {
      await this.conn.request(blocked ? "user:block" : "user:unblock", { username });
    } catch (err) {
      this.chat.env.toasts.error(err);
      throw err;
    }
    this.blocks ??= new Set();
    if (blocked) this.blocks.add(username.toLowerCase());
    else this.blocks.delete(username.toLowerCase());
    this.chat.env.toasts.show(blocked
      ? `You blocked ${username}: their messages are folded and they cannot message you.`
      : `You unblocked ${username}.`);
    this.chat.render();
  }

  /** message:report {id, reason}: only the operators see it. */
  async report(id, reason) {
    await this.conn.request("message:report", { id, reason });
    this.chat.env.toasts.show("Thank you: the message was reported to the operators.");
  }
}
