// The topic settings side panel, for its owner and admins: rename it, describe
// it (0-500 characters), keep its messages a number of days (section 16: empty,
// the server's retention; the server refuses more than its own), archive it (read-only for everyone) or open it again;
// its incoming webhooks and the user's bots (section 12, ./integrations.js), and
// its outgoing webhooks (./webhooks_section.js).
// Errors from the server show under the form.
import { openDialog } from "./dialog.js";
import { checkTopicName, labelOf } from "../targets.js";
import { h, icon, ICONS } from "./dom.js";
import { BotsSection, HooksSection } from "./integrations.js";
import { WebhooksSection } from "./webhooks_section.js";

const MAX_DESCRIPTION = 500;

export class SettingsPanel {
  /** actions: close(), save(name, {newName, description, retentionDays}), archive(name, archived),
   * hooks: {list, create, revoke}, bots: {list, create, tokens, makeToken, revokeToken},
   * webhooks: {list, add, remove, deliveries} (see WebhooksSection) */
  constructor(actions) {
    this.actions = actions;
    this.webhooks = new WebhooksSection(actions.webhooks);
    this.shownFor = null;
    this.sub = h("p", { class: "panel-sub" });
    this.name = h("input", { id: "settings-name", "data-testid": "settings-name", maxlength: "64", autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
    this.description = h("textarea", { id: "settings-description", "data-testid": "settings-description", rows: "4", maxlength: String(MAX_DESCRIPTION) });
    this.retention = h("input", { id: "settings-retention", "data-testid": "settings-retention", type: "text", inputmode: "numeric", autocomplete: "off", placeholder: "the server's" });
    this.error = h("p", { class: "form-error small", role: "alert", "data-testid": "settings-error", hidden: true });
    this.saveButton = h("button", { class: "btn btn-primary btn-small", type: "submit", "data-testid": "settings-save" }, "Save");
    this.form = h("form", { class: "settings-form", "aria-label": "Name and description" },
      h("div", { class: "field" }, h("label", { for: "settings-name" }, "Name"), this.name),
      h("div", { class: "field" }, h("label", { for: "settings-description" }, "Description"), this.description),
      h("div", { class: "field" }, h("label", { for: "settings-retention" }, "Retention (days)"), this.retention,
        h("p", { class: "hint" }, "Messages older than this are deleted for good. Empty: the server's setting.")),
      h("div", { class: "inline-row end" }, this.saveButton));
    this.archiveText = h("p", { class: "hint" });
    this.archiveButton = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "settings-archive", onclick: () => this.toggleArchive() });
    this.closeButton = h("button", { class: "icon-btn", type: "button", "data-testid": "settings-close", "aria-label": "Close topic settings", onclick: () => actions.close() }, icon(ICONS.close));
    this.el = h("aside", { class: "side-panel settings-panel", id: "settings-panel", "data-testid": "settings-panel", "aria-label": "Topic settings", hidden: true },
      h("div", { class: "panel-head" }, h("div", {}, h("h2", { class: "panel-title" }, "Topic settings"), this.sub), this.closeButton),
      h("div", { class: "panel-scroll" }, this.form, this.error,
        h("section", { class: "settings-archive" }, h("h3", { class: "settings-title" }, "Archive"), this.archiveText, this.archiveButton),
        (this.hooks = new HooksSection(actions.hooks)).el, this.webhooks.el,
        (this.bots = new BotsSection(actions.bots)).el));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
  }

  focus() {
    this.name.focus();
  }

  render(state, open) {
    const topic = state.currentTopic;
    this.el.hidden = !open || !topic;
    if (this.el.hidden) {
      this.shownFor = null;
      this.hooks.topic = null; // loaded again when the panel opens again
      this.webhooks.show(null);
      return;
    }
    this.topic = topic;
    this.sub.textContent = labelOf(topic.name);
    if (this.shownFor !== topic.name) { // opened, or the topic was renamed: the form starts from it
      if (this.shownFor === null) this.bots.load();
      this.shownFor = topic.name;
      this.hooks.show(topic.name);
      this.fill(topic);
      this.showError("");
    }
    const archived = Boolean(topic.archived);
    this.archiveText.textContent = archived
      ? "This topic is archived: nobody can post, edit, react or pin. Unarchive it to open it again."
      : "Archiving makes the topic read-only for everyone. It stays in lists and search.";
    this.archiveButton.textContent = archived ? "Unarchive topic" : "Archive topic";
    this.archiveButton.dataset.archived = String(archived);
    this.webhooks.show(topic.name);
  }

  async save() {
    const newName = this.name.value.trim();
    const description = this.description.value.trim();
    const problem = checkTopicName(newName) ?? ([...description].length > MAX_DESCRIPTION ? `A description has at most ${MAX_DESCRIPTION} characters.` : null);
    const typed = this.retention.value.trim();
    const retentionDays = typed === "" ? null : Number(typed);
    if (retentionDays !== null && !(Number.isInteger(retentionDays) && retentionDays >= 1)) {
      return this.showError("Retention is a whole number of days, 1 or more (empty: the server's).");
    }
    if (problem) return this.showError(problem);
    const changes = {};
    if (newName !== this.topic.name) changes.newName = newName;
    if (description !== (this.topic.description ?? "")) changes.description = description;
    if (retentionDays !== (this.topic.retention_days ?? null)) changes.retentionDays = retentionDays;
    if (!Object.keys(changes).length) return this.showError("Nothing changed.");
    const sent = this.values();
    const saved = await this.run(this.saveButton, () => this.actions.save(this.topic.name, changes));
    // Show what the server kept, now, in the fields the owner has not touched since pressing Save:
    // the answer can come after the system message that announces it, and what was typed in the
    // meantime is the owner's next change, not something to overwrite.
    if (saved?.name) this.fill(saved, sent);
  }

  values() {
    return { name: this.name.value, description: this.description.value, retention: this.retention.value };
  }

  /** The form shows the topic as it is (only where a field still holds `unless`'s value, if given). */
  fill(topic, unless = null) {
    const shown = { name: topic.name, description: topic.description ?? "", retention: topic.retention_days == null ? "" : String(topic.retention_days) };
    for (const key of Object.keys(shown)) {
      if (unless === null || this[key].value === unless[key]) this[key].value = shown[key];
    }
  }

  /** Unarchiving is at once; archiving asks first (it makes the topic read-only for everyone). */
  toggleArchive() {
    const name = this.topic.name;
    if (this.topic.archived) return this.run(this.archiveButton, () => this.actions.archive(name, false));
    return confirmArchive(name, () => this.run(this.archiveButton, () => this.actions.archive(name, true)));
  }

  async run(button, action) {
    this.showError("");
    button.disabled = true;
    try {
      return await action();
    } catch (err) {
      this.showError(err.message);
      return undefined;
    } finally {
      button.disabled = false;
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}

/** The confirmation before an archive: the topic becomes read-only for everyone. */
export function confirmArchive(name, archive) {
  return openDialog({
    title: `Archive #${name}?`, submit: "Archive", danger: true, testid: "archive-confirm", fields: [],
    text: `Nobody will be able to post, edit, react or pin in #${name} until it is unarchived. It stays in lists and search.`,
  }, archive);
}
