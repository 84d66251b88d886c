// The thread side panel: the root message, its replies (older pages on demand)
// and a box to reply in the thread, with `@` autocomplete. At phone width it
// covers the screen.
import { labelOf } from "../targets.js";
import { EmojiAutocomplete, MentionAutocomplete } from "./autocomplete.js";
import { people } from "../people.js";
import { fill, h, icon, ICONS, reconcile } from "./dom.js";
import { personAvatar, personName } from "./people_parts.js";
import { formatKey } from "./format_keys.js";
import { clock, fullTime, parseTime, plural } from "./format.js";
import { messageBody, pinnedMark, replyQuote } from "./message_parts.js";
import { previewCards } from "./preview_cards.js";
import { customEmojiVersion } from "../emoji.js";
import { reactionChips } from "./reactions.js";

export class ThreadPanel {
  /** actions: close(), send(body), loadOlder(), react(message, emoji), jump(id), mentions: {members(query), me(), allowAll()} */
  constructor(actions) {
    this.actions = actions;
    this.sub = h("p", { class: "panel-sub", "data-testid": "thread-topic" });
    this.rootBox = h("div", { class: "thread-root", "data-testid": "thread-root" });
    this.count = h("div", { class: "thread-count", "data-testid": "thread-count", role: "separator" });
    this.older = h("button", { class: "link-btn thread-older", type: "button", "data-testid": "thread-older", onclick: () => actions.loadOlder() }, "Show older replies");
    this.list = h("div", { class: "thread-replies", "data-testid": "thread-replies", role: "log", "aria-label": "Replies" });
    this.scroller = h("div", { class: "panel-scroll" }, this.rootBox, this.count, this.older, this.list);
    this.input = h("textarea", { id: "thread-composer", class: "composer-input", "data-testid": "thread-composer", rows: "1", maxlength: "4000", placeholder: "Reply in thread…", "aria-label": "Reply in thread" });
    this.error = h("p", { class: "form-error small", role: "alert", "data-testid": "thread-error", hidden: true });
    this.mentions = new MentionAutocomplete(this.input, actions.mentions);
    this.emoji = new EmojiAutocomplete(this.input, { testid: "thread-emoji-list" });
    this.form = h("form", { class: "composer thread-form", "aria-label": "Reply in thread" }, this.input,
      h("button", { class: "send-btn", type: "submit", "data-testid": "thread-send", "aria-label": "Send reply" }, icon(ICONS.send)));
    this.closeButton = h("button", { class: "icon-btn", type: "button", "data-testid": "thread-close", "aria-label": "Close thread", onclick: () => actions.close() }, icon(ICONS.close));
    this.el = h("aside", { class: "side-panel thread-panel", id: "thread-panel", "data-testid": "thread-panel", "aria-label": "Thread", hidden: true },
      h("div", { class: "panel-head" }, h("div", {}, h("h2", { class: "panel-title" }, "Thread"), this.sub), this.closeButton),
      this.scroller,
      h("div", { class: "panel-composer" }, this.error, h("div", { class: "composer-stack" }, this.mentions.list, this.emoji.list, this.form)));
    this.bind();
  }

  bind() {
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.input.addEventListener("keydown", (event) => {
      if (this.mentions.handleKey(event) || this.emoji.handleKey(event) || formatKey(event, this.input)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.error.hidden = true;
      this.input.style.height = "auto";
      this.input.style.height = `${Math.min(this.input.scrollHeight, 140)}px`;
    });
  }

  async submit() {
    const body = this.input.value;
    if (!body.trim() || this.sending) return;
    this.sending = true;
    this.input.value = "";
    try {
      await this.actions.send(body);
      this.scroller.scrollTop = this.scroller.scrollHeight;
    } catch (err) {
      this.input.value = body; // not sent: keep it to try again
      this.error.textContent = `Not sent: ${err.message}`;
      this.error.hidden = false;
    } finally {
      this.sending = false;
      this.input.focus();
    }
  }

  /** Put the focus in the panel once it opens: its box, or its close button. */
  focus() {
    (this.form.hidden ? this.closeButton : this.input).focus();
  }

  render(state, open) {
    const thread = state.thread;
    this.el.hidden = !open || !thread;
    if (this.el.hidden) {
      this.shownRoot = null;
      return;
    }
    if (this.shownRoot !== thread.rootId) { // another thread: start afresh
      this.shownRoot = thread.rootId;
      this.input.value = "";
      this.error.hidden = true;
      this.list.replaceChildren();
    }
    const topic = state.topics.get(thread.name.toLowerCase());
    this.form.hidden = !(thread.name.startsWith("@") || topic?.subscribed);
    this.sub.textContent = labelOf(thread.name);
    this.el.dataset.root = String(thread.rootId);
    this.renderRoot(thread.root, state);
    const replies = thread.sorted();
    const stick = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 48;
    this.count.textContent = !thread.loaded ? "Loading replies…" : plural(thread.root.thread_summary?.count ?? replies.length, "reply", "replies");
    this.older.hidden = !thread.hasMore;
    this.older.disabled = thread.loadingOlder;
    reconcile(this.list, replies.map((m) => this.replyItem(m, state)));
    if (stick) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  renderRoot(root, state) {
    const sig = JSON.stringify([root, people().sigOf(root.sender), customEmojiVersion()]);
    if (this.rootBox.dataset.sig === sig) return;
    this.rootBox.dataset.sig = sig;
    this.rootBox.dataset.id = String(root.id);
    if (root.missing) {
      fill(this.rootBox, h("p", { class: "muted" }, "The message that started this thread is further back in the history."));
      return;
    }
    fill(this.rootBox, this.entry(root, state));
  }

  replyItem(message, state) {
    const sig = JSON.stringify([message, state.me, people().sigOf(message.sender), customEmojiVersion()]);
    return {
      key: `r${message.id}`,
      create: () => h("article", { class: "thread-reply", "data-testid": "thread-reply" }),
      update: (el) => {
        if (el.dataset.sig === sig) return;
        el.dataset.sig = sig;
        Object.assign(el.dataset, { id: String(message.id), sender: message.sender });
        fill(el, this.entry(message, state));
      },
    };
  }

  /** One message in the panel: avatar, sender, time, quote, body, reactions. */
  entry(message, state) {
    const date = parseTime(message.created_at);
    return h("div", { class: "entry" },
      personAvatar(message.sender, "small", () => this.actions.profile?.(message.sender)),
      h("div", { class: "entry-main" },
        h("div", { class: "entry-head" },
          h("span", { class: "entry-sender", "data-testid": "entry-sender" }, personName(message.sender), state.isMe(message.sender) ? " (you)" : ""),
          h("time", { datetime: message.created_at ?? "", title: fullTime(date) }, clock(date)),
          pinnedMark(message)),
        replyQuote(message.reply_to, (id) => this.actions.jump(id)),
        messageBody(message),
        previewCards(message),
        reactionChips(message, (m, emoji) => this.actions.react(m, emoji), { canReact: !this.form.hidden })));
  }
}
