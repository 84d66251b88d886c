// Markdown shortcuts in a message box: Ctrl/Cmd+B wraps the selection in `**`
// (bold), Ctrl/Cmd+I in `_` (italics), Ctrl/Cmd+E or Ctrl+Shift+C in backticks
// (code; a fence of three when the selection spans lines). With nothing
// selected the markers go in around the caret. The text goes in as if typed
// (the browser's undo keeps it, and "input" fires as for typing).

/** Handle a formatting key on a textarea; true when it was one (and is now done). */
export function formatKey(event, input) {
  const kind = shortcut(event);
  if (!kind) return false;
  event.preventDefault();
  const { selectionStart: start, selectionEnd: end, value } = input;
  const selected = value.slice(start, end);
  const lineStart = start === 0 || value[start - 1] === "\n";
  const [before, after] = markers(kind, selected, lineStart);
  insert(input, before + selected + after);
  input.setSelectionRange(start + before.length, start + before.length + selected.length);
  return true;
}

function shortcut(event) {
  if (event.altKey || event.isComposing) return null;
  const mod = event.ctrlKey || event.metaKey;
  if (!mod) return null;
  const key = event.key.toLowerCase();
  if (event.shiftKey) return key === "c" && event.ctrlKey ? "code" : null;
  return { b: "bold", i: "italic", e: "code" }[key] ?? null;
}

function markers(kind, selected, lineStart) {
  if (kind === "bold") return ["**", "**"];
  if (kind === "italic") return ["_", "_"];
  if (!selected.includes("\n")) return ["`", "`"];
  return [lineStart ? "```\n" : "\n```\n", "\n```"]; // a fence opens at the start of a line
}

/** Replace the selection as typing would; setRangeText where execCommand is gone. */
function insert(input, text) {
  input.focus();
  if (document.execCommand?.("insertText", false, text)) return;
  input.setRangeText(text, input.selectionStart, input.selectionEnd, "end");
  input.dispatchEvent(new Event("input", { bubbles: true }));
}
