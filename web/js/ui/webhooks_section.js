// "Outgoing webhooks" in the topic settings panel (owners and admins): register a URL with the
// events it wants and a secret (it signs every delivery), list the topic's webhooks, remove one,
// and see its newest deliveries with their status. REST only (PROTOCOL.md section 12); errors
// from the server show under the form.
import { h } from "./dom.js";

const EVENTS = ["message", "mention", "reaction", "member"];

export class WebhooksSection {
  /** actions: list(topic), add(topic, url, events, secret), remove(topic, id), deliveries(topic, id) */
  constructor(actions) {
    this.actions = actions;
    this.topic = null;
    this.url = h("input", { id: "webhook-url", "data-testid": "webhook-url", type: "url", maxlength: "2048", placeholder: "https://example.com/hook", autocomplete: "off" });
    this.secret = h("input", { id: "webhook-secret", "data-testid": "webhook-secret", type: "password", maxlength: "256", autocomplete: "new-password" });
    this.boxes = EVENTS.map((name) => h("input", { type: "checkbox", value: name, "data-testid": `webhook-event-${name}`, checked: name === "message" }));
    this.addButton = h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "webhook-add" }, "Add webhook");
    this.error = h("p", { class: "form-error small", role: "alert", "data-testid": "webhook-error", hidden: true });
    this.list = h("ul", { class: "webhook-list", "data-testid": "webhook-list" });
    this.form = h("form", { class: "settings-form", "aria-label": "Add an outgoing webhook" },
      h("div", { class: "field" }, h("label", { for: "webhook-url" }, "URL"), this.url),
      h("fieldset", { class: "field webhook-events" }, h("legend", {}, "Events"),
        ...this.boxes.map((box) => h("label", {}, box, ` ${box.value}`))),
      h("div", { class: "field" }, h("label", { for: "webhook-secret" }, "Secret (signs each delivery)"), this.secret),
      h("div", { class: "inline-row end" }, this.addButton));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.add(); });
    this.el = h("section", { class: "settings-archive webhooks", "data-testid": "webhooks-section" },
      h("h3", { class: "settings-title" }, "Outgoing webhooks"), this.form, this.error, this.list);
  }

  /** The panel opened on ``topic`` (or another topic): read its webhooks again. */
  show(topic) {
    if (topic === this.topic) return;
    this.topic = topic;
    this.list.replaceChildren();
    this.showError("");
    if (topic) this.refresh();
  }

  async refresh() {
    const topic = this.topic;
    try {
      const { webhooks } = await this.actions.list(topic);
      if (topic === this.topic) this.list.replaceChildren(...webhooks.map((hook) => this.item(hook)));
    } catch (err) {
      this.showError(err.message);
    }
  }

  item(hook) {
    const log = h("ol", { class: "webhook-deliveries", "data-testid": "webhook-deliveries" });
    const show = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "webhook-show-deliveries", onclick: () => this.deliveries(hook, log) }, "Deliveries");
    const remove = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "webhook-remove", onclick: () => this.remove(hook) }, "Remove");
    return h("li", { class: "webhook", "data-testid": "webhook", "data-id": hook.id },
      h("div", { class: "webhook-url", "data-testid": "webhook-item-url" }, hook.url),
      h("div", { class: "hint" }, hook.events.join(", ")),
      h("div", { class: "inline-row" }, show, remove), log);
  }

  async deliveries(hook, log) {
    try {
      const { deliveries } = await this.actions.deliveries(this.topic, hook.id);
      log.replaceChildren(...(deliveries.length ? deliveries.map((d) =>
        h("li", { "data-testid": "webhook-delivery", "data-status": d.status },
          `${d.event} #${d.attempt}: ${d.status}${d.code === null ? "" : ` (${d.code})`} at ${new Date(d.at).toLocaleString()}`))
        : [h("li", { class: "hint", "data-testid": "webhook-no-deliveries" }, "No deliveries yet.")]));
    } catch (err) {
      this.showError(err.message);
    }
  }

  async add() {
    const events = this.boxes.filter((box) => box.checked).map((box) => box.value);
    const url = this.url.value.trim();
    const secret = this.secret.value;
    if (!url || !secret || !events.length) return this.showError("A URL, at least one event and a secret are needed.");
    this.showError("");
    this.addButton.disabled = true;
    try {
      await this.actions.add(this.topic, url, events, secret);
      this.url.value = "";
      this.secret.value = "";
      await this.refresh();
    } catch (err) {
      this.showError(err.message);
    } finally {
      this.addButton.disabled = false;
    }
  }

  async remove(hook) {
    try {
      await this.actions.remove(this.topic, hook.id);
      await this.refresh();
    } catch (err) {
      this.showError(err.message);
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}
