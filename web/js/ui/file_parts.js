// Files on a message (section 11): images as thumbnails (a button that opens the
// full image in a lightbox), other files as a chip with name and size that saves
// the file. The bytes come with the token (files.js), so images are set once
// fetched. User text (names) goes in as text nodes only.
import { blobUrl, saveFile, sizeText } from "../files.js";
import { h, icon, ICONS } from "./dom.js";

const FILE_ICON = "M6 3h8l4 4v14H6zM14 3v4h4";
const THUMB_WIDTH = 320; // the server's thumbnails are at most this wide (PROTOCOL.md section 11)

/** The files of a message, or null when it has none. */
export function messageFiles(message) {
  const files = message.deleted ? [] : (message.files ?? []);
  if (!files.length) return null;
  return h("div", { class: "msg-files", "data-testid": "message-files" }, files.map(fileItem));
}

function fileItem(file) {
  return file.image ? imageItem(file) : chipItem(file);
}

/** The thumbnail's size (at most 320 wide, the original's ratio), known before its bytes arrive. */
export function thumbSize({ width, height }) {
  const w = Math.max(1, Math.round(Number(width) || 320));
  const h = Math.max(1, Math.round(Number(height) || 240));
  const shown = Math.min(THUMB_WIDTH, w);
  return { width: shown, height: Math.max(1, Math.round((h * shown) / w)) };
}

function imageItem(file) {
  const size = thumbSize(file.image);
  const img = h("img", { class: "file-thumb-img", alt: file.name, "data-testid": "file-thumbnail-img",
    width: String(size.width), height: String(size.height) });
  // The box is reserved before the image loads (CSSOM, allowed by the page's CSP): a conversation
  // scrolled to its newest message stays there when the thumbnails arrive.
  img.style.width = `${size.width}px`;
  img.style.aspectRatio = `${size.width} / ${size.height}`;
  blobUrl(file.image.thumbnail_url).then((url) => { img.src = url; }).catch(() => img.classList.add("broken"));
  return h("button", {
    class: "file-thumb", type: "button", "data-testid": "file-thumbnail", "data-file-id": file.id,
    "aria-label": `Open image ${file.name} (${file.image.width}×${file.image.height})`,
    onclick: () => openLightbox(file),
  }, img);
}

function chipItem(file) {
  return h("button", {
    class: "file-chip", type: "button", "data-testid": "file-link", "data-file-id": file.id,
    "aria-label": `Download ${file.name}, ${sizeText(file.size)}`, title: `Download ${file.name}`,
    onclick: () => saveFile(file).catch(() => {}),
  }, icon(FILE_ICON), h("span", { class: "file-name", "data-testid": "file-name" }, file.name),
  h("span", { class: "file-size" }, sizeText(file.size)));
}

/** The full image in a native <dialog> (Escape or a click closes it). */
export function openLightbox(file) {
  const img = h("img", { class: "lightbox-img", alt: file.name, "data-testid": "lightbox-img" });
  const close = h("button", { class: "icon-btn lightbox-close", type: "button", "aria-label": "Close image" }, icon(ICONS.close));
  const dialog = h("dialog", { class: "lightbox", "data-testid": "lightbox", "aria-label": file.name },
    close, img, h("p", { class: "lightbox-caption" }, `${file.name} · ${sizeText(file.size)}`));
  const done = () => { dialog.close(); };
  close.addEventListener("click", done);
  dialog.addEventListener("click", (event) => { if (event.target === dialog || event.target === img) done(); });
  dialog.addEventListener("close", () => dialog.remove());
  blobUrl(file.url).then((url) => { img.src = url; }).catch(() => { img.alt = `${file.name} could not be loaded`; });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}
