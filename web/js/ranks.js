// Roles and what a rank may do (PROTOCOL.md section 10): owner > admin >
// moderator > member, and a rank acts only on lower ranks. The server decides;
// the page only offers what would be allowed. Plain functions: no DOM, no network.

export const RANKS = { member: 0, moderator: 1, admin: 2, owner: 3 };

export const rankOf = (role) => RANKS[role] ?? 0;

/** Moderators and up: kick, ban, mute, delete any message. */
export const canModerate = (role) => rankOf(role) >= 1;

/** Owners and admins: roles, rename, describe, archive. */
export const canManage = (role) => rankOf(role) >= 2;

/** The roles `mine` may give: the owner gives admin, an admin gives moderator and member. */
export function rolesToGive(mine) {
  if (mine === "owner") return ["admin", "moderator", "member"];
  if (mine === "admin") return ["moderator", "member"];
  return [];
}

/**
 * What the menu of a member offers me: {roles: [role], moderate: bool}. Nothing on
 * myself, nothing on an equal or higher rank, nothing in a direct conversation.
 */
export function offeredOn(mine, theirs) {
  if (!mine || rankOf(mine) <= rankOf(theirs)) return { roles: [], moderate: false };
  return { roles: rolesToGive(mine).filter((r) => r !== theirs), moderate: canModerate(mine) };
}

/**
 * Whether I am muted in a conversation, from the newest mute or unmute of me among
 * its system messages held (the members list does not say): {until: Date|null} or null.
 */
export function myMute(messages, me, now = Date.now()) {
  const lower = me.toLowerCase();
  for (let i = messages.length - 1; i >= 0; i--) {
    const system = messages[i].type === "system" ? messages[i].system : null;
    if (!system || String(system.target ?? "").toLowerCase() !== lower) continue;
    if (system.action === "unmute" || system.action === "kick" || system.action === "ban") return null;
    if (system.action !== "mute") continue;
    const until = system.until ? new Date(system.until) : null;
    return until && until.getTime() <= now ? null : { until };
  }
  return null;
}
