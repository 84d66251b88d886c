// People (PROTOCOL.md section 14): a profile cache keyed by lower-case username.
// Names the renderers meet are collected for a moment and asked for with one
// `users:get`; `user:updated` and `presence` keep the entries current. The page
// also says it is in use (`presence:active`, at most once a minute). No DOM.

const BATCH_MS = 50;
const MAX_BATCH = 100;
const ACTIVE_EVERY_MS = 60_000;

const lower = (name) => String(name ?? "").replace(/^@/, "").toLowerCase();

export class People {
  /** request(event, payload) -> Promise of the ack's data; changed(): something renders again */
  constructor(request, changed) {
    this.request = request;
    this.changed = changed;
    this.profiles = new Map(); // lower-case username -> Profile
    this.asked = new Set(); // asked for (or being asked): not asked again
    this.wanted = new Set();
    this.timer = null;
    this.version = 0;
    this.lastActive = 0;
  }

  /** The profile known for a name (null until fetched); unknown names are fetched soon. */
  get(username) {
    const key = lower(username);
    if (!key) return null;
    const known = this.profiles.get(key);
    if (!known && !this.asked.has(key)) this.want(key);
    return known ?? null;
  }

  /** The name to show: the display name, else the username. */
  nameOf(username) {
    return this.get(username)?.display_name || String(username ?? "").replace(/^@/, "");
  }

  /** A short signature of what is shown of a person (for the renderers' change checks). */
  sigOf(username) {
    const p = this.get(username);
    return p ? `${p.display_name}|${p.avatar?.thumbnail_url ?? ""}|${p.availability ?? ""}` : "";
  }

  want(key) {
    this.asked.add(key);
    this.wanted.add(key);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  async flush() {
    this.timer = null;
    const names = [...this.wanted];
    this.wanted.clear();
    for (let i = 0; i < names.length; i += MAX_BATCH) {
      const batch = names.slice(i, i + MAX_BATCH);
      try {
        const data = await this.request("users:get", { usernames: batch });
        this.putAll(data?.users ?? []);
      } catch {
        for (const name of batch) this.asked.delete(name); // try again when next seen
      }
    }
  }

  /** Ask again now (a profile card opening): resolves to the fresh profile or null. */
  async fetch(username) {
    const data = await this.request("users:get", { usernames: [lower(username)] });
    this.putAll(data?.users ?? []);
    return this.profiles.get(lower(username)) ?? null;
  }

  put(profile) {
    if (!profile?.username) return;
    const key = lower(profile.username);
    this.asked.add(key);
    this.profiles.set(key, { ...this.profiles.get(key), ...profile });
    this.version += 1;
  }

  putAll(profiles) {
    for (const profile of profiles) this.put(profile);
    if (profiles.length) this.changed();
  }

  /** Members lists carry display_name, avatar and availability: take them as partial profiles. */
  noteMembers(list) {
    let changed = false;
    for (const m of list ?? []) {
      if (!m?.username || !("display_name" in m)) continue;
      const key = lower(m.username);
      const known = this.profiles.get(key);
      const next = { username: m.username, display_name: m.display_name, avatar: m.avatar ?? null, availability: m.availability ?? null };
      if (known && known.display_name === next.display_name && known.avatar?.thumbnail_url === next.avatar?.thumbnail_url
        && known.availability === next.availability) continue;
      this.profiles.set(key, { ...known, ...next });
      changed = true;
    }
    if (changed) { this.version += 1; this.changed(); }
  }

  /** user:updated */
  onUpdated(profile) {
    this.put(profile);
    this.changed();
  }

  /** presence {username, online, last_seen, availability} */
  onPresence({ username, online, last_seen: lastSeen, availability } = {}) {
    const key = lower(username);
    const known = this.profiles.get(key);
    if (!known) return;
    this.profiles.set(key, { ...known, online: Boolean(online), last_seen: lastSeen ?? known.last_seen,
      availability: availability === undefined ? known.availability : availability });
    this.version += 1;
  }

  // ---- my own profile ----------------------------------------------------------

  async update(changes) { return this.mine(await this.request("profile:update", changes)); }
  async setStatus(status) { return this.mine(await this.request("status:set", status)); }
  async clearStatus() { return this.mine(await this.request("status:clear", {})); }
  async setAvailability(availability) { return this.mine(await this.request("availability:set", { availability })); }

  mine(profile) {
    this.put(profile);
    this.changed();
    return profile;
  }

  /** users:search -> [Profile] */
  async search(q, limit = 20) {
    const data = await this.request("users:search", { q, limit });
    const users = data?.users ?? [];
    for (const user of users) this.put(user);
    return users;
  }

  /** User input: tell the server, at most once a minute. Returns true when sent. */
  active(send, now = Date.now()) {
    if (now - this.lastActive < ACTIVE_EVERY_MS) return false;
    this.lastActive = now;
    send();
    return true;
  }

  destroy() {
    clearTimeout(this.timer);
  }
}

// The renderers read the cache of the chat shown (one at a time).
let current = null;

export function setPeople(people) {
  current = people;
}

/** The cache of the chat shown (an empty one before sign-in). */
export function people() {
  if (!current) current = new People(() => Promise.reject(new Error("offline")), () => {});
  return current;
}

/**
 * The initials of a name for a default avatar: "Élodie Martin" -> "ÉM", "bob" -> "B". Each is a
 * word's first letter or digit, never punctuation (an erased user is "[deleted]": "D", not "[").
 */
export function initialsOf(name) {
  const words = String(name ?? "").match(/[\p{L}\p{N}][^\s._-]*/gu) ?? [];
  const letters = words.slice(0, 2).map((w) => [...w][0]).join("");
  return (letters || "?").toLocaleUpperCase();
}
