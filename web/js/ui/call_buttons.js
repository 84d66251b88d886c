// The conversation header's call controls (PROTOCOL.md section 18): an audio and a video call
// button where no call runs; a running call's pill (how many are in it) with Join; "In call"
// when this page is in it.
import { h, icon } from "./dom.js";
import { CALL_ICONS } from "./call_icons.js";
import { plural } from "./format.js";

export class CallButtons {
  /** actions: start(media), join(call) */
  constructor(actions) {
    this.actions = actions;
    this.call = null;
    this.audio = h("button", { class: "icon-btn", type: "button", "data-testid": "call-audio", "aria-label": "Start an audio call",
      title: "Start an audio call", onclick: () => actions.start("audio") }, icon(CALL_ICONS.phone));
    this.video = h("button", { class: "icon-btn", type: "button", "data-testid": "call-video", "aria-label": "Start a video call",
      title: "Start a video call", onclick: () => actions.start("video") }, icon(CALL_ICONS.video));
    this.count = h("span", { class: "call-pill-text", "data-testid": "call-running" });
    this.join = h("button", { class: "btn btn-primary btn-small", type: "button", "data-testid": "call-join",
      onclick: () => this.call && actions.join(this.call) }, "Join");
    this.pill = h("span", { class: "call-pill", role: "status" }, icon(CALL_ICONS.phone), this.count, this.join);
    this.el = h("span", { class: "call-buttons" }, this.pill, this.audio, this.video);
  }

  /**
   * able: this conversation may have a call (a topic I am in, a started direct conversation);
   * call: the one running there (or null); mine: this page is in it.
   */
  render({ able, call, mine }) {
    this.call = call;
    this.el.hidden = !able;
    this.audio.hidden = this.video.hidden = Boolean(call);
    this.pill.hidden = !call;
    this.join.hidden = !call || mine;
    if (!call) return;
    const people = plural(call.participants?.length ?? 0, "person", "people");
    const kind = call.media === "video" ? "Video call" : "Call";
    this.count.textContent = mine ? "In call" : `${kind} · ${people}`;
    this.join.setAttribute("aria-label", `Join the ${kind.toLowerCase()}`);
  }
}
