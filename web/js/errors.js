// One error type for REST and Socket.IO failures, carrying the protocol's code
// and a sentence a person can read.

const FALLBACK = {
  invalid: "That was not accepted: check what you typed.",
  unauthorized: "Please log in again.",
  token_expired: "Your session has expired. Please log in again.",
  token_revoked: "You were logged out. Please log in again.",
  forbidden: "You are not allowed to do that.",
  not_found: "That does not exist.",
  conflict: "That already exists.",
  rate_limited: "You are going too fast. Wait a moment and try again.",
  too_large: "That is too large.",
  internal: "The server had a problem. Try again.",
  timeout: "The server did not answer in time. Try again.",
  network: "The server cannot be reached. Check your connection.",
  offline: "You are offline. Try again once the connection is back.",
};

export class ChatError extends Error {
  constructor(code, message) {
    super(sentence(message) || FALLBACK[code] || "Something went wrong.");
    this.name = "ChatError";
    this.code = code;
  }
}

/** "wrong username or password" -> "Wrong username or password" */
function sentence(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

/** Build a ChatError from a protocol error object {code, message} (or anything). */
export function toChatError(error, fallbackCode = "internal") {
  if (error instanceof ChatError) return error;
  const code = typeof error?.code === "string" ? error.code : fallbackCode;
  const message = typeof error?.message === "string" ? error.message : "";
  return new ChatError(code, message);
}

export const AUTH_CODES = new Set(["unauthorized", "token_expired", "token_revoked"]);
