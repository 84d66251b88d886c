// "Download my data" (PROTOCOL.md section 16), a section of the settings dialog: asks the server
// for an export, waits while it is built (asking again after each Retry-After), then saves the ZIP
// through an object URL. The export's id is kept in localStorage for the hour in which the server
// refuses another (rate_limited): the button then fetches that one again instead.
import * as api from "../api.js";
import { h } from "./dom.js";

const KEPT = "parley-export";
const HOUR = 3600 * 1000;
const BOUND = 10 * 60 * 1000; // give up waiting after ten minutes (the server goes on; try again later)

/** token(): the current token. */
export function exportSection(token) {
  const state = h("p", { class: "hint", role: "status", "data-testid": "export-state" },
    "A ZIP of your profile, your messages, your files and your topics.");
  const button = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "export-download" }, "Download my data");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await download(token, (text, name) => { state.textContent = text; state.dataset.state = name; });
    } catch (err) {
      state.textContent = err.message || "The export failed.";
      state.dataset.state = "failed";
    } finally {
      button.disabled = false;
    }
  });
  return h("fieldset", { class: "notify-group" }, h("legend", {}, "Your data"),
    h("div", { class: "inline-row" }, button), state);
}

async function download(token, show) {
  show("Asking for your export…", "requesting");
  const id = await exportId(token());
  show("Preparing your export…", "pending");
  const deadline = Date.now() + BOUND;
  for (;;) {
    const got = await api.fetchExport(token(), id);
    if (got.ready) {
      save(got.blob, got.filename);
      show(`Your export is downloaded (${got.filename}).`, "ready");
      return;
    }
    if (Date.now() > deadline) throw new Error("Your export is taking long: try again later.");
    await new Promise((resolve) => setTimeout(resolve, got.retryAfter * 1000));
  }
}

/** A new export's id, or the one asked for within the hour when the server refuses another. */
async function exportId(token) {
  try {
    const { id } = await api.requestExport(token);
    localStorage.setItem(KEPT, JSON.stringify({ id, at: Date.now() }));
    return id;
  } catch (err) {
    const kept = JSON.parse(localStorage.getItem(KEPT) ?? "null");
    if (err.code === "rate_limited" && kept && Date.now() - kept.at < HOUR) return kept.id;
    throw err;
  }
}

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
