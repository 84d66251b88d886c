// The composer: Enter sends, Shift+Enter adds a line; typing notifications are
// sent while the user types; `@` offers the members to mention; a reply shows
// the quoted message above the box until sent or cancelled. For a public topic
// the user has not joined, a join bar takes its place; for an archived topic, or
// one where I am muted, a line saying why I cannot post. Files (section 11): the
// attach button, a pasted or dropped file upload at once (a progress bar on
// each chip, the server's limit checked first); the message goes with the
// uploaded ones, its text then optional.
import { fileLimits, sizeText, uploadFile } from "../files.js";
import { renderInline } from "../markdown.js";
import { labelOf, isDirect, peerOf } from "../targets.js";
import { noteRecent } from "../emoji.js";
import { EmojiAutocomplete, MentionAutocomplete } from "./autocomplete.js";
import { emojiPicker, focusEmojiPicker } from "./emoji_picker.js";
import { h, icon, ICONS } from "./dom.js";
import { formatKey } from "./format_keys.js";
import { clock, fullTime, parseTime } from "./format.js";

const MAX_BODY = 4000;
const TYPING_REPEAT_MS = 3000; // re-announce "typing" while it goes on
const TYPING_IDLE_MS = 2500; // announce "stopped" after this long without a key
const MAX_FILES = 10; // per message
const CLIP = "M20 11l-8.5 8.5a5 5 0 0 1-7-7L13 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L14 7";

export class Composer {
  /** actions: send(body, replyTo, files), typing(bool), join(), editLast(): ArrowUp in the empty box edits my last
   * message (false when there is none), and mentions: {members(query), me(), allowAll()} */
  constructor(actions) {
    this.actions = actions;
    this.replyTo = null; // {id, sender, excerpt}
    this.attachments = []; // {file, status: "uploading"|"done"|"failed", result, bar, el}
    this.fileInput = h("input", { type: "file", multiple: true, hidden: true, "data-testid": "file-input",
      onchange: () => { this.addFiles([...this.fileInput.files]); this.fileInput.value = ""; } });
    this.attachButton = h("button", { class: "icon-btn attach-btn", type: "button", "data-testid": "attach",
      "aria-label": "Attach files", title: "Attach files (or paste or drop them)",
      onclick: () => this.fileInput.click() }, icon(CLIP));
    this.chips = h("ul", { class: "attachments", "data-testid": "attachments", "aria-label": "Files to send", hidden: true });
    this.input = h("textarea", {
      id: "composer", class: "composer-input", "data-testid": "composer", rows: "1",
      "aria-label": "Message", placeholder: "Write a message…", maxlength: String(MAX_BODY),
    });
    this.emojiButton = h("button", { class: "icon-btn emoji-btn", type: "button", "data-testid": "composer-emoji",
      "aria-label": "Insert an emoji", title: "Emoji (or type : and a name)", "aria-haspopup": "dialog", "aria-expanded": "false",
      onclick: () => this.togglePicker() }, icon(ICONS.smile));
    this.picker = null;
    this.sendButton = h("button", { class: "send-btn", type: "submit", "data-testid": "send", "aria-label": "Send message", title: "Send (Enter)" }, icon(ICONS.send));
    this.counter = h("span", { class: "counter", "aria-live": "polite" });
    this.error = h("p", { class: "form-error small composer-error", role: "alert", "data-testid": "composer-error", hidden: true });
    this.form = h("form", { class: "composer", "data-testid": "composer-form", "aria-label": "Send a message" },
      h("label", { for: "composer", class: "sr-only" }, "Message"), this.attachButton, this.fileInput, this.input,
      this.counter, this.emojiButton, this.sendButton);
    this.mentions = new MentionAutocomplete(this.input, actions.mentions);
    this.emoji = new EmojiAutocomplete(this.input);
    this.pickerSlot = h("div", { class: "composer-picker" });
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
      h("div", { class: "composer-stack" }, this.mentions.list, this.emoji.list, this.pickerSlot, this.replyBar, this.chips, this.form), this.joinBar, this.readOnlyBar);
    this.bind();
  }

  bind() {
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.input.addEventListener("keydown", (event) => {
      if (this.mentions.handleKey(event) || this.emoji.handleKey(event) || formatKey(event, this.input)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === "Escape" && this.replyTo) {
        event.preventDefault();
        this.clearReply(true);
      } else if (event.key === "ArrowUp" && !this.input.value && !(event.shiftKey || event.altKey || event.ctrlKey || event.metaKey)
        && this.actions.editLast?.()) {
        event.preventDefault();
      }
    });
    this.input.addEventListener("input", () => {
      this.autosize();
      this.showError("");
      this.updateCounter();
      this.noteTyping();
    });
    this.input.addEventListener("blur", () => this.stopTyping());
    this.input.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (!files.length) return;
      event.preventDefault();
      this.addFiles(files);
    });
    this.el.addEventListener("dragover", (event) => {
      if ([...(event.dataTransfer?.types ?? [])].includes("Files") && !this.form.hidden) event.preventDefault();
    });
    this.el.addEventListener("drop", (event) => {
      const files = [...(event.dataTransfer?.files ?? [])];
      if (!files.length || this.form.hidden) return;
      event.preventDefault();
      this.addFiles(files);
    });
  }

  /** The emoji picker above the box: a pick is inserted at the caret, and the focus goes back to the box. */
  togglePicker() {
    if (this.picker) return this.closePicker(true);
    this.picker = emojiPicker({
      label: "Insert an emoji", verb: "Insert", testid: "composer-picker",
      pick: (entry) => { noteRecent(entry.emoji); this.closePicker(false); this.insert(entry.emoji); },
      close: () => this.closePicker(true),
    });
    this.pickerSlot.replaceChildren(this.picker);
    this.emojiButton.setAttribute("aria-expanded", "true");
    focusEmojiPicker(this.picker);
  }

  closePicker(toButton) {
    if (!this.picker) return;
    this.picker = null;
    this.pickerSlot.replaceChildren();
    this.emojiButton.setAttribute("aria-expanded", "false");
    if (toButton) this.emojiButton.focus();
  }

  /** Put text at the caret (a space before it when it would touch a word), then focus the box there. */
  insert(text) {
    const { value } = this.input;
    const start = this.input.selectionStart ?? value.length;
    const end = this.input.selectionEnd ?? start;
    const before = start > 0 && !/\s$/.test(value.slice(0, start)) ? " " : "";
    const piece = `${before}${text}`;
    this.input.value = value.slice(0, start) + piece + value.slice(end);
    const caret = start + piece.length;
    this.input.focus();
    this.input.setSelectionRange(caret, caret);
    this.input.dispatchEvent(new Event("input"));
  }

  /** Upload each file at once (the server's limit checked first); a chip per file shows its progress. */
  async addFiles(files) {
    this.showError("");
    const { max_bytes: maxBytes } = await fileLimits();
    for (const file of files) {
      if (this.attachments.length >= MAX_FILES) return this.showError(`A message has at most ${MAX_FILES} files.`);
      if (file.size > maxBytes) {
        this.showError(`${file.name || "That file"} is too large: at most ${sizeText(maxBytes)}.`);
        continue;
      }
      this.startUpload(file);
    }
  }

  startUpload(file) {
    const bar = h("progress", { class: "upload-progress", max: "1", value: "0", "data-testid": "upload-progress",
      "aria-label": `Uploading ${file.name || "image"}` });
    const entry = { file, status: "uploading", result: null, bar, el: null };
    const remove = h("button", { class: "icon-btn small", type: "button", "data-testid": "attachment-remove",
      "aria-label": `Remove ${file.name || "image"}`, onclick: () => this.removeAttachment(entry) }, icon(ICONS.close));
    entry.el = h("li", { class: "attachment", "data-testid": "attachment", "data-status": "uploading" },
      h("span", { class: "file-name" }, file.name || "pasted image"), h("span", { class: "file-size" }, sizeText(file.size)),
      bar, remove);
    this.attachments.push(entry);
    this.renderChips();
    uploadFile(file, (fraction) => { bar.value = fraction; }).then((result) => {
      entry.status = "done";
      entry.result = result;
      bar.value = 1;
    }, (err) => {
      entry.status = "failed";
      this.showError(`${file.name || "The image"} was not uploaded: ${err.message}`);
    }).finally(() => {
      entry.el.dataset.status = entry.status;
      if (entry.status === "done") entry.el.dataset.fileId = entry.result.id;
    });
  }

  removeAttachment(entry) {
    this.attachments = this.attachments.filter((other) => other !== entry);
    this.renderChips();
    this.input.focus();
  }

  clearAttachments() {
    this.attachments = [];
    this.renderChips();
  }

  renderChips() {
    this.chips.replaceChildren(...this.attachments.map((entry) => entry.el));
    this.chips.hidden = !this.attachments.length;
  }

  submit() {
    const body = this.input.value;
    if (this.attachments.some((entry) => entry.status === "uploading")) {
      return this.showError("Wait for the files to finish uploading.");
    }
    const files = this.attachments.filter((entry) => entry.status === "done").map((entry) => entry.result);
    if (!body.trim() && !files.length) return;
    if ([...body].length > MAX_BODY) return this.showError(`A message has at most ${MAX_BODY} characters.`);
    this.stopTyping();
    this.actions.send(body.trim() ? body : "", this.replyTo, files);
    this.clearAttachments();
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
      h("span", { class: "reply-bar-excerpt md", "data-testid": "reply-preview-excerpt" },
        renderInline(this.replyTo.excerpt.replace(/\s*\n\s*/g, " "))));
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

  /** The box takes the focus (a conversation was opened), or the join button when I may not post yet. */
  focus() {
    if (!this.form.hidden) this.input.focus({ preventScroll: true });
    else if (!this.joinBar.hidden) this.joinButton.focus({ preventScroll: true });
  }

  /** Called when another conversation is opened: typing state and the reply belong to the old one. */
  reset() {
    this.stopTyping();
    this.showError("");
    this.clearReply();
    this.clearAttachments();
    this.mentions.close();
    this.emoji.close();
    this.closePicker(false);
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
        : removedText(labelOf(name), removed);
      this.joinButton.textContent = `Join ${labelOf(name)}`;
    }
    if (member && standing) this.showStanding(name, standing);
    const placeholder = name ? `Message ${isDirect(name) ? peerOf(name) : labelOf(name)}` : "";
    if (this.input.placeholder !== placeholder) this.input.placeholder = placeholder;
    this.typingLine.textContent = typingText;
    this.typingLine.classList.toggle("visible", Boolean(typingText));
  }
}

/** Why I may not be in a topic any more: a kick (join again), or a ban and until when. */
function removedText(label, { reason, banned, until }) {
  const why = reason ? `: ${reason.replace(/[.!?]?$/, (end) => end || ".")}` : ".";
  if (!banned) return `You were removed from ${label}${why} Join to come back, if you may.`;
  const end = parseTime(until);
  const when = end ? `until ${fullTime(end)}` : "until a moderator lifts the ban";
  return `You were banned from ${label}${why} You cannot join ${when}.`;
}
