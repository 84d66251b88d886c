// The pinned-messages side panel: newest pin first, each with a button to show
// it in the conversation and, for those who may, to unpin it.
import { labelOf } from "../targets.js";
import { avatar, fill, h, icon, ICONS } from "./dom.js";
import { clock, fullTime, parseTime } from "./format.js";
import { customEmojiVersion } from "../emoji.js";
import { messageBody } from "./message_parts.js";

export class PinsPanel {
  /** actions: close(), jump(id), unpin(message) */
  constructor(actions) {
    this.actions = actions;
    this.sub = h("p", { class: "panel-sub" });
    this.list = h("ul", { class: "pin-list", "data-testid": "pin-list" });
    this.empty = h("p", { class: "panel-empty", "data-testid": "pins-empty", hidden: true }, "No pinned messages yet.");
    this.closeButton = h("button", { class: "icon-btn", type: "button", "data-testid": "pins-close", "aria-label": "Close pinned messages", onclick: () => actions.close() }, icon(ICONS.close));
    this.el = h("aside", { class: "side-panel pins-panel", id: "pins-panel", "data-testid": "pins-panel", "aria-label": "Pinned messages", hidden: true },
      h("div", { class: "panel-head" }, h("div", {}, h("h2", { class: "panel-title" }, "Pinned messages"), this.sub), this.closeButton),
      h("div", { class: "panel-scroll" }, this.empty, this.list));
  }

  focus() {
    this.closeButton.focus();
  }

  render(state, open) {
    const conv = state.currentConversation;
    this.el.hidden = !open || !conv;
    if (this.el.hidden) return;
    const pins = conv.pins;
    const canPin = state.canPin(conv.name);
    this.sub.textContent = labelOf(conv.name);
    const sig = JSON.stringify([pins, canPin, customEmojiVersion()]);
    if (this.list.dataset.sig === sig) return;
    this.list.dataset.sig = sig;
    this.empty.hidden = pins == null || pins.length > 0;
    if (pins == null) return fill(this.list, h("li", { class: "panel-empty" }, "Loading…"));
    fill(this.list, pins.map((m) => this.item(m, canPin)));
  }

  item(message, canPin) {
    const date = parseTime(message.created_at);
    return h("li", { class: "pin-item", "data-testid": "pinned-item", "data-id": String(message.id) },
      h("div", { class: "entry" }, avatar(message.sender, "small"),
        h("div", { class: "entry-main" },
          h("div", { class: "entry-head" },
            h("span", { class: "entry-sender" }, message.sender),
            h("time", { datetime: message.created_at ?? "", title: fullTime(date) }, clock(date))),
          messageBody({ ...message, deleted: message.deleted || message.deleted_at != null }),
          h("div", { class: "inline-row" },
            h("button", { class: "link-btn", type: "button", "data-testid": "pinned-jump", onclick: () => this.actions.jump(message.id) }, "Show in conversation"),
            canPin ? h("button", { class: "link-btn", type: "button", "data-testid": "pinned-unpin", "aria-label": `Unpin the message of ${message.sender}`, onclick: () => this.actions.unpin({ ...message, pinned: true }) }, "Unpin") : null))));
  }
}
