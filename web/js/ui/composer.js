// The composer: Enter sends, Shift+Enter adds a line; typing notifications are
// sent while the user types; `@` offers the members to mention; a reply shows
// the quoted message above the box until sent or cancelled. For a public topic
// the user has not joined, a join bar takes its place; for an archived topic, or
// one where I am muted, a line saying why I cannot post.
import { labelOf, isDirect, peerOf } from "../targets.js";
import { MentionAutocomplete } from "./autocomplete.js";
import { h, icon, ICONS } from "./dom.js";
import { clock, fullTime } from "./format.js";

const MAX_BODY = 4000;
const TYPING_REPEAT_MS = 3000; // re-announce "typing" while it goes on
const TYPING_IDLE_MS = 2500; // announce "stopped" after this long without a key

export class Composer {
  /** actions: send(body, replyTo), typing(bool), join(), and mentions: {members(), me(), allowAll()} */
  constructor(actions) {
    this.actions = actions;
    this.replyTo = null; // {id, sender, excerpt}
    this.input = h("textarea", {
      id: "composer", class: "composer-input", "data-testid": "composer", rows: "1",
      "aria-label": "Message", placeholder: "Write a message…", maxlength: String(MAX_BODY),
    });
    this.sendButton = h("button", { class: "send-btn", type: "submit", "data-testid": "send", "aria-label": "Send message", title: "Send (Enter)" }, icon(ICONS.send));
    this.counter = h("span", { class: "counter", "aria-live": "polite" });
    this.error = h("p", { class: "form-error small composer-error", role: "alert", "data-testid": "composer-error", hidden: true });
    this.form = h("form", { class: "composer", "data-testid": "composer-form", "aria-label": "Send a message" },
      h("label", { for: "composer", class: "sr-only" }, "Message"), this.input, this.counter, this.sendButton);
    this.mentions = new MentionAutocomplete(this.input, actions.mentions);
    this.replyText = h("span", { class: "reply-bar-text" });
    this.replyBar = h("div", { class: "reply-bar", "data-testid": "reply-preview", hidden: true },
      icon(ICONS.reply), this.replyText,
      h("button", { class: "icon-btn small", type: "button", "data-testid": "reply-cancel", "aria-label": "Cancel reply",
        title: "Cancel reply (Esc)", onclick: () => this.clearReply(true) }, icon(ICONS.close)));
    this.typingLine = h("div", { class: "typing", "data-testid": "typing-indicator", "aria-live": "polite" });
    this.joinText = h("span", {});
    this.joinButton = h("button", { class: "btn btn-primary", type: "button", "data-testid": "join-topic", onclick: () => this.join() }, "Join");
    this.joinBar = h("div", { class: "join-bar", "data-testid": "join-bar", hidden: true }, this.joinText, this.joinButton);
    this.readOnlyBar = h("div", { class: "join-bar read-only-bar", "data-testid": "read-only-bar", role: "status", hidden: true });
    this.el = h("div", { class: "composer-area" }, this.typingLine, this.error,
      h("div", { class: "composer-stack" }, this.mentions.list, this.replyBar, this.form), this.joinBar, this.readOnlyBar);
    this.bind();
  }

  bind() {
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.input.addEventListener("keydown", (event) => {
      if (this.mentions.handleKey(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === "Escape" && this.replyTo) {
        event.preventDefault();
        this.clearReply(true);
      }
    });
    this.input.addEventListener("input", () => {
      this.autosize();
      this.showError("");
      this.updateCounter();
      this.noteTyping();
    });
    this.input.addEventListener("blur", () => this.stopTyping());
  }

  submit() {
    const body = this.input.value;
    if (!body.trim()) return;
    if ([...body].length > MAX_BODY) return this.showError(`A message has at most ${MAX_BODY} characters.`);
    this.stopTyping();
    this.actions.send(body, this.replyTo);
    this.clearReply();
    this.input.value = "";
    this.autosize();
    this.updateCounter();
    this.input.focus();
  }

  noteTyping() {
    if (!this.input.value.trim()) return this.stopTyping();
    const now = Date.now();
    if (!this.typingSince || now - this.typingSince > TYPING_REPEAT_MS) {
      this.typingSince = now;
      this.actions.typing(true);
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.idleTimer);
    if (!this.typingSince) return;
    this.typingSince = null;
    this.actions.typing(false);
  }

  async join() {
    this.joinButton.disabled = true;
    try {
      await this.actions.join();
    } catch (err) {
      this.showError(err.message);
    } finally {
      this.joinButton.disabled = false;
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 160)}px`;
  }

  updateCounter() {
    const left = MAX_BODY - [...this.input.value].length;
    this.counter.textContent = left < 200 ? String(left) : "";
  }

  /** Reply to a message: its quote shows above the box until sent or cancelled. */
  setReply(message) {
    this.replyTo = { id: message.id, sender: message.sender, excerpt: [...(message.body ?? "")].slice(0, 100).join("") };
    this.replyText.replaceChildren("Replying to ", h("strong", { "data-testid": "reply-preview-sender" }, message.sender),
      h("span", { class: "reply-bar-excerpt", "data-testid": "reply-preview-excerpt" }, this.replyTo.excerpt));
    this.replyBar.hidden = false;
    this.input.focus();
  }

  clearReply(refocus = false) {
    this.replyTo = null;
    this.replyBar.hidden = true;
    if (refocus) this.input.focus();
  }

  showStanding(name, standing) {
    const until = standing.muted;
    const text = standing === "archived" ? "This topic is archived: it is read-only."
      : `You are muted in ${labelOf(name)}${until ? ` until ${clock(until)}` : ""}: you can read, not post or react.`;
    this.readOnlyBar.textContent = text;
    this.readOnlyBar.title = until ? fullTime(until) : "";
    this.readOnlyBar.dataset.reason = standing === "archived" ? "archived" : "muted";
  }

  /** Called when another conversation is opened: typing state and the reply belong to the old one. */
  reset() {
    this.stopTyping();
    this.showError("");
    this.clearReply();
    this.mentions.close();
  }

  /** standing: why I cannot post here ("archived", {muted: Date|null}) or null. */
  render(state, typingText, standing = null) {
    const name = state.currentName;
    const topic = state.currentTopic;
    const member = Boolean(name) && (isDirect(name) || Boolean(topic?.subscribed));
    const canPost = member && !standing;
    this.el.hidden = !name;
    this.form.hidden = !canPost;
    this.joinBar.hidden = !name || member;
    this.readOnlyBar.hidden = !member || !standing;
    this.replyBar.hidden = !this.replyTo || !canPost;
    if (name && !member) {
      const removed = state.removed.get(name.toLowerCase());
      this.joinText.textContent = removed === undefined
        ? `You are looking at ${labelOf(name)}. Join to post and get its messages.`
        : `You were removed from ${labelOf(name)}${removed ? `: ${removed.replace(/[.!?]?$/, (end) => end || ".")}` : "."} Join to come back, if you may.`;
      this.joinButton.textContent = `Join ${labelOf(name)}`;
    }
    if (member && standing) this.showStanding(name, standing);
    const placeholder = name ? `Message ${isDirect(name) ? peerOf(name) : labelOf(name)}` : "";
    if (this.input.placeholder !== placeholder) this.input.placeholder = placeholder;
    this.typingLine.textContent = typingText;
    this.typingLine.classList.toggle("visible", Boolean(typingText));
  }
}
