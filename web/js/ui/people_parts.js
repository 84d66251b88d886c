// People on the page (PROTOCOL.md section 14): avatars (the uploaded picture's
// thumbnail, fetched with the token, or initials on a colour from the username),
// names (display name and @username), the profile card, the profile editor, the
// status picker, the availability menu and the find-people dialog. User text goes
// in as text nodes only.
import { blobUrl, uploadFile } from "../files.js";
import { initialsOf, people } from "../people.js";
import { h, hueOf } from "./dom.js";

const AVATAR_MAX = 256; // the picture is scaled down to fit this square (never cropped)
const AVAILABILITY = { online: "Online", away: "Away", dnd: "Do not disturb", offline: "Offline" };
const CLEAR_AFTER = [
  ["", "Don't clear"], ["1800", "30 minutes"], ["3600", "1 hour"], ["14400", "4 hours"],
  ["86400", "Today (24 hours)"], ["604800", "This week"],
];

const bare = (name) => String(name ?? "").replace(/^@/, "");

/** A round avatar: the picture when there is one, else initials on the username's colour. */
export function personAvatar(username, extraClass = "", onclick = null) {
  const name = bare(username);
  const profile = people().get(name);
  const el = h(onclick ? "button" : "span", {
    class: `avatar ${extraClass}${onclick ? " avatar-btn" : ""}`.trim(), "data-testid": "avatar", "data-username": name,
    type: onclick ? "button" : null, "aria-label": onclick ? `Profile of ${people().nameOf(name)}` : null,
    "aria-hidden": onclick ? null : "true", onclick,
  }, initialsOf(profile?.display_name || name));
  el.style.setProperty("--hue", String(hueOf(name)));
  const thumb = profile?.avatar?.thumbnail_url;
  if (thumb) {
    const img = h("img", { class: "avatar-img", alt: "", "data-testid": "avatar-img" });
    blobUrl(thumb).then((url) => { img.src = url; el.classList.add("has-img"); }).catch(() => img.remove());
    el.append(img);
  }
  return el;
}

/** "Élodie Martin @elodie", or "elodie" alone when there is no display name. */
export function personName(username, { at = true } = {}) {
  const name = bare(username);
  const display = people().get(name)?.display_name;
  return h("span", { class: "person-name", "data-username": name },
    h("span", { class: "display-name", "data-testid": "display-name" }, display || name),
    display && at ? h("span", { class: "username-at", "data-testid": "username-at" }, ` @${name}`) : null);
}

export function availabilityLabel(value) {
  return AVAILABILITY[value] ?? "Unknown";
}

/** A presence dot with its words for screen readers ("Online", "Away", "Do not disturb", "Offline"):
 * the colour alone says nothing to them. availability: one of those keys; classes: the dot's. */
export function presenceDot(classes, availability, props = {}) {
  const words = availabilityLabel(availability);
  return h("span", { class: classes, role: "img", "aria-label": words, title: words, ...props });
}

/** The time now in an IANA zone ("14:05"), or "" when the zone is unknown. */
export function localTime(timezone, now = new Date()) {
  if (!timezone) return "";
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: timezone, hour: "2-digit", minute: "2-digit" }).format(now);
  } catch {
    return "";
  }
}

function modal(testid, label, ...children) {
  const dialog = h("dialog", { class: "dialog people-dialog", "data-testid": testid, "aria-label": label }, ...children);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

const closeButton = (dialog, testid = "dialog-cancel", text = "Close") => h("button", {
  class: "btn btn-ghost btn-small", type: "button", "data-testid": testid, onclick: () => dialog.close(),
}, text);

/** The profile card of a person: name, title, local time, status and availability (asked afresh). */
export function openProfileCard(username, { message } = {}) {
  const body = h("div", { class: "profile-card-body" });
  const dialog = modal("profile-card", `Profile of ${bare(username)}`, body);
  const draw = (p) => {
    const name = bare(p?.username ?? username);
    const time = localTime(p?.timezone);
    const status = p?.status;
    body.replaceChildren(
      h("div", { class: "profile-card-head" }, personAvatar(name, "large"),
        h("div", {},
          h("div", { class: "profile-card-name", "data-testid": "profile-card-name" }, p?.display_name || name),
          h("div", { class: "muted small", "data-testid": "profile-card-username" }, `@${name}`, p?.bot ? " · bot" : ""))),
      p?.title ? h("p", { class: "profile-card-title", "data-testid": "profile-card-title" }, p.title) : null,
      status && (status.text || status.emoji) ? h("p", { class: "profile-card-status", "data-testid": "profile-card-status" },
        [status.emoji, status.text].filter(Boolean).join(" ")) : null,
      h("p", { class: "profile-card-availability", "data-testid": "profile-card-availability", "data-availability": p?.availability ?? "" },
        h("span", { class: `avail-dot avail-${p?.availability ?? "unknown"}`, "aria-hidden": "true" }),
        p?.availability ? availabilityLabel(p.availability) : "Availability hidden"),
      time ? h("p", { class: "profile-card-time", "data-testid": "profile-card-time", "data-timezone": p.timezone },
        `Local time ${time} (${p.timezone})`) : null,
      h("div", { class: "inline-row end" },
        message && !people().isMe?.(name) ? h("button", { class: "btn btn-primary btn-small", type: "button", "data-testid": "profile-card-message",
          onclick: () => { dialog.close(); message(name); } }, "Message") : null,
        closeButton(dialog, "profile-card-close")));
  };
  draw(people().get(username));
  people().fetch(username).then((p) => dialog.open && draw(p)).catch(() => {});
  return dialog;
}

/** Scale an image down to fit AVATAR_MAX (no crop) as a PNG File; small ones are kept. */
export async function fitAvatar(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, AVATAR_MAX / Math.max(bitmap.width, bitmap.height));
  if (scale === 1 && /^image\/(png|jpeg|gif|webp)$/.test(file.type)) return file;
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
  return new File([blob], "avatar.png", { type: "image/png" });
}

function field(label, input, hint = null) {
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("p", { class: "hint" }, hint) : null);
}

function errorLine() {
  return h("p", { class: "form-error small", role: "alert", "data-testid": "dialog-error", hidden: true });
}

function showError(error, text) {
  error.textContent = text;
  error.hidden = !text;
}

/** The profile editor: display name, title, time zone and the avatar (uploaded, then set). */
export function openProfileEditor(me) {
  const p = people().get(me) ?? {};
  const display = h("input", { id: "pe-display", "data-testid": "profile-display-name", maxlength: "64", autocomplete: "off" });
  const title = h("input", { id: "pe-title", "data-testid": "profile-title", maxlength: "64", autocomplete: "off" });
  const zone = h("input", { id: "pe-zone", "data-testid": "profile-timezone", list: "pe-zones", autocomplete: "off", placeholder: "Europe/Paris" });
  const zones = h("datalist", { id: "pe-zones" }, (Intl.supportedValuesOf?.("timeZone") ?? []).map((z) => h("option", { value: z })));
  const file = h("input", { id: "pe-avatar", type: "file", accept: "image/*", "data-testid": "profile-avatar-input" });
  display.value = p.display_name ?? "";
  title.value = p.title ?? "";
  zone.value = p.timezone ?? "";
  const preview = h("span", { class: "profile-avatar-preview", "data-testid": "profile-avatar-preview" }, personAvatar(me, "large"));
  const progress = h("span", { class: "muted small", "data-testid": "profile-avatar-state" });
  let avatarId; // undefined: unchanged, null: removed, a file id: the new one
  const remove = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "profile-avatar-remove",
    onclick: () => { avatarId = null; progress.textContent = "Picture removed (on save)"; } }, "Remove picture");
  const error = errorLine();
  const save = h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "profile-save" }, "Save");
  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    save.disabled = true;
    showError(error, "");
    progress.textContent = "Uploading…";
    try {
      const uploaded = await uploadFile(await fitAvatar(chosen), (f) => { progress.textContent = `Uploading… ${Math.round(f * 100)}%`; });
      avatarId = uploaded.id;
      progress.textContent = "Uploaded";
    } catch (err) {
      progress.textContent = "";
      showError(error, `The picture was not uploaded: ${err.message}`);
    } finally {
      save.disabled = false;
    }
  });
  const form = h("form", { class: "dialog-form", novalidate: true },
    h("h2", { class: "dialog-title" }, "Edit your profile"),
    h("div", { class: "profile-avatar-row" }, preview,
      h("div", {}, h("label", { for: "pe-avatar", class: "btn btn-ghost btn-small file-label" }, "Upload a picture"), file, remove, h("div", {}, progress))),
    field("Display name", display), field("Title", title), field("Time zone", zone, "An IANA name, such as Europe/Paris; empty for none."), zones,
    error,
    h("div", { class: "inline-row end" }, h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "dialog-cancel", onclick: () => dialog.close() }, "Cancel"), save));
  const dialog = modal("profile-editor", "Edit your profile", form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changes = { display_name: display.value.trim(), title: title.value.trim(), timezone: zone.value.trim() };
    if (changes.timezone && !localTime(changes.timezone) && localTime("UTC")) return showError(error, "Time zone: not a known zone name.");
    if (avatarId !== undefined) changes.avatar = avatarId;
    save.disabled = true;
    try {
      await people().update(changes);
      dialog.close();
    } catch (err) {
      showError(error, err.message);
    } finally {
      save.disabled = false;
    }
  });
  display.focus();
  return dialog;
}

/** The status picker: an emoji, a text and when to clear it; or clear it now. */
export function openStatusPicker(me) {
  const status = people().get(me)?.status;
  const emoji = h("input", { id: "sp-emoji", "data-testid": "status-emoji", maxlength: "16", autocomplete: "off", placeholder: "💬" });
  const text = h("input", { id: "sp-text", "data-testid": "status-text", maxlength: "100", autocomplete: "off", placeholder: "What's your status?" });
  const after = h("select", { id: "sp-after", "data-testid": "status-clear-after" }, CLEAR_AFTER.map(([v, label]) => h("option", { value: v }, label)));
  emoji.value = status?.emoji ?? "";
  text.value = status?.text ?? "";
  const error = errorLine();
  const run = async (job) => {
    try {
      await job();
      dialog.close();
    } catch (err) {
      showError(error, err.message);
    }
  };
  const clear = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "status-clear",
    onclick: () => run(() => people().clearStatus()) }, "Clear status");
  const form = h("form", { class: "dialog-form", novalidate: true },
    h("h2", { class: "dialog-title" }, "Set a status"),
    h("div", { class: "inline-row" }, field("Emoji", emoji), field("Status", text)),
    field("Clear after", after), error,
    h("div", { class: "inline-row end" }, clear,
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "dialog-cancel", onclick: () => dialog.close() }, "Cancel"),
      h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "status-save" }, "Save")));
  const dialog = modal("status-picker", "Set a status", form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const payload = { text: text.value.trim() };
    if (emoji.value.trim()) payload.emoji = emoji.value.trim();
    if (after.value) payload.expires_in = Number(after.value);
    run(() => people().setStatus(payload));
  });
  text.focus();
  return dialog;
}

/** The availability menu: automatic, away or do not disturb (a popover under its button). */
export class AvailabilityMenu {
  constructor() {
    this.button = h("button", { class: "icon-btn avail-toggle", type: "button", "data-testid": "availability-toggle",
      "aria-haspopup": "menu", "aria-expanded": "false", "aria-label": "Availability", title: "Availability",
      onclick: () => this.toggle() });
    this.error = h("p", { class: "form-error small", role: "alert", hidden: true });
    this.menu = h("div", { class: "avail-menu popover", role: "menu", "data-testid": "availability-menu", hidden: true },
      [["auto", "Automatic"], ["away", "Away"], ["dnd", "Do not disturb"]].map(([value, label]) => h("button", {
        class: "menu-item", type: "button", role: "menuitem", "data-testid": `availability-${value}`,
        onclick: () => this.pick(value),
      }, h("span", { class: `avail-dot avail-${value === "auto" ? "online" : value}`, "aria-hidden": "true" }), h("span", { class: "menu-label" }, label))),
    this.error);
    this.menu.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); this.toggle(false); this.button.focus(); } });
    this.el = h("span", { class: "avail-wrap" }, this.button, this.menu);
    this.shown = "";
  }

  toggle(open = this.menu.hidden) {
    this.menu.hidden = !open;
    this.error.hidden = true;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.menu.querySelector("button")?.focus();
  }

  async pick(value) {
    try {
      await people().setAvailability(value);
      this.toggle(false);
    } catch (err) {
      showError(this.error, err.message);
    }
  }

  /** availability: mine as the server last said ("online", "away", "dnd"). */
  render(availability) {
    const value = availability ?? "online";
    if (this.shown === value) return;
    this.shown = value;
    this.button.dataset.availability = value;
    this.button.title = `Availability: ${availabilityLabel(value)}`;
    this.button.setAttribute("aria-label", this.button.title); // the dot inside is only a colour
    this.button.replaceChildren(h("span", { class: `avail-dot avail-${value}`, "aria-hidden": "true" }));
  }
}

/** The directory: type part of a name, see who matches; picking one opens their profile card. */
export function openFindPeople({ message } = {}) {
  const input = h("input", { id: "fp-q", "data-testid": "find-people-input", type: "search", maxlength: "64", autocomplete: "off", placeholder: "Name or username" });
  const list = h("ul", { class: "find-people-list", "data-testid": "find-people-results", role: "list" });
  const note = h("p", { class: "muted small", "data-testid": "find-people-note" }, "Type a name to search.");
  let asked = 0;
  let timer = null;
  const search = async () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) { list.replaceChildren(); note.textContent = "Type a name to search."; return; }
    try {
      const users = await people().search(q);
      if (mine !== asked) return;
      note.textContent = users.length ? "" : "Nobody found.";
      list.replaceChildren(...users.map((u) => h("li", {},
        h("button", { class: "find-people-result", type: "button", "data-testid": "find-people-result", "data-username": u.username,
          onclick: () => { dialog.close(); openProfileCard(u.username, { message }); } },
        personAvatar(u.username, "small"), personName(u.username),
        u.title ? h("span", { class: "muted small" }, ` · ${u.title}`) : null))));
    } catch (err) {
      if (mine === asked) note.textContent = err.message;
    }
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  const dialog = modal("find-people", "Find people",
    h("div", { class: "dialog-form" },
      h("h2", { class: "dialog-title" }, "Find people"),
      field("Search the directory", input), note, list,
      h("div", { class: "inline-row end" }, closeButton(dialog0()))));
  function dialog0() { return { close: () => dialog.close() }; }
  input.focus();
  return dialog;
}
