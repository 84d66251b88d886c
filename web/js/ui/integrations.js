// Section 12 of the protocol in the page: a topic's incoming webhooks (in the topic
// settings panel, for its owner and admins) and the user's bots with their API
// tokens. A new hook URL or token is shown once, with a copy button; lists show
// what the server keeps (never a secret). Errors show under each section.
import { h } from "./dom.js";

function secretBox(testid, label) {
  const value = h("input", { class: "secret-value", readonly: true, "data-testid": `${testid}-value`, "aria-label": label });
  const copy = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": `${testid}-copy`,
    onclick: () => navigator.clipboard?.writeText(value.value).catch(() => {}) }, "Copy");
  const el = h("div", { class: "secret-box inline-row", "data-testid": testid, hidden: true }, value, copy);
  return { el, show(text) { value.value = text; el.hidden = !text; } };
}

function errorLine(testid) {
  return h("p", { class: "form-error small", role: "alert", "data-testid": testid, hidden: true });
}

function showError(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

/** The Integrations section of a topic: calls {list(topic), create(topic), revoke(topic, id)}. */
export class HooksSection {
  constructor(calls) {
    this.calls = calls;
    this.topic = null;
    this.list = h("ul", { class: "plain-list", "data-testid": "hooks-list" });
    this.secret = secretBox("hook-url", "The new hook's URL (shown once)");
    this.error = errorLine("hooks-error");
    this.createButton = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "hook-create", onclick: () => this.create() }, "Create incoming webhook");
    this.el = h("section", { class: "settings-integrations", "data-testid": "integrations" },
      h("h3", { class: "settings-title" }, "Integrations"),
      h("p", { class: "hint" }, "An incoming webhook posts into this topic as a bot: POST JSON {\"text\"} to its URL."),
      this.createButton, this.secret.el, this.error, this.list);
  }

  /** The panel shows ``topic``: load its hooks when it changed. */
  show(topic) {
    if (topic === this.topic) return;
    this.topic = topic;
    this.secret.show("");
    showError(this.error, "");
    this.load();
  }

  async load() {
    const topic = this.topic;
    try {
      const { hooks } = await this.calls.list(topic);
      if (topic === this.topic) this.renderList(hooks);
    } catch (err) {
      showError(this.error, err.message);
    }
  }

  renderList(hooks) {
    this.list.replaceChildren(...hooks.map((hook) => h("li", { class: "inline-row", "data-testid": "hook-item", "data-id": hook.id },
      h("span", {}, `${hook.bot} `, h("span", { class: "bot-badge" }, "BOT")),
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "hook-revoke", onclick: () => this.revoke(hook.id) }, "Revoke"))));
  }

  async create() {
    showError(this.error, "");
    try {
      const made = await this.calls.create(this.topic);
      this.secret.show(new URL(made.url, location.href).href);
      await this.load();
    } catch (err) {
      showError(this.error, err.message);
    }
  }

  async revoke(id) {
    showError(this.error, "");
    try {
      await this.calls.revoke(this.topic, id);
      await this.load();
    } catch (err) {
      showError(this.error, err.message);
    }
  }
}

/** The Bots section: calls {list(), create(name), tokens(bot), makeToken(bot, label), revokeToken(bot, id)}. */
export class BotsSection {
  constructor(calls) {
    this.calls = calls;
    this.name = h("input", { "data-testid": "bot-name", placeholder: "bot name", maxlength: "32", autocomplete: "off", autocapitalize: "none", spellcheck: "false", "aria-label": "New bot's name" });
    this.form = h("form", { class: "inline-row" }, this.name, h("button", { class: "btn btn-ghost btn-small", type: "submit", "data-testid": "bot-create" }, "Create bot"));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.create(); });
    this.secret = secretBox("bot-token", "The new token (shown once)");
    this.error = errorLine("bots-error");
    this.list = h("ul", { class: "plain-list", "data-testid": "bots-list" });
    this.el = h("section", { class: "settings-bots", "data-testid": "bots" },
      h("h3", { class: "settings-title" }, "Your bots"), this.form, this.secret.el, this.error, this.list);
  }

  async load() {
    try {
      const { bots } = await this.calls.list();
      const items = [];
      for (const bot of bots) items.push(await this.item(bot.username));
      this.list.replaceChildren(...items);
    } catch (err) {
      showError(this.error, err.message);
    }
  }

  async item(bot) {
    const { tokens } = await this.calls.tokens(bot);
    return h("li", { "data-testid": "bot-item", "data-bot": bot },
      h("div", { class: "inline-row" }, h("strong", {}, bot), h("span", { class: "bot-badge" }, "BOT"),
        h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "bot-token-create", onclick: () => this.makeToken(bot) }, "New token")),
      h("ul", { class: "plain-list" }, ...tokens.map((t) => h("li", { class: "inline-row", "data-testid": "bot-token-item" },
        h("span", {}, t.label || "(no label)"),
        h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "bot-token-revoke", onclick: () => this.revoke(bot, t.id) }, "Revoke")))));
  }

  async create() {
    await this.run(async () => {
      await this.calls.create(this.name.value.trim());
      this.name.value = "";
    });
  }

  async makeToken(bot) {
    await this.run(async () => this.secret.show((await this.calls.makeToken(bot, "web")).token));
  }

  async revoke(bot, id) {
    await this.run(() => this.calls.revokeToken(bot, id));
  }

  async run(action) {
    showError(this.error, "");
    try {
      await action();
      await this.load();
    } catch (err) {
      showError(this.error, err.message);
    }
  }
}
