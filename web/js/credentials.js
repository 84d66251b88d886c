// The signed-in user, in this tab's memory only: {token, username, role, expiresAt}. The session
// itself is the refresh cookie (./session.js): a reload, another tab or a browser restart gets
// a new token through it. Only the conversation that was open is kept in sessionStorage, so that
// a reload returns to it.

const KEY = "parley.session";
let current = null;

export function loadCredentials() {
  return current;
}

export function saveCredentials(creds) {
  current = creds;
}

export function clearCredentials() {
  current = null;
  sessionStorage.removeItem(KEY); // a token an older page kept
  sessionStorage.removeItem(`${KEY}.topic`);
}

/** The conversation that was open, so that a reload returns to it. */
export const rememberTopic = (name) => sessionStorage.setItem(`${KEY}.topic`, name ?? "");
export const rememberedTopic = () => sessionStorage.getItem(`${KEY}.topic`) || null;
