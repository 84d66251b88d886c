// The login token lives in sessionStorage: it survives a reload of the tab,
// not the tab itself.

const KEY = "parley.session";

export function loadCredentials() {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    return value && typeof value.token === "string" ? value : null;
  } catch {
    return null;
  }
}

export function saveCredentials({ token, username, expiresAt = null }) {
  sessionStorage.setItem(KEY, JSON.stringify({ token, username, expiresAt }));
}

export function clearCredentials() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(`${KEY}.topic`);
}

/** The conversation that was open, so that a reload returns to it. */
export const rememberTopic = (name) => sessionStorage.setItem(`${KEY}.topic`, name ?? "");
export const rememberedTopic = () => sessionStorage.getItem(`${KEY}.topic`) || null;
