// How a conversation is addressed on the wire.
//
// Topics are named as given ("general"); a direct conversation is reported by
// the server as "@" + the other user's name. Events that send use {topic} or
// {to: user}; events that refer to a position (history, read, delivered) use
// {topic} or {with: user}. Names are matched case-insensitively.

export const isDirect = (name) => name.startsWith("@");
export const keyOf = (name) => name.toLowerCase();
export const peerOf = (name) => name.slice(1);
export const directName = (username) => `@${username}`;

/** Payload part for message:send and typing. */
export function sendTarget(name) {
  return isDirect(name) ? { to: peerOf(name) } : { topic: name };
}

/** Payload part for history, read and delivered. */
export function positionTarget(name) {
  return isDirect(name) ? { with: peerOf(name) } : { topic: name };
}

/** Display label: "#general" or "@bob". */
export const labelOf = (name) => (isDirect(name) ? name : `#${name}`);

const NAME_RE = /^[A-Za-z0-9_.-]+$/;

export function checkTopicName(name) {
  if (!name) return "Give the topic a name.";
  if (name.length > 64) return "A topic name has at most 64 characters.";
  if (!NAME_RE.test(name)) return "A topic name may use letters, digits, _ . and - only.";
  return null;
}

export function checkUsername(name) {
  if (name.length < 3 || name.length > 32) return "A username has 3 to 32 characters.";
  if (!NAME_RE.test(name)) return "A username may use letters, digits, _ . and - only.";
  return null;
}
