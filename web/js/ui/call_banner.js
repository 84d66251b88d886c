// The incoming-call banner: who calls, where, Join and Decline. An alert region, so a screen
// reader says it at once; it does not take the focus from what is being typed (Tab reaches it:
// it comes first in the chat screen).
import { h, icon } from "./dom.js";
import { CALL_ICONS } from "./call_icons.js";

export class CallBanner {
  /** actions: join(), decline() */
  constructor(actions) {
    this.text = h("p", { class: "call-banner-text", "data-testid": "call-banner-text" });
    this.el = h("div", { class: "call-banner", role: "alert", "data-testid": "call-banner", hidden: true },
      h("span", { class: "call-banner-icon", "aria-hidden": "true" }, icon(CALL_ICONS.phone)),
      this.text,
      h("div", { class: "call-banner-actions" },
        h("button", { class: "btn btn-primary btn-small", type: "button", "data-testid": "call-banner-join", onclick: () => actions.join() }, "Join"),
        h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "call-banner-decline", onclick: () => actions.decline() }, "Decline")));
  }

  /** incoming: {who, where, video} of the call ringing, or null. */
  render(incoming) {
    this.el.hidden = !incoming;
    if (!incoming) return;
    const text = `${incoming.who} is calling${incoming.where ? ` in ${incoming.where}` : ""}${incoming.video ? " (video)" : ""}`;
    if (this.text.textContent !== text) this.text.textContent = text;
  }
}
