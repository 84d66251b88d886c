// The "Delete my account" dialog (PROTOCOL.md section 16): the user types their username to
// confirm and their password; the server disables the account at once and erases it (profile,
// uploads, reactions; messages become tombstones sent by [deleted]). Then the page signs out.
// A wrong password or a refusal shows in the dialog and nothing changes.
import * as api from "../api.js";
import { h } from "./dom.js";

/** me: the signed-in username; token(): the current token; done(): sign out (the account is gone). */
export function openDeleteAccount(me, token, done) {
  const typed = h("input", { id: "da-username", "data-testid": "delete-account-username", autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { id: "da-password", type: "password", "data-testid": "delete-account-password", autocomplete: "current-password" });
  const error = h("p", { class: "form-error small", role: "alert", "data-testid": "delete-account-error", hidden: true });
  const confirm = h("button", { class: "btn btn-danger btn-small", type: "submit", "data-testid": "delete-account-confirm", disabled: true }, "Delete my account");
  const matches = () => typed.value.trim().toLowerCase() === me.toLowerCase();
  const ready = () => { confirm.disabled = !matches() || !password.value; };
  typed.addEventListener("input", ready);
  password.addEventListener("input", ready);
  const form = h("form", { class: "dialog-form", novalidate: true },
    h("h2", { class: "dialog-title" }, "Delete my account"),
    h("p", { class: "dialog-text" },
      "Your profile, picture, status, email address, notifications, reactions and uploads are deleted, and every message you sent is replaced by “deleted”, shown as sent by [deleted]. Your username stays reserved. This cannot be undone."),
    h("div", { class: "field" }, h("label", { for: "da-username" }, "Type your username (", h("code", {}, me), ") to confirm"), typed),
    h("div", { class: "field" }, h("label", { for: "da-password" }, "Password"), password),
    error,
    h("div", { class: "inline-row end" },
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "dialog-cancel", onclick: () => dialog.close() }, "Cancel"),
      confirm));
  const dialog = h("dialog", { class: "dialog people-dialog", "data-testid": "delete-account", "aria-label": "Delete my account" }, form);
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!matches() || !password.value) return;
    confirm.disabled = true;
    error.hidden = true;
    try {
      await api.deleteAccount(token(), password.value);
    } catch (err) {
      error.textContent = err.code === "unauthorized" ? "Wrong password: nothing was deleted." : err.message;
      error.hidden = false;
      confirm.disabled = false;
      return;
    }
    dialog.close();
    done();
  });
  document.body.append(dialog);
  dialog.showModal();
  typed.focus();
  return dialog;
}
