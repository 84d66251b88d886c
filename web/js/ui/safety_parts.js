// The parts of blocking and reporting the message list uses: the folded line
// that stands for messages of a user I block ("2 messages from a blocked user",
// a button that shows them) and the dialog to report a message.
import { MAX_REASON } from "../safety.js";
import { openDialog } from "./dialog.js";
import { h } from "./dom.js";
import { plural } from "./format.js";

/** A reconcile item for a run of folded messages; show(ids) unfolds them. */
export function foldItem(messages, show) {
  const ids = messages.map((m) => m.id);
  const text = `${plural(ids.length, "message")} from a blocked user`;
  const sig = JSON.stringify([ids, messages.map((m) => m.blocked === true)]);
  return {
    key: `f${ids[0]}`,
    create: () => h("div", { class: "system-row" }),
    update: (el) => {
      if (el.dataset.sig === sig) return;
      el.dataset.sig = sig;
      el.replaceChildren(h("button", {
        class: "system-line fold", type: "button", "data-testid": "folded", "data-count": String(ids.length),
        "data-blocked": String(messages.every((m) => m.blocked === true)),
        "aria-label": `${text}. Show ${ids.length === 1 ? "it" : "them"}.`, title: "Show", onclick: () => show(ids),
      }, text, h("span", { class: "fold-show", "aria-hidden": "true" }, "Show")));
    },
  };
}

/** Ask for a reason (1-500 characters), then report(reason). */
export function reportDialog(message, report) {
  openDialog({
    title: "Report this message",
    text: `The operators will see this message of ${message.sender} and your reason. Nobody else is told.`,
    fields: [{ name: "reason", label: "Reason", kind: "textarea", required: true, maxlength: MAX_REASON }],
    submit: "Report", danger: true, testid: "report-dialog",
  }, ({ reason }) => report(message.id, reason));
}
