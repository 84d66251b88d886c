// The devices menu: which microphone and which camera calls use on this browser (kept in
// localStorage by call_media.js). A change applies at once to the call in progress.
import { chooseDevices, chosenDevices, listDevices } from "../call_media.js";
import { h } from "./dom.js";

/** Open the menu; switched(kind) is called when the microphone ("audio") or camera ("video") changes. */
export async function openCallDevices(switched) {
  const found = await listDevices().catch(() => ({ audio: [], video: [] }));
  const chosen = chosenDevices();
  const select = (kind, label) => {
    const id = `call-device-${kind}`;
    const options = [h("option", { value: "" }, "The browser's default"),
      ...found[kind].map((d) => h("option", { value: d.id, selected: d.id === chosen[kind] }, d.label))];
    const el = h("select", { id, "data-testid": id, onchange: () => {
      chooseDevices({ [kind]: el.value || null });
      switched(kind);
    } }, options);
    return h("div", { class: "field" }, h("label", { for: id }, label), el);
  };
  const close = h("button", { class: "btn btn-primary btn-small", type: "button", "data-testid": "call-devices-close" }, "Done");
  const dialog = h("dialog", { class: "dialog", "data-testid": "call-devices-dialog", "data-session": "true", "aria-labelledby": "call-devices-title" },
    h("div", { class: "dialog-form" },
      h("h2", { class: "dialog-title", id: "call-devices-title" }, "Call devices"),
      select("audio", "Microphone"), select("video", "Camera"),
      found.audio.length + found.video.length === 0 ? h("p", { class: "hint" }, "This browser shows no microphone or camera.") : null,
      h("div", { class: "inline-row end" }, close)));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
