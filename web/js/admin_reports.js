// Parley: the Admin UI's Reports page (server/edge/rest/admin_reports.py and .html), served at
// /admin/parley-reports.js.
const $ = (id) => document.getElementById(id);
let credentials = sessionStorage.getItem("parley_admin_basic");
let readOnly = true;

async function call(path, method = "GET") {
  const response = await fetch(path, { method, headers: { Authorization: `Basic ${credentials}` } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? "-";
  if (className) td.className = className;
  return td;
}

function action(td, label, run) {
  const button = document.createElement("button");
  button.textContent = label;
  button.disabled = readOnly;
  if (readOnly) button.title = "the Admin UI is read-only (PARLEY_ADMIN_READ_ONLY)";
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      $("status").textContent = await run();
      await load();
    } catch (error) {
      $("status").textContent = error.message;
      button.disabled = false;
    }
  });
  td.append(button, " ");
}

function render(reports) {
  const body = $("reports").tBodies[0];
  body.replaceChildren();
  for (const report of reports) {
    const message = report.message;
    const row = body.insertRow();
    row.dataset.report = report.id;
    cell(row, report.created_at);
    cell(row, report.reporter);
    cell(row, report.reason, "excerpt");
    cell(row, message.topic);
    cell(row, message.sender);
    const shown = cell(row, message.deleted ? "(deleted)" : message.excerpt, "excerpt");
    if (message.link) {
      const link = document.createElement("a");
      link.href = message.link;
      link.textContent = `#${message.id}`;
      shown.prepend(link, " ");
    }
    const actions = row.insertCell();
    if (!message.deleted) {
      action(actions, "Delete message", async () => {
        await call(`api/messages/${message.id}/delete`, "POST");
        return `deleted message ${message.id}`;
      });
    }
    if (message.sender) {
      action(actions, `Disable ${message.sender}`, async () => {
        await call(`api/users/${encodeURIComponent(message.sender)}/disable`, "POST");
        return `disabled ${message.sender}: tokens revoked, open sockets close`;
      });
    }
  }
  $("reports").hidden = false;
}

async function load() {
  const listed = await call("api/reports");
  readOnly = listed.read_only;
  render(listed.reports);
  if (!$("status").textContent) {
    $("status").textContent = `${listed.reports.length} reports${readOnly ? " (read-only)" : ""}`;
  }
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  credentials = btoa(`${$("username").value}:${$("password").value}`);
  $("status").textContent = "";
  try {
    await call("api/login"); // the sign-in: an admin.login audit row (PROTOCOL.md section 16)
    await load();
    sessionStorage.setItem("parley_admin_basic", credentials);
    $("login").hidden = true;
  } catch (error) {
    $("status").textContent = error.message;
  }
});

if (credentials) load().then(() => { $("login").hidden = true; }, () => sessionStorage.clear());
