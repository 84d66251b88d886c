// The call this page is in, above the conversation shown (whichever it is: the call stays while
// conversations are switched): one tile per participant (their video, or their initials), lit
// while they speak; what the browser refused; the controls: microphone, camera, screen, devices,
// leave.
import { people } from "../people.js";
import { fill, h, icon, reconcile } from "./dom.js";
import { CALL_ICONS } from "./call_icons.js";
import { personAvatar } from "./people_parts.js";

export class CallView {
  /** actions: toggleMic(), toggleCamera(), toggleScreen(), devices(), leave(), open() (the call's conversation) */
  constructor(actions) {
    this.title = h("button", { class: "call-title link-plain", type: "button", "data-testid": "call-title", onclick: () => actions.open() });
    this.notices = h("div", { class: "call-notices", role: "alert", "data-testid": "call-notice" });
    this.tiles = h("div", { class: "call-tiles", "data-testid": "call-tiles" });
    const button = (testid, label, path, onclick, extra = "") => h("button", {
      class: `call-btn ${extra}`.trim(), type: "button", "data-testid": testid, "aria-label": label, title: label, onclick,
    }, icon(path));
    this.mic = button("call-mic", "Mute microphone", CALL_ICONS.mic, () => actions.toggleMic(), "mic");
    this.camera = button("call-camera", "Camera", CALL_ICONS.video, () => actions.toggleCamera());
    this.screen = button("call-screen", "Share screen", CALL_ICONS.screen, () => actions.toggleScreen());
    this.devices = button("call-devices", "Devices", CALL_ICONS.sliders, () => actions.devices());
    this.leave = button("call-leave", "Leave call", CALL_ICONS.hangUp, () => actions.leave(), "danger");
    this.el = h("section", { class: "call-view", "data-testid": "call-view", "aria-label": "Call", hidden: true },
      h("div", { class: "call-top" }, this.title),
      this.notices, this.tiles,
      h("div", { class: "call-controls", role: "group", "aria-label": "Call controls" },
        this.mic, this.camera, this.screen, this.devices, this.leave));
  }

  /** view: {where, current, me, tiles: [{key, username, stream, local, video, speaking, mic}], mic, camera, screen, notices} or null. */
  render(view) {
    this.el.hidden = !view;
    if (!view) {
      this.tiles.replaceChildren();
      return;
    }
    this.title.textContent = `Call in ${view.where} · ${view.tiles.length} in it`;
    this.title.disabled = view.current;
    this.title.title = view.current ? "" : "Open the call's conversation";
    const notices = view.notices.map((text) => h("p", { class: "call-notice" }, text));
    if (this.notices.textContent !== view.notices.join("")) fill(this.notices, notices);
    press(this.mic, !view.mic, view.mic ? "Mute microphone" : "Unmute microphone", view.mic ? CALL_ICONS.mic : CALL_ICONS.micOff);
    press(this.camera, view.camera, view.camera ? "Turn camera off" : "Turn camera on", view.camera ? CALL_ICONS.video : CALL_ICONS.videoOff);
    press(this.screen, view.screen, view.screen ? "Stop sharing the screen" : "Share screen", CALL_ICONS.screen);

    reconcile(this.tiles, view.tiles.map((tile) => ({ key: tile.key, create: () => makeTile(tile), update: (el) => updateTile(el, tile) })));
  }
}

/** A toggle: its name stays (a screen reader says "pressed" or not), its tooltip says what a click does. */
function press(button, pressed, hint, path) {
  button.setAttribute("aria-pressed", String(pressed));
  if (button.title === hint) return;
  button.title = hint;
  button.replaceChildren(icon(path));
}

function makeTile(tile) {
  const video = h("video", { class: "call-video", autoplay: true, playsinline: true, "data-testid": "call-video" });
  video.muted = tile.local; // one's own voice is not played back
  return h("figure", { class: "call-tile", "data-testid": "call-tile" },
    video,
    h("div", { class: "call-initials" }),
    h("figcaption", { class: "call-name" }, h("span", { class: "call-name-text" }),
      h("span", { class: "call-muted", title: "Microphone off", hidden: true }, icon(CALL_ICONS.micOff, "Microphone off"))));
}

function updateTile(el, tile) {
  const name = tile.username ? people().nameOf(tile.username) : "Connecting…";
  el.dataset.username = tile.username ?? "";
  el.dataset.speaking = String(tile.speaking);
  el.dataset.video = String(tile.video);
  el.dataset.state = tile.connection ?? "";
  const video = el.querySelector("video");
  if (video.srcObject !== tile.stream) video.srcObject = tile.stream;
  video.hidden = !tile.video;
  const initials = el.querySelector(".call-initials");
  initials.hidden = tile.video;
  if (tile.username && initials.dataset.username !== tile.username) {
    initials.dataset.username = tile.username;
    initials.replaceChildren(personAvatar(tile.username, "call-avatar"));
  }
  const label = tile.local ? `${name} (you)` : name;
  const text = el.querySelector(".call-name-text");
  if (text.textContent !== label) text.textContent = label;
  el.setAttribute("aria-label", `${label}${tile.speaking ? ", speaking" : ""}`);
  el.querySelector(".call-muted").hidden = tile.mic;
}
