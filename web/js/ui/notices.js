// The connection banner and short-lived notices (toasts).
import { h } from "./dom.js";

const BANNER_TEXT = {
  connecting: "Connecting…",
  offline: "You are offline. Reconnecting…",
  reconnected: "Reconnected.",
};
const RECONNECTED_SHOWN_MS = 3000;
const CONNECTING_DELAY_MS = 800;
const TOAST_SHOWN_MS = 5000;

export class Banner {
  constructor(el) {
    this.el = el;
  }

  /** state: connecting | online | offline | reconnected | hidden */
  show(state) {
    clearTimeout(this.timer);
    if (state === "connecting" && this.el.hidden) {
      // A quick connection should not flash a banner.
      this.timer = setTimeout(() => this.render(state), CONNECTING_DELAY_MS);
      return;
    }
    this.render(state);
  }

  render(state) {
    const text = BANNER_TEXT[state];
    this.el.dataset.state = state;
    this.el.textContent = text ?? "";
    this.el.hidden = !text;
    if (state === "reconnected") {
      this.timer = setTimeout(() => { this.el.hidden = true; this.el.dataset.state = "online"; }, RECONNECTED_SHOWN_MS);
    }
  }
}

export class Toasts {
  constructor(el) {
    this.el = el;
  }

  /** kind: "info" | "error" */
  show(text, kind = "info") {
    const toast = h("div", { class: `toast ${kind}`, "data-testid": "toast", "data-kind": kind, role: kind === "error" ? "alert" : "status" }, text);
    this.el.append(toast);
    setTimeout(() => toast.remove(), TOAST_SHOWN_MS);
  }

  error(err) {
    this.show(err?.message ?? String(err), "error");
  }

  clear() {
    this.el.replaceChildren();
  }
}
