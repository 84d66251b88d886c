// Files (section 11 of the protocol): upload with progress, the server's size
// limit, and the bytes of a file shown or saved. Downloads need the Bearer
// token, which an <img> or a link cannot send: the bytes are fetched and shown
// from a blob: URL (kept per file for the page's life, so a message re-drawn
// does not fetch its thumbnail again).
import { ChatError } from "./errors.js";

let tokenOf = () => null;
let limits = null;
const blobs = new Map(); // url -> Promise<object URL>

/** token(): the current token (it changes when refreshed). */
export function configureFiles(token) {
  tokenOf = token;
}

/** GET /api/files/limits -> {max_bytes} (asked once). */
export async function fileLimits() {
  if (!limits) {
    limits = fetch("/api/files/limits", { headers: authorization() })
      .then((r) => (r.ok ? r.json() : { max_bytes: 10 * 1024 * 1024 }))
      .catch(() => { limits = null; return { max_bytes: 10 * 1024 * 1024 }; });
  }
  return limits;
}

/** POST /api/files with progress: onProgress(fraction 0..1); resolves to the File object. */
export function uploadFile(file, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/files");
    const token = tokenOf();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let payload = null;
      try { payload = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 201 && payload) return resolve(payload);
      const error = payload?.error;
      reject(new ChatError(error?.code ?? (xhr.status === 413 ? "too_large" : "internal"), error?.message ?? ""));
    });
    xhr.addEventListener("error", () => reject(new ChatError("network")));
    const form = new FormData();
    form.append("file", file, file.name || "pasted-image.png");
    xhr.send(form);
  });
}

/** A blob: URL with the bytes of url (fetched once). */
export function blobUrl(url) {
  if (!blobs.has(url)) {
    const loading = fetch(url, { headers: authorization() }).then(async (response) => {
      if (!response.ok) throw new ChatError(response.status === 404 ? "not_found" : "internal");
      return URL.createObjectURL(await response.blob());
    });
    loading.catch(() => blobs.delete(url)); // try again next time
    blobs.set(url, loading);
  }
  return blobs.get(url);
}

/** Save a file under its name (fetched with the token, then a download link clicked). */
export async function saveFile(file) {
  const url = await blobUrl(file.url);
  const link = document.createElement("a");
  link.href = url;
  link.download = file.name || "file";
  document.body.append(link);
  link.click();
  link.remove();
}

/** "512 B", "12.3 KB", "4.0 MB". */
export function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function authorization() {
  const token = tokenOf();
  return token ? { Authorization: `Bearer ${token}` } : {};
}
