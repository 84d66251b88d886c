// Link previews under a message (PROTOCOL.md section 13): one card per Preview
// the server made, title linked to the page, description, site name and the
// image Parley itself serves (only a same-origin /api/previews/ path is used:
// the reader's browser never contacts the linked site; fetched with the token
// like a file's thumbnail, then shown from a blob: URL). The card keeps its
// image's size from the start (width/height), and the sender may remove them.
import { blobUrl } from "../files.js";
import { h, icon, ICONS } from "./dom.js";

const SAFE_LINK = /^https?:\/\//i;
const IMAGE_PATH = "/api/previews/";

/** The cards of a message, or null; remove(message) is offered when canRemove. */
export function previewCards(message, { canRemove = false, remove = null } = {}) {
  const previews = Array.isArray(message.previews) ? message.previews.filter(usable) : [];
  if (!previews.length || message.deleted) return null;
  return h("div", { class: "preview-cards", "data-testid": "preview-cards" },
    previews.map((preview) => card(preview, canRemove && remove ? () => remove(message) : null)));
}

function usable(preview) {
  return preview && typeof preview.url === "string" && SAFE_LINK.test(preview.url.trim());
}

function card(preview, remove) {
  const image = preview.image;
  const img = image && typeof image.url === "string" && image.url.startsWith(IMAGE_PATH)
    ? h("img", {
      class: "preview-image", "data-testid": "preview-image", "data-src": image.url, alt: "", loading: "lazy",
      decoding: "async", width: dimension(image.width), height: dimension(image.height),
    })
    : null;
  const [width, height] = img ? [dimension(image.width), dimension(image.height)] : [];
  if (width && height) img.style.aspectRatio = `${width} / ${height}`; // its box before the bytes arrive
  if (img) blobUrl(image.url).then((url) => { img.src = url; }, () => { img.hidden = true; });
  return h("div", { class: "preview-card", "data-testid": "preview-card", "data-url": preview.url },
    h("div", { class: "preview-text" },
      preview.site_name ? h("span", { class: "preview-site", "data-testid": "preview-site" }, String(preview.site_name)) : null,
      h("a", {
        class: "preview-title", "data-testid": "preview-title", href: preview.url.trim(),
        target: "_blank", rel: "noopener noreferrer nofollow",
      }, String(preview.title || preview.url)),
      preview.description ? h("p", { class: "preview-description", "data-testid": "preview-description" }, String(preview.description)) : null),
    img,
    remove ? h("button", {
      class: "icon-btn small preview-remove", type: "button", "data-testid": "preview-remove",
      "aria-label": "Remove the link previews", title: "Remove the link previews", onclick: remove,
    }, icon(ICONS.close)) : null);
}

function dimension(value) {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? String(Math.round(n)) : null;
}
