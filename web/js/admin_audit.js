// Parley: the Admin UI's Audit log page (server/edge/rest/admin_audit.py and .html), served at
// /admin/parley-audit.js. The credentials go as HTTP Basic and are kept in the tab's
// sessionStorage under the Reports page's key (one sign-in for the admin pages).
const $ = (id) => document.getElementById(id);
const STORED = "parley_admin_basic";
let credentials = sessionStorage.getItem(STORED);

async function call(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value !== ""));
  const response = await fetch(`${path}?${query}`, { headers: { Authorization: `Basic ${credentials}` } });
  if (response.status === 204) return null;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? "-";
  if (className) td.className = className;
}

function render(entries) {
  const body = $("entries").tBodies[0];
  body.replaceChildren();
  for (const entry of entries) {
    const row = body.insertRow();
    row.dataset.entry = entry.id;
    cell(row, entry.at);
    cell(row, entry.actor);
    cell(row, entry.action);
    cell(row, entry.target);
    cell(row, entry.topic);
    cell(row, Object.keys(entry.details).length ? JSON.stringify(entry.details) : "", "details");
  }
  $("entries").hidden = false;
}

async function load() {
  const listed = await call("api/audit", {
    actor: $("actor").value.trim(),
    action: $("action").value.trim(),
    since: $("since").value,
    limit: $("limit").value,
  });
  render(listed.entries);
  $("status").textContent = `${listed.entries.length} rows, newest first`;
}

function signedIn() {
  $("login").hidden = true;
  $("filters").hidden = false;
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const typed = `${$("username").value}:${$("password").value}`;
  credentials = btoa(String.fromCharCode(...new TextEncoder().encode(typed)));
  $("status").textContent = "";
  try {
    await call("api/login"); // the sign-in: an admin.login row
    sessionStorage.setItem(STORED, credentials);
    signedIn();
    await load();
  } catch (error) {
    $("status").textContent = error.message;
  }
});

$("filters").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await load();
  } catch (error) {
    $("status").textContent = error.message;
  }
});

if (credentials) {
  load().then(signedIn, () => {
    sessionStorage.removeItem(STORED);
    credentials = null;
  });
}
