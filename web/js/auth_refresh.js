// Token refresh (PROTOCOL.md sections 10 and 19): when the server says the socket's
// token is about to expire (auth:expiring), get a new one through the refresh cookie
// (./session.js: one refresh at a time across tabs), hand it to the live socket
// (auth:refresh) and keep it for reconnects. If no notice comes, the page refreshes by
// itself a little before the expiry it was told at login. A token another tab got is
// taken as is. Its clock can be moved forward by a test (advanceClock) so that nothing
// has to wait for real time.
import { AUTH_CODES } from "./errors.js";
import * as session from "./session.js";

const EARLY_MS = 30_000; // refresh by itself this long before the expiry (if no notice came)
const MIN_GAP_MS = 5_000;
const MAX_TIMER_MS = 2 ** 31 - 1; // not more often than this (less for a token that lives shorter)

export class TokenRefresher {
  /** env: {creds (updated in place), save(creds), conn(): ChatConnection} */
  constructor(env) {
    this.env = env;
    this.skew = 0; // ms added to Date.now(): advanceClock
    this.count = 0; // refreshes done
    this.lastAt = -Infinity; // page-clock ms of the last refresh
    this.lastError = null;
    this.running = null;
    this.dueAt = null;
    this.timer = null;
    this.shared = 0; // tokens taken from another tab
    this.unshare = session.onSharedToken((fresh) => this.adopt(fresh));
    this.armFallback();
  }

  now() { return Date.now() + this.skew; }

  get expiresAt() {
    const at = Date.parse(this.env.creds.expiresAt ?? "");
    return Number.isNaN(at) ? null : at;
  }

  /** auth:expiring {expires_at}: refresh now, or as soon as the last refresh is far enough back. */
  onExpiring() {
    this.arm(Math.max(this.now(), this.lastAt + this.gap()));
  }

  /** Refresh by itself before the expiry known from the login or the last refresh. */
  armFallback() {
    if (this.closed) return;
    const expires = this.expiresAt;
    if (expires === null) return;
    const lead = Math.min(EARLY_MS, Math.max(0, (expires - this.now()) / 2));
    this.arm(Math.max(expires - lead, this.lastAt + this.gap()));
  }

  /** At most every MIN_GAP_MS, and at most twice in a short token's life. */
  gap() {
    const expires = this.expiresAt;
    if (expires === null || this.lastAt === -Infinity) return MIN_GAP_MS;
    return Math.min(MIN_GAP_MS, Math.max(250, (expires - this.lastAt) / 2));
  }

  arm(dueAt) {
    if (this.closed) return;
    if (this.dueAt !== null && this.dueAt <= dueAt && this.timer) return; // an earlier one is set
    this.dueAt = dueAt;
    clearTimeout(this.timer);
    const delay = dueAt - this.now();
    // A longer setTimeout fires at once: wait the longest allowed, then look again.
    this.timer = delay > MAX_TIMER_MS
      ? setTimeout(() => { this.dueAt = null; this.arm(dueAt); }, MAX_TIMER_MS)
      : setTimeout(() => this.fire(), Math.max(0, delay));
  }

  fire() {
    this.timer = null;
    this.dueAt = null;
    this.refresh();
  }

  /** Move the page's clock forward (tests): what is due by then runs now. */
  advanceClock(ms) {
    this.skew += ms;
    const due = this.dueAt;
    if (due === null) return;
    this.dueAt = null;
    this.arm(due);
  }

  /** Get a new token and give it to the socket; one refresh at a time. */
  refresh() {
    this.running ??= this.run().finally(() => { this.running = null; });
    return this.running;
  }

  async run() {
    try {
      await this.use(await session.refresh(this.env.creds.username));
      this.count += 1;
      this.lastError = null;
    } catch (err) {
      // An expired or revoked token: the next connect says so and the page asks to log in.
      this.lastError = err.code ?? "error";
      this.closed ||= AUTH_CODES.has(err.code); // no use trying again with it
    } finally {
      this.lastAt = this.now();
      this.armFallback();
    }
  }

  /** A token: kept, and given to the live socket and its reconnects. */
  async use(fresh) {
    const { creds } = this.env;
    if (fresh.token === creds.token) return;
    Object.assign(creds, { token: fresh.token, expiresAt: fresh.expires_at ?? null });
    this.env.save(creds);
    const conn = this.env.conn();
    conn.setToken(fresh.token); // the next reconnect uses it
    if (conn.connected) {
      const data = await conn.request("auth:refresh", { token: fresh.token }, { waitForConnection: false });
      if (data?.expires_at) this.env.save(Object.assign(creds, { expiresAt: data.expires_at })); // the socket's own
    }
  }

  /** Another tab refreshed the session: its token serves here too, and the next refresh moves on. */
  adopt(fresh) {
    if (this.closed || this.running) return; // a refresh of ours is waiting: it takes this one
    if (fresh.username && fresh.username.toLowerCase() !== String(this.env.creds.username).toLowerCase()) {
      this.env.replaced?.(fresh.username); // someone else signed in on this browser: the session is theirs now
      return;
    }
    this.running = this.use(fresh).then(() => {
      this.shared += 1;
      this.lastAt = this.now();
      clearTimeout(this.timer);
      this.timer = null;
      this.dueAt = null;
      this.armFallback();
    }, () => {}).finally(() => { this.running = null; });
  }

  /** What a test may look at. */
  stats() {
    return { count: this.count, shared: this.shared, lastError: this.lastError, expiresAt: this.env.creds.expiresAt, dueIn: this.dueAt === null ? null : this.dueAt - this.now() };
  }

  close() {
    this.closed = true;
    this.unshare();
    clearTimeout(this.timer);
  }
}
