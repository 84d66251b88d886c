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
import { MessageKeys } from "./message_keys.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const NEAR_TOP_PX = 120;
const NEAR_BOTTOM_PX = 48;
const LINE_MARGIN_PX = 8; // a conversation opened at its "New messages" line shows it this far from the top

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
    this.keys = new MessageKeys(this.items); // one Tab stop, arrows inside
    this.jump = h("button", {
      class: "jump-latest", type: "button", "data-testid": "jump-latest", hidden: true,
      onclick: () => this.scrollToBottom(),
    }, icon(ICONS.down), "Jump to latest");
    this.scroller = h("div", {
      class: "messages", "data-testid": "messages", role: "log", "aria-live": "polite",
      "aria-label": "Messages",
    }, this.items);
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.el = h("div", { class: "messages-wrap" }, this.scroller, this.jump);
  }

  get atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  /** The message in the Tab order takes the focus (the skip link), or the list when it has none. */
  focus() {
    const message = this.items.querySelector("article[tabindex='0']");
    if (message) return message.focus();
    this.scroller.tabIndex = -1;
    this.scroller.focus();
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }

  onScroll() {
    this.jump.hidden = this.atBottom;
    if (this.scroller.scrollTop < NEAR_TOP_PX) this.actions.loadOlder();
    this.actions.scrolled();
  }

  /**
   * options.switched: a different conversation was opened; options.bottom: follow the end;
   * options.landing: it has loaded, show it at its "New messages" line or else at the end.
   */
  render(state, { switched = false, bottom = false, landing = false } = {}) {
    const conv = state.currentConversation;
    if (switched) {
      this.editingId = this.confirmingId = this.pickerId = null;
      this.unfolded.clear();
      this.keys.reset();
    }
    const stick = switched || bottom || this.atBottom;
    const anchor = stick ? null : this.visibleAnchor();
    reconcile(this.items, conv ? this.itemsOf(state, conv) : [welcomeItem()]);
    this.keys.rove();
    if (landing) this.land();
    else if (stick) this.scrollToBottom();
    else if (anchor?.el.isConnected) this.scroller.scrollTop = anchor.el.offsetTop - anchor.offset;
    this.jump.hidden = !conv || this.atBottom;
    if (conv && conv.loaded && conv.hasMore && this.scroller.scrollHeight <= this.scroller.clientHeight) {
      this.actions.loadOlder(); // not enough to scroll: fetch more right away
    }
  }

  /** At the "New messages" line when what follows it is more than a screenful, else at the end. */
  land() {
    const line = this.items.querySelector("[data-testid=unread-line]");
    const top = line ? this.offsetOf(line) - LINE_MARGIN_PX : null;
    if (top !== null && this.scroller.scrollHeight - top > this.scroller.clientHeight) this.scroller.scrollTop = top;
    else this.scrollToBottom();
  }

  /** An element's distance from the top of the scrolled content. */
  offsetOf(el) {
    return el.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top + this.scroller.scrollTop;
  }

  /** The seq of the newest message whose bottom is in view (what the reader has seen), or null. */
  lastSeenSeq() {
    const bottom = this.scroller.getBoundingClientRect().bottom + 1;
    const seqs = this.items.querySelectorAll("[data-seq]");
    for (let i = seqs.length - 1; i >= 0; i--) {
      if (seqs[i].getBoundingClientRect().bottom <= bottom) return Number(seqs[i].dataset.seq);
    }
    return null;
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
    let line = conv.newSince ?? null; // the read mark when the conversation was opened: the line follows it
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
      if (line !== null && message.seq > line && countsAsUnread(message, state)) {
        items.push(unreadLine());
        line = fold = null;
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
    el.setAttribute("aria-label", [`${message.sender} at ${clock(ctx.date)}`, // in words what colours show
      ctx.mentioned ? "mentions you" : null, message.pinned && !message.deleted ? "pinned" : null].filter(Boolean).join(", "));
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

  /** ArrowUp in an empty composer: edit my newest message here; false when there is none. */
  editLast(state) {
    const mine = state.currentConversation?.sorted().findLast((m) => state.isMe(m.sender) && !m.deleted && m.type !== "system");
    if (!mine || !this.itemEl(mine.id)) return false;
    this.startEdit(mine.id);
    return true;
  }

  startEdit(id) {
    const from = document.activeElement; // the focus goes back there when the edit ends
    this.editReturn = from?.closest?.("[data-testid=message]") ? null : from;
    this.setMode(id, null);
    const input = this.items.querySelector("[data-testid=edit-input]");
    input?.focus();
    input?.setSelectionRange(input.value.length, input.value.length);
  }

  editBox(message) {
    const input = h("textarea", { class: "edit-input", "data-testid": "edit-input", "aria-label": "Edit message", rows: "2", maxlength: "4000" });
    input.value = message.body;
    const error = h("p", { class: "form-error small", role: "alert", hidden: true });
    const cancel = () => {
      this.setMode(null, null);
      const back = this.editReturn?.isConnected ? this.editReturn : this.itemEl(message.id);
      this.editReturn = null;
      back?.focus();
    };
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

/** Where reading stopped: it stays until another conversation is opened. */
function unreadLine() {
  return {
    key: "new",
    create: () => h("div", { class: "unread-line", "data-testid": "unread-line", role: "separator" },
      h("span", {}, "New messages")),
  };
}

/** What the server counts in `unread`: not mine, not a system line, not of someone I block. */
export function countsAsUnread(message, state) {
  return !state.isMe(message.sender) && message.type !== "system" && !message.blocked && !message.deleted;
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
