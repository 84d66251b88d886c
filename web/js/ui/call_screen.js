// What the page shows of calls, drawn from the Calls' state (../calls.js): the header's buttons
// for the conversation open, the incoming call's banner, and the call this page is in (its
// tiles, lit by who speaks, and its controls).
import { Levels } from "../call_levels.js";
import { people } from "../people.js";
import { isDirect, keyOf, labelOf } from "../targets.js";
import { CallBanner } from "./call_banner.js";
import { CallButtons } from "./call_buttons.js";
import { openCallDevices } from "./call_devices.js";
import { CallView } from "./call_view.js";

export class CallScreen {
  /** calls: the page's Calls; chat: the controller (its state, opening a conversation). */
  constructor(calls, chat) {
    this.calls = calls;
    this.chat = chat;
    this.levels = new Levels(() => calls.changed());
    this.buttons = new CallButtons({ start: (media) => calls.start(media), join: (call) => calls.join(call) });
    this.banner = new CallBanner({ join: () => calls.answer(), decline: () => calls.decline() });
    this.view = new CallView({
      toggleMic: () => calls.session?.toggleMic(), toggleCamera: () => calls.session?.toggleCamera(),
      toggleScreen: () => calls.session?.toggleScreen(), leave: () => calls.leave(),
      devices: () => openCallDevices((kind) => calls.session?.switchDevice(kind)),
      open: () => calls.session && chat.actions.open(calls.where(calls.session.call)),
    });
  }

  render() {
    const { calls } = this;
    const { state } = this.chat;
    const name = state.currentName;
    const topic = state.currentTopic;
    // a topic I am in and not archived, a direct conversation begun (the server refuses the others)
    const able = Boolean(name) && !topic?.archived && (isDirect(name) ? Boolean(topic) && !topic.draft : Boolean(topic?.subscribed));
    const call = name ? calls.running.get(keyOf(name)) ?? null : null;
    this.buttons.render({ able, call, mine: calls.mine(call) });
    const incoming = calls.incoming;
    this.banner.render(incoming && {
      who: people().nameOf(incoming.started_by), video: incoming.media === "video",
      where: isDirect(calls.where(incoming)) ? "" : labelOf(calls.where(incoming)),
    });
    this.view.render(calls.session && this.sessionView(calls.session));
  }

  /** The call view's model: a tile for me and one per peer, the controls' states, the notices. */
  sessionView(session) {
    const { levels } = this;
    const tracks = session.tracks();
    levels.watch("me", session.local);
    const tiles = [{ key: "me", username: this.chat.state.me, local: true, stream: this.preview(tracks.video),
      video: Boolean(tracks.video), speaking: levels.speaking("me"), mic: Boolean(tracks.audio?.enabled), connection: "connected" }];
    for (const [id, peer] of session.peers) {
      levels.watch(id, peer.remote);
      tiles.push({ key: `peer-${id}`, username: peer.username, local: false, stream: peer.remote, video: peer.showsVideo,
        speaking: levels.speaking(id), mic: peer.state.mic !== false, connection: peer.pc.connectionState });
    }
    for (const key of [...levels.watched.keys()]) if (key !== "me" && !session.peers.has(key)) levels.unwatch(key);
    const where = session.call?.id == null ? "" : this.calls.where(session.call);
    return { where: where ? labelOf(where) : "…", current: keyOf(where) === this.chat.state.current, tiles,
      mic: Boolean(tracks.audio?.enabled), camera: Boolean(session.camera), screen: Boolean(session.screen),
      notices: this.calls.notices };
  }

  /** The stream the own tile shows: what goes out as video (the camera, or the screen shared). */
  preview(track) {
    if (this.previewTrack !== track) {
      this.previewTrack = track;
      this.previewStream = track ? new MediaStream([track]) : null;
    }
    return this.previewStream;
  }

  /** The page left its call: nothing more to measure. */
  hungUp() {
    this.levels.close();
    this.previewTrack = this.previewStream = null;
  }

  close() {
    this.hungUp();
  }
}
