// The sidebar: who I am, my topics, my direct conversations, public topics to
// browse, and the forms to create a topic or start a direct conversation.
import { badges, levelOf } from "../notify.js";
import { checkTopicName, isDirect, keyOf, peerOf } from "../targets.js";
import { people } from "../people.js";
import { fill, h, icon, ICONS, reconcile } from "./dom.js";
import { AvailabilityMenu, availabilityLabel, availabilityOf, openFindPeople, openProfileEditor, openStatusPicker, personAvatar, presenceDot } from "./people_parts.js";
import { plural } from "./format.js";
import { PeoplePicker, resolvePerson } from "./people_picker.js";

export class Sidebar {
  /**
   * actions: open(name), createTopic(name, isPrivate), startDirect(username), logout(), search(), notifications(),
   * account() (password, sessions, my data, deletion), admin()
   */
  constructor(actions) {
    this.actions = actions;
    this.forms = []; // {error, reset}: cleared when the user moves to another conversation
    this.shownFor = undefined;
    this.me = h("div", { class: "me" });
    this.availability = new AvailabilityMenu();
    this.adminButton = h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "admin-open", hidden: true,
      onclick: () => actions.admin() }, "Administration");
    this.meTools = h("div", { class: "me-tools" },
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "profile-edit-open", onclick: () => openProfileEditor(this.meName) }, "Edit profile"),
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "status-open", onclick: () => openStatusPicker(this.meName) }, "Set status"),
      this.availability.el,
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "find-people-open",
        onclick: () => openFindPeople({ message: (u) => actions.startDirect(u) }) }, "Find people"),
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "notify-settings-open",
        onclick: () => actions.notifications() }, "Notifications"),
      h("button", { class: "btn btn-ghost btn-small", type: "button", "data-testid": "account-open",
        onclick: () => actions.account() }, "My account"),
      this.adminButton);
    this.mine = h("ul", { class: "topic-list", "data-testid": "my-topics", "aria-label": "My topics" });
    this.directs = h("ul", { class: "topic-list", "data-testid": "direct-list", "aria-label": "Direct messages" });
    this.browse = h("ul", { class: "topic-list", "data-testid": "browse-list", "aria-label": "Public topics to join" });
    this.browseEmpty = h("p", { class: "list-empty" }, "No other public topics yet.");
    this.createForm = this.buildCreateForm();
    this.dmForm = this.buildDirectForm();
    this.el = h("aside", { class: "sidebar", id: "sidebar", "data-testid": "sidebar", "aria-label": "Topics and conversations" },
      h("div", { class: "sidebar-top" },
        h("div", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }, "P"), "Parley"),
        this.me, this.meTools),
      h("button", { class: "search-launch", type: "button", "data-testid": "search-launch", "aria-controls": "search-panel", onclick: () => actions.search() },
        icon(ICONS.search), h("span", {}, "Search messages"), h("kbd", {}, "Ctrl K")),
      h("nav", { class: "sidebar-scroll" },
        this.section("Topics", this.mine, this.createForm),
        this.section("Direct messages", this.directs, this.dmForm),
        this.section("Browse public topics", this.browse, this.browseEmpty)));
  }

  section(title, ...content) {
    return h("section", { class: "side-section" },
      h("div", { class: "side-head" }, h("h2", { class: "side-title" }, title)), ...content);
  }

  buildCreateForm() {
    const name = h("input", { id: "create-topic-name", "data-testid": "create-topic-name", placeholder: "New topic…", maxlength: "64", autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
    const priv = h("input", { id: "create-topic-private", type: "checkbox", "data-testid": "create-topic-private" });
    const error = h("p", { class: "form-error small", role: "alert", "data-testid": "create-topic-error", hidden: true });
    const form = h("form", { class: "side-form", "aria-label": "Create a topic" },
      h("div", { class: "side-row" },
        h("label", { for: "create-topic-name", class: "sr-only" }, "New topic name"), name,
        h("button", { class: "add-btn", type: "submit", "data-testid": "create-topic-submit", "aria-label": "Create topic", title: "Create topic" }, icon(ICONS.plus))),
      h("label", { class: "check" }, priv, "Private (invite only)"),
      error);
    this.forms.push({ error, reset: () => { name.value = ""; priv.checked = false; } });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(form, error, checkTopicName(name.value.trim()),
        () => this.actions.createTopic(name.value.trim(), priv.checked),
        () => { name.value = ""; priv.checked = false; });
    });
    return form;
  }

  buildDirectForm() {
    const user = h("input", { id: "dm-username", "data-testid": "dm-username", placeholder: "Message someone…", maxlength: "64", autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
    const picker = new PeoplePicker(user, "People to message");
    const error = h("p", { class: "form-error small", role: "alert", "data-testid": "dm-error", hidden: true });
    const form = h("form", { class: "side-form", "aria-label": "Start a direct conversation" },
      h("div", { class: "side-row" },
        h("label", { for: "dm-username", class: "sr-only" }, "Name or username to message"), h("span", { class: "picker-wrap" }, user, picker.list),
        h("button", { class: "add-btn", type: "submit", "data-testid": "dm-start", "aria-label": "Start conversation", title: "Start conversation" }, icon(ICONS.send))),
      error);
    this.forms.push({ error, reset: () => { user.value = ""; } });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(form, error, user.value.trim() ? null : "Type a name or a username.",
        async () => this.actions.startDirect(await resolvePerson(user.value)), () => { user.value = ""; });
    });
    return form;
  }

  async submit(form, error, problem, action, reset) {
    error.textContent = problem ?? "";
    error.hidden = !problem;
    if (problem) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await action();
      reset();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  render(state) {
    this.renderMe(state);
    this.adminButton.hidden = !["owner", "admin"].includes(state.role); // section 19: owners and admins
    if (state.current !== this.shownFor) { // moved elsewhere: a failed attempt's leftovers go
      this.shownFor = state.current;
      for (const { error, reset } of this.forms) {
        if (error.hidden) continue;
        error.textContent = "";
        error.hidden = true;
        reset();
      }
    }
    const topics = [...state.topics.values()].sort((a, b) => a.name.localeCompare(b.name));
    const mine = topics.filter((t) => t.kind !== "direct" && !isDirect(t.name) && t.subscribed);
    const directs = topics.filter((t) => t.kind === "direct" || isDirect(t.name));
    const browse = topics.filter((t) => t.kind === "public" && !t.subscribed && !isDirect(t.name));
    this.renderList(this.mine, mine, state);
    this.renderList(this.directs, directs, state);
    this.renderList(this.browse, browse, state);
    this.browseEmpty.hidden = browse.length > 0;
  }

  renderMe(state) {
    this.meName = state.me;
    const mine = people().get(state.me);
    this.availability.render(mine?.availability);
    const status = mine?.status && (mine.status.emoji || mine.status.text) ? [mine.status.emoji, mine.status.text].filter(Boolean).join(" ") : "";
    const sig = `${state.me}|${state.connection}|${people().sigOf(state.me)}|${status}`;
    if (this.me.dataset.sig === sig) return;
    this.me.dataset.sig = sig;
    const online = state.connection === "online" || state.connection === "reconnected";
    fill(this.me,
      h("span", { class: "me-avatar" }, personAvatar(state.me, "", () => this.actions.profile?.(state.me)), presenceDot(availabilityOf(state.me, online))),
      h("span", { class: "me-text" },
        mine?.display_name ? h("span", { class: "me-display", "data-testid": "me-display-name" }, mine.display_name) : null,
        h("span", { class: "me-name", "data-testid": "me" }, state.me),
        status ? h("span", { class: "me-status", "data-testid": "me-status" }, status) : null),
      h("button", { class: "icon-btn", type: "button", "data-testid": "logout", "aria-label": "Log out", title: "Log out", onclick: () => this.actions.logout() }, icon(ICONS.logout)));
  }

  renderList(list, topics, state) {
    reconcile(list, topics.map((topic) => ({
      key: keyOf(topic.name),
      create: () => h("li", {}),
      update: () => {},
    })));
    [...list.children].forEach((li, i) => this.renderItem(li, topics[i], state));
  }

  renderItem(li, topic, state) {
    const active = state.current === keyOf(topic.name);
    const online = state.peerOnline(topic);
    const meta = itemMeta(topic, online);
    const { unread, mentions } = badges(topic);
    const level = levelOf(topic);
    const peer = isDirect(topic.name) ? peerOf(topic.name) : null;
    const sig = JSON.stringify([topic.name, topic.kind, unread, mentions, level, active, online, meta, peer && people().sigOf(peer)]);
    if (li.dataset.sig === sig) return;
    li.dataset.sig = sig;
    const button = h("button", {
      type: "button", class: `topic-item${active ? " active" : ""}${unread || mentions ? " has-unread" : ""}`,
      "data-testid": "topic-item", "data-topic": topic.name, "data-kind": topic.kind, "data-notify": level,
      "aria-current": active ? "page" : null, onclick: () => this.actions.open(topic.name),
    },
      itemIcon(topic, online),
      h("span", { class: "topic-text" },
        h("span", { class: "topic-name" }, peer ? people().nameOf(peer) : topic.name),
        h("span", { class: "topic-meta" }, meta)),
      level === "none" ? h("span", { class: "muted-bell", title: "Notifications off", "data-testid": "muted-mark" }, icon(ICONS.bellOff, "Notifications off")) : null,
      mentions ? h("span", { class: "badge mention-badge", "data-testid": "mention-badge", "aria-label": `${mentions} ${mentions === 1 ? "mention" : "mentions"}` }, `@${count(mentions)}`) : null,
      unread ? h("span", { class: "badge", "data-testid": "unread-badge", "aria-label": `${unread} unread` }, count(unread)) : null);
    fill(li, button);
  }
}

const count = (n) => (n > 99 ? "99+" : String(n));

function itemIcon(topic, online) {
  if (isDirect(topic.name)) {
    return h("span", { class: "item-avatar" }, personAvatar(peerOf(topic.name)),
      presenceDot(availabilityOf(peerOf(topic.name), online), { "data-testid": "presence-dot", "data-online": String(Boolean(online)) }));
  }
  return h("span", { class: "topic-icon" }, topic.kind === "private" ? icon(ICONS.lock) : "#");
}

function itemMeta(topic, online) {
  if (isDirect(topic.name)) return availabilityLabel(availabilityOf(peerOf(topic.name), online)).toLowerCase();
  if (!topic.subscribed) return plural(topic.members ?? 0, "member");
  return `${topic.online ?? 0} online`;
}
