// Tiny DOM helpers. User text only ever reaches the page through text nodes
// (textContent / append of strings), never through innerHTML.

/** Create an element: h("button", {class: "x", onclick: fn, "data-testid": "send"}, "Send"). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

/** Replace an element's children, skipping null/false (unlike replaceChildren). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An inline icon from one SVG path (24x24 viewBox, stroked). */
export function icon(pathData, label = null) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  if (label) svg.setAttribute("aria-label", label);
  else svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", pathData);
  svg.append(path);
  return svg;
}

export const ICONS = {
  send: "M4 12 20 4l-6 16-3-7-7-1z",
  edit: "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4",
  trash: "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13",
  menu: "M4 6h16M4 12h16M4 18h16",
  users: "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21v-1a6 6 0 0 1 12 0v1M16 3.5a4 4 0 0 1 0 7.5M18 14a6 6 0 0 1 4 6v1",
  plus: "M12 5v14M5 12h14",
  logout: "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h11",
  lock: "M6 11h12v10H6zM8 11V7a4 4 0 0 1 8 0v4",
  close: "M6 6l12 12M18 6 6 18",
  down: "M12 5v14M6 13l6 6 6-6",
  invite: "M10 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM3 21v-1a7 7 0 0 1 11-5.7M19 14v6M16 17h6",
  leave: "M14 4h5v16h-5M9 8l-4 4 4 4M5 12h10",
  reply: "M10 8 4 13l6 5M4 13h10a6 6 0 0 1 6 6",
  thread: "M4 5h16v11H9l-5 4zM8 9h8M8 12h5",
  smile: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM8.5 14a4.5 4.5 0 0 0 7 0M9 9.5h.01M15 9.5h.01",
  pin: "M9 3h6M10 3v6l-4 4v2h12v-2l-4-4V3M12 15v6",
  bell: "M6 16v-5a6 6 0 0 1 12 0v5l2 2H4zM10 21h4",
  bellOff: "M6 16v-5a6 6 0 0 1 9.6-4.8M18 11v5l2 2H7M10 21h4M3 3l18 18",
  search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4",
  more: "M5 12h.01M12 12h.01M19 12h.01",
  flag: "M5 21V4M5 4h11l-2 4 2 4H5",
  gear: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-1-3-2 .2-1.3-1.5.3-2-3-1-1 1.8h-2L9 2.7l-3 1 .3 2L5 7.2 3 7l-1 3 2 1v1l-2 1 1 3 2-.2 1.3 1.5-.3 2 3 1 1-1.8h2l1 1.8 3-1-.3-2 1.3-1.5 2 .2 1-3-2-1z",
  at: "M16 12a4 4 0 1 1-8 0 4 4 0 0 1 8 0zM16 12v1.5a2.5 2.5 0 0 0 5 0V12a9 9 0 1 0-3.5 7.1",
};

/**
 * Keyed reconciliation of a parent's children against a list of items
 * ({key, create(), update(el)}): existing elements are reused and reordered,
 * missing ones created, stale ones removed.
 */
export function reconcile(parent, items) {
  const existing = new Map();
  for (const el of parent.children) existing.set(el.dataset.key, el);
  let cursor = parent.firstElementChild;
  for (const item of items) {
    let el = existing.get(item.key);
    if (el) existing.delete(item.key);
    else {
      el = item.create();
      el.dataset.key = item.key;
    }
    item.update?.(el);
    if (el === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(el, cursor);
  }
  for (const el of existing.values()) el.remove();
}

/** A stable pastel-ish hue for a username (avatars). */
export function hueOf(name) {
  let hash = 0;
  for (const ch of name.toLowerCase()) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

export function avatar(name, extraClass = "") {
  const el = h("span", { class: `avatar ${extraClass}`.trim(), "aria-hidden": "true" },
    (name.replace(/^@/, "")[0] ?? "?").toUpperCase());
  el.style.setProperty("--hue", String(hueOf(name.replace(/^@/, ""))));
  return el;
}
