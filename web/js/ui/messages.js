// The message pane: bubbles in seq order with day separators, pending sends,
// inline edit and delete, read marks, and paging back through history when
// scrolled to the top, or forward across a gap (a jump to a search hit far back
// leaves one between it and the newest page). Each message has its actions (reply,
// thread, react, pin, edit, delete, report), its quote, reactions and thread summary;
// a system message is a centred line, and so is a run of messages of users I block
// (folded until shown).
import { customEmojiVersion } from "../emoji.js";
import { renderBody } from "../markdown.js";
import { mentionsMe } from "../mentions.js";
import { canModerate } from "../ranks.js";
import { isDirect, labelOf } from "../targets.js";
import { people } from "../people.js";
import { fill, h, icon, ICONS, reconcile } from "./dom.js";
import { personAvatar, personName } from "./people_parts.js";
import { clock, dayKey, dayLabel, fullTime, parseTime } from "./format.js";
import { messageBody, pinnedMark, replyQuote, systemLine, threadMark, threadSummary } from "./message_parts.js";
import { messageFiles } from "./file_parts.js";
import { previewCards } from "./preview_cards.js";
import { bodyClass } from "./rich_body.js";
import { focusPicker, reactButton, reactionChips, reactionPicker } from "./reactions.js";
import { foldItem } from "./safety_parts.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const NEAR_TOP_PX = 120;
const NEAR_BOTTOM_PX = 48;

export class MessageList {
  /**
   * actions: loadOlder(), fillGap(afterSeq, beforeSeq), edit(id, body), remove(id), retry(clientId), discard(clientId),
   * scrolled(), rerender(), reply(message), openThread(message), react(message, emoji),
   * togglePin(message), notHeld(), report(message), standing(): why I cannot post (or null),
   * folds(message): a message of a user I block, removePreviews(message): the sender drops its link previews
   */
  constructor(actions) {
    this.actions = actions;
    this.editingId = null;
    this.confirmingId = null;
    this.pickerId = null; // the message whose reaction picker is open
    this.foundId = null; // the message a search hit led to: marked until another is
    this.unfolded = new Set(); // ids of folded messages shown anyway
    this.items = h("div", { class: "message-items" });
    this.jump = h("button", {
      class: "jump-latest", type: "button", "data-testid": "jump-latest", hidden: true,
      onclick: () => this.scrollToBottom(),
    }, icon(ICONS.down), "New messages");
    this.scroller = h("div", {
      class: "messages", "data-testid": "messages", role: "log", "aria-live": "polite",
      "aria-label": "Messages", tabindex: "0",
    }, this.items);
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.el = h("div", { class: "messages-wrap" }, this.scroller, this.jump);
  }

  get atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }

  onScroll() {
    if (this.atBottom) this.jump.hidden = true;
    if (this.scroller.scrollTop < NEAR_TOP_PX) this.actions.loadOlder();
    this.actions.scrolled();
  }

  /** options.switched: a different conversation was opened; options.bottom: follow the end. */
  render(state, { switched = false, bottom = false } = {}) {
    const conv = state.currentConversation;
    if (switched) {
      this.editingId = this.confirmingId = this.pickerId = null;
      this.unfolded.clear();
    }
    const stick = switched || bottom || this.atBottom;
    const anchor = stick ? null : this.visibleAnchor();
    const before = this.lastKey;
    reconcile(this.items, conv ? this.itemsOf(state, conv) : [welcomeItem()]);
    this.lastKey = this.items.lastElementChild?.dataset.key;
    if (stick) this.scrollToBottom();
    else if (anchor?.el.isConnected) this.scroller.scrollTop = anchor.el.offsetTop - anchor.offset;
    if (!stick && before !== this.lastKey && conv) this.jump.hidden = false;
    if (conv && conv.loaded && conv.hasMore && this.scroller.scrollHeight <= this.scroller.clientHeight) {
      this.actions.loadOlder(); // not enough to scroll: fetch more right away
    }
  }

  visibleAnchor() {
    const top = this.scroller.scrollTop;
    for (const el of this.items.children) {
      // Only messages keep their place: the top line and day separators may move.
      if (!el.dataset.key.startsWith("m")) continue;
      if (el.offsetTop + el.offsetHeight > top) return { el, offset: el.offsetTop - top };
    }
    return null;
  }

  itemsOf(state, conv) {
    const items = [this.historyTop(conv)];
    const messages = conv.sorted();
    const seenAt = readPositions(conv, messages, state);
    const topic = state.currentTopic;
    const owner = !isDirect(conv.name) && canModerate(state.roleIn(conv.name)); // deletes any message
    const canPost = (isDirect(conv.name) || Boolean(topic?.subscribed)) && !this.actions.standing();
    const canPin = canPost && state.canPin(conv.name);
    let prev = null;
    let lastSeq = null;
    let fold = null; // the run of folded messages being gathered
    let day = null;
    for (const message of messages) {
      const gap = lastSeq !== null && message.seq > lastSeq + 1; // seq is gapless: those are not held
      if (gap) { items.push(this.gapItem(lastSeq, message.seq)); fold = null; }
      lastSeq = message.seq;
      const date = parseTime(message.created_at);
      if (dayKey(date) !== day) { // once per day (a system line or a fold between does not repeat it)
        day = dayKey(date);
        items.push(dayItem(date));
        fold = null;
      }
      if (this.actions.folds(message) && !this.unfolded.has(message.id)) {
        if (!fold) items.push(fold = { messages: [] });
        fold.messages.push(message);
        prev = null;
        continue;
      }
      fold = null;
      if (message.type === "system") {
        items.push(systemItem(message));
        prev = null;
        continue;
      }
      const grouped = Boolean(!gap && prev && prev.message.sender === message.sender && !prev.message.deleted
        && prev.message.thread === message.thread && !message.reply_to
        && date && prev.date && date - prev.date < GROUP_WINDOW_MS && dayKey(prev.date) === dayKey(date));
      items.push(this.messageItem(message, {
        state, grouped, date, owner, canPost, canPin, direct: isDirect(conv.name), seenBy: seenAt.get(message.id),
      }));
      prev = { message, date };
    }
    for (const pending of conv.pending.values()) items.push(this.pendingItem(pending, state));
    return items.map((item) => (item.messages ? foldItem(item.messages, (ids) => this.unfold(ids)) : item));
  }

  historyTop(conv) {
    const empty = conv.messages.size === 0 && conv.pending.size === 0;
    const text = conv.loadingOlder || !conv.loaded ? "Loading messages…"
      : conv.hasMore ? "Scroll up for older messages"
      : `This is the beginning of ${labelOf(conv.name)}.${empty ? " No messages yet: say hello!" : ""}`;
    return {
      key: "top",
      create: () => h("div", { class: "history-top", "data-testid": "history-top" }),
      update: (el) => { el.textContent = text; el.dataset.state = conv.hasMore ? "more" : "start"; },
    };
  }

  /** Messages between two held ones not loaded yet: a button loads the next of them. */
  gapItem(afterSeq, beforeSeq) {
    const missing = beforeSeq - afterSeq - 1;
    return {
      key: `g${afterSeq}`,
      create: () => h("div", { class: "history-gap" }),
      update: (el) => {
        if (el.dataset.sig === String(missing)) return;
        el.dataset.sig = String(missing);
        fill(el, h("button", {
          class: "link-btn", type: "button", "data-testid": "history-gap",
          onclick: async () => { // the button goes: the first message it brought takes the focus
            await this.actions.fillGap(afterSeq, beforeSeq);
            this.items.querySelector(`[data-seq="${afterSeq + 1}"]`)?.focus({ preventScroll: true });
          },
        }, `${missing === 1 ? "1 more message" : `${missing} more messages`} here: show them`));
      },
    };
  }

  messageItem(message, ctx) {
    const own = ctx.state.isMe(message.sender);
    const mentioned = mentionsMe(message, ctx.state.me);
    const mode = this.editingId === message.id ? "edit" : this.confirmingId === message.id ? "confirm" : "view";
    const picker = this.pickerId === message.id && mode === "view";
    const sig = JSON.stringify([message.body, message.edited_at, message.deleted, ctx.grouped, own,
      ctx.seenBy, ctx.owner, mode, picker, ctx.canPost, ctx.canPin, mentioned, message.pinned, this.foundId === message.id,
      message.reply_to, message.thread, message.thread_summary, message.reactions, message.mentions,
      (message.files ?? []).map((file) => file.id), message.previews ?? [], people().sigOf(message.sender),
      customEmojiVersion()]);
    return {
      key: `m${message.id}`,
      create: () => h("article", { "data-testid": "message", tabindex: "-1" }),
      update: (el) => {
        if (el.dataset.sig === sig) return;
        el.dataset.sig = sig;
        this.fillMessage(el, message, { ...ctx, own, mode, mentioned, picker });
      },
    };
  }

  fillMessage(el, message, ctx) {
    el.className = ["msg", ctx.own ? "own" : "other", ctx.grouped ? "grouped" : "",
      message.deleted ? "deleted" : "", ctx.mentioned ? "mentioned" : "", message.pinned ? "pinned" : "",
      this.foundId === message.id ? "found" : ""].filter(Boolean).join(" ");
    Object.assign(el.dataset, { id: String(message.id), seq: String(message.seq), sender: message.sender, state: "sent",
      mentioned: String(ctx.mentioned), pinned: String(Boolean(message.pinned)), thread: String(message.thread ?? ""), bot: String(Boolean(message.bot)) });
    if (message.client_id) el.dataset.clientId = message.client_id;
    el.setAttribute("aria-label", `${message.sender} at ${clock(ctx.date)}`);
    const body = ctx.mode === "edit" ? this.editBox(message) : messageBody(message);
    const open = (m) => this.actions.openThread(m);
    const bubble = h("div", { class: "bubble" },
      ctx.own || ctx.grouped ? null : h("div", { class: "msg-sender", "data-testid": "message-sender" },
        h("button", { class: "sender-btn", type: "button", onclick: () => this.actions.profile?.(message.sender) }, personName(message.sender)),
        message.bot ? h("span", { class: "bot-badge", "data-testid": "bot-badge", title: "A bot account" }, "BOT") : null),
      replyQuote(message.reply_to, (id) => this.jumpTo(id)),
      message.body || message.deleted || !message.files?.length ? body : null,
      messageFiles(message),
      previewCards(message, { canRemove: ctx.own, remove: (m) => this.actions.removePreviews(m) }),
      h("div", { class: "msg-meta" },
        pinnedMark(message),
        h("time", { datetime: message.created_at ?? "", title: fullTime(ctx.date) }, clock(ctx.date)),
        message.edited_at && !message.deleted ? h("span", { class: "edited", "data-testid": "edited-mark", title: `edited ${fullTime(parseTime(message.edited_at))}` }, "edited") : null),
      ctx.mode === "confirm" ? this.confirmBox(message) : null);
    fill(el,
      ctx.own ? null : h("div", { class: "msg-avatar" }, ctx.grouped ? null : personAvatar(message.sender, "", () => this.actions.profile?.(message.sender))),
      h("div", { class: "msg-column" }, threadMark(message, open), bubble,
        reactionChips(message, (m, emoji) => this.actions.react(m, emoji), { canReact: ctx.canPost }),
        ctx.picker ? this.pickerOf(message) : null,
        threadSummary(message, open),
        ctx.seenBy?.length ? h("div", { class: "read-mark", "data-testid": "read-mark" }, `Seen by ${ctx.seenBy.join(", ")}`) : null),
      this.actionsFor(message, ctx));
  }

  actionsFor(message, ctx) {
    if (message.deleted || ctx.mode !== "view") return null;
    const button = (testid, label, iconPath, onclick) => h("button", {
      class: "icon-btn small", type: "button", "data-testid": testid, "aria-label": label, title: label, onclick,
    }, icon(iconPath));
    const buttons = [
      ctx.canPost ? button("reply", "Reply", ICONS.reply, () => this.actions.reply(message)) : null,
      ctx.canPost && message.thread == null ? button("thread", "Reply in thread", ICONS.thread, () => this.actions.openThread(message)) : null,
      ctx.canPost ? reactButton(() => this.openPicker(message.id)) : null,
      ctx.canPin ? button("pin", message.pinned ? "Unpin message" : "Pin message", ICONS.pin, () => this.actions.togglePin(message)) : null,
      ctx.own ? button("edit", "Edit message", ICONS.edit, () => this.startEdit(message.id)) : null,
      ctx.own || ctx.owner ? button("delete", "Delete message", ICONS.trash, () => this.setMode(null, message.id)) : null,
      ctx.own ? null : button("report", "Report message", ICONS.flag, () => this.actions.report(message)),
    ].filter(Boolean);
    if (buttons.length === 0) return null;
    return h("div", { class: "msg-actions", role: "toolbar", "aria-label": "Message actions" }, buttons);
  }

  /** Show folded messages of a blocked user (until another conversation is opened). */
  unfold(ids) {
    for (const id of ids) this.unfolded.add(id);
    this.actions.rerender();
    this.itemEl(ids[0])?.focus();
  }

  setMode(editingId, confirmingId) {
    this.editingId = editingId;
    this.confirmingId = confirmingId;
    this.pickerId = null;
    this.actions.rerender();
  }

  /** The open picker, kept while it stays open (a re-render keeps what was typed in its search box). */
  pickerOf(message) {
    if (this.pickerEl?.dataset.messageId !== String(message.id)) {
      this.pickerEl = reactionPicker(message, (emoji) => this.pick(message, emoji), () => this.closePicker(message.id));
      this.pickerEl.dataset.messageId = String(message.id);
    }
    return this.pickerEl;
  }

  openPicker(id) {
    this.pickerEl = null;
    this.pickerId = this.pickerId === id ? null : id;
    this.actions.rerender();
    const el = this.itemEl(id);
    if (el && this.pickerId === id) focusPicker(el);
  }

  closePicker(id) {
    this.pickerId = null;
    this.actions.rerender();
    this.itemEl(id)?.querySelector("[data-testid=react]")?.focus();
  }

  async pick(message, emoji) {
    this.pickerId = null;
    this.actions.rerender();
    await this.actions.react(message, emoji);
    this.itemEl(message.id)?.querySelector("[data-testid=react]")?.focus();
  }

  itemEl(id) {
    return this.items.querySelector(`[data-key="m${id}"]`);
  }

  /**
   * Show a message (a quote or a search hit was clicked): scrolled to, focused and
   * flashed when it is held; found: it stays marked (a search hit) until another is.
   */
  jumpTo(id, { found = false } = {}) {
    if (found && this.foundId !== id) {
      this.foundId = id;
      this.actions.rerender();
    }
    const el = this.itemEl(id);
    if (!el) return this.actions.notHeld();
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }

  startEdit(id) {
    this.setMode(id, null);
    const input = this.items.querySelector("[data-testid=edit-input]");
    input?.focus();
    input?.setSelectionRange(input.value.length, input.value.length);
  }

  editBox(message) {
    const input = h("textarea", { class: "edit-input", "data-testid": "edit-input", "aria-label": "Edit message", rows: "2", maxlength: "4000" });
    input.value = message.body;
    const error = h("p", { class: "form-error small", role: "alert", hidden: true });
    const cancel = () => this.setMode(null, null);
    const save = async () => {
      const body = input.value;
      if (!body.trim()) { error.textContent = "A message cannot be empty."; error.hidden = false; return; }
      if (body === message.body) return cancel();
      try {
        await this.actions.edit(message.id, body);
        cancel();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      }
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); cancel(); }
      else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); save(); }
    });
    return h("div", { class: "edit-box" }, input, error,
      h("div", { class: "inline-row end" },
        h("span", { class: "hint" }, "Enter to save · Esc to cancel"),
        h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "edit-cancel", onclick: cancel }, "Cancel"),
        h("button", { class: "btn btn-primary btn-small", type: "button", "data-testid": "edit-save", onclick: save }, "Save")));
  }

  confirmBox(message) {
    const error = h("p", { class: "form-error small", role: "alert", hidden: true });
    const confirm = async () => {
      try {
        await this.actions.remove(message.id);
        this.setMode(null, null);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      }
    };
    return h("div", { class: "confirm-box", role: "group", "aria-label": "Confirm delete" },
      h("span", {}, "Delete this message?"),
      h("button", { class: "btn btn-danger btn-small", type: "button", "data-testid": "confirm-delete", onclick: confirm }, "Delete"),
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "cancel-delete", onclick: () => this.setMode(null, null) }, "Cancel"),
      error);
  }

  pendingItem(pending) {
    const sig = JSON.stringify([pending.status, pending.error, pending.replyTo?.id]);
    return {
      key: `p${pending.clientId}`,
      create: () => h("article", { "data-testid": "message", class: "msg own pending" }),
      update: (el) => {
        if (el.dataset.sig === sig) return;
        el.dataset.sig = sig;
        el.className = `msg own ${pending.status}`;
        Object.assign(el.dataset, { clientId: pending.clientId, state: pending.status, sender: pending.sender });
        const status = pending.status === "failed"
          ? h("div", { class: "send-status failed", role: "alert" },
            h("span", { "data-testid": "send-error" }, `Not sent: ${pending.error}`),
            h("button", { class: "link-btn", type: "button", "data-testid": "retry", onclick: () => this.actions.retry(pending.clientId) }, "Retry"),
            h("button", { class: "link-btn", type: "button", "data-testid": "discard", onclick: () => this.actions.discard(pending.clientId) }, "Discard"))
          : h("div", { class: "send-status" }, pending.status === "queued" ? "Waiting for the connection…" : "Sending…");
        fill(el, h("div", { class: "msg-column" },
          h("div", { class: "bubble" }, replyQuote(pending.replyTo, (id) => this.jumpTo(id)),
            h("div", { class: bodyClass(), "data-testid": "message-body" }, renderBody(pending.body)),
            (pending.files ?? []).map((file) => h("p", { class: "pending-file small" }, file.name))),
          status));
      },
    };
  }
}

function dayItem(date) {
  const label = dayLabel(date);
  return {
    key: `d${dayKey(date)}`,
    create: () => h("div", { class: "day-sep", role: "separator" }, h("span", {}, label)),
    update: (el) => { el.firstChild.textContent = label; },
  };
}

function systemItem(message) {
  const sig = JSON.stringify([message.body, message.deleted]);
  return {
    key: `m${message.id}`,
    create: () => h("div", { class: "system-row" }),
    update: (el) => {
      if (el.dataset.sig === sig) return;
      el.dataset.sig = sig;
      fill(el, systemLine(message));
    },
  };
}

function welcomeItem() {
  return {
    key: "welcome",
    create: () => h("div", { class: "welcome", "data-testid": "welcome" },
      h("h2", {}, "Welcome to Parley"),
      h("p", {}, "Open a topic from the list, create one, or start a direct conversation.")),
  };
}

/** message id -> readers whose read mark stops at that message (not me, not the sender). */
function readPositions(conv, messages, state) {
  const result = new Map();
  for (const [reader, mark] of conv.readMarks) {
    if (state.isMe(reader)) continue;
    let at = null;
    for (const m of messages) if (m.seq <= mark && !m.deleted && m.type !== "system") at = m;
    if (!at || at.sender === reader) continue;
    result.set(at.id, [...(result.get(at.id) ?? []), reader].sort());
  }
  return result;
}
