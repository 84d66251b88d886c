// Human-readable times and counts.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, {
  weekday: "long", day: "numeric", month: "long", year: "numeric",
});
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function parseTime(iso) {
  if (!iso) return null;
  // Treat a timestamp without a zone as UTC (the protocol sends UTC).
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`;
  const date = new Date(withZone);
  return Number.isNaN(date.getTime()) ? null : date;
}

export const clock = (date) => (date ? timeFmt.format(date) : "");
export const fullTime = (date) => (date ? fullFmt.format(date) : "");

export function dayKey(date) {
  if (!date) return "unknown";
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

export function dayLabel(date) {
  if (!date) return "Earlier";
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date) === dayKey(today)) return "Today";
  if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
  return dateFmt.format(date);
}

export function lastSeen(iso) {
  const date = parseTime(iso);
  if (!date) return "offline";
  const label = dayKey(date) === dayKey(new Date()) ? clock(date) : fullTime(date);
  return `last seen ${label}`;
}

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "alice is typing…", "alice and bob are typing…", "4 people are typing…". */
export function typingText(names) {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
