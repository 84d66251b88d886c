// A small modal form in a native <dialog>: the browser keeps the focus inside
// it and Escape closes it. Used for a report's reason, a ban's or mute's minutes
// and reason, and unbanning by name. An error (the ack's) shows inside it, and
// the dialog stays open to try again.
import { h } from "./dom.js";

let nextId = 0;

/**
 * Open a dialog. spec: {title, text?, fields: [{name, label, kind: "text"|"textarea"|"number",
 * required?, maxlength?, min?, max?, hint?, value?}], submit: label, danger?: bool,
 * testid}. run(values) -> Promise: the dialog closes when it resolves and shows
 * the error when it rejects. values: trimmed strings ("" when left empty).
 */
export function openDialog(spec, run) {
  const id = `dlg-${++nextId}`;
  const inputs = spec.fields.map((field) => fieldInput(field, `${id}-${field.name}`));
  const error = h("p", { class: "form-error small", role: "alert", "data-testid": "dialog-error", hidden: true });
  const submit = h("button", { class: `btn ${spec.danger ? "btn-danger" : "btn-primary"} btn-small`, type: "submit", "data-testid": "dialog-submit" }, spec.submit);
  const cancel = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "dialog-cancel" }, "Cancel");
  const form = h("form", { class: "dialog-form", method: "dialog", novalidate: true },
    h("h2", { class: "dialog-title", id: `${id}-title` }, spec.title),
    spec.text ? h("p", { class: "dialog-text" }, spec.text) : null,
    spec.fields.map((field, i) => h("div", { class: "field" },
      h("label", { for: inputs[i].id }, field.label), inputs[i],
      field.hint ? h("p", { class: "hint" }, field.hint) : null)),
    error,
    h("div", { class: "inline-row end" }, cancel, submit));
  const dialog = h("dialog", { class: "dialog", "data-testid": spec.testid ?? "dialog", "aria-labelledby": `${id}-title` }, form);
  const close = () => { dialog.close(); dialog.remove(); };
  cancel.addEventListener("click", close);
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(spec.fields.map((f, i) => [f.name, inputs[i].value.trim()]));
    const problem = spec.fields.map((f) => check(f, values[f.name])).find(Boolean);
    if (problem) return show(error, problem);
    submit.disabled = true;
    try {
      await run(values);
      close();
    } catch (err) {
      show(error, err.message);
    } finally {
      submit.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  inputs[0]?.focus();
  return dialog;
}

function fieldInput(field, id) {
  const props = { id, name: field.name, "data-testid": `dialog-${field.name}`, autocomplete: "off" };
  if (field.maxlength) props.maxlength = String(field.maxlength);
  if (field.kind === "number") Object.assign(props, { type: "number", inputmode: "numeric", min: String(field.min ?? 1), max: field.max ? String(field.max) : null, step: "1" });
  const input = field.kind === "textarea" ? h("textarea", { ...props, rows: "3" }) : h("input", props);
  input.value = field.value ?? "";
  return input;
}

function check(field, value) {
  if (field.required && !value) return `${field.label}: please fill it in.`;
  if (field.maxlength && [...value].length > field.maxlength) return `${field.label}: at most ${field.maxlength} characters.`;
  if (field.kind === "number" && value && (!/^\d+$/.test(value) || Number(value) < (field.min ?? 1))) {
    return `${field.label}: a whole number of at least ${field.min ?? 1}.`;
  }
  if (field.kind === "number" && value && field.max && Number(value) > field.max) return `${field.label}: at most ${field.max}.`;
  return null;
}

function show(error, text) {
  error.textContent = text;
  error.hidden = !text;
}
