// A call's local media (PROTOCOL.md section 18): the microphone and the camera chosen in the
// devices menu (kept on this browser), the screen shared, and what to say when the browser
// refuses them. Media never reaches Parley: these tracks go to the peers' connections only.
//
// A refusal does not keep anyone out of a call: without the camera the call goes on audio-only,
// without the microphone it goes on listening only, and the message says which and why.

const DEVICES = "parley.callDevices";
const POLICY = "parley.iceTransportPolicy";

/** The devices kept on this browser: {audio: deviceId | null, video: deviceId | null}. */
export function chosenDevices() {
  try {
    const kept = JSON.parse(localStorage.getItem(DEVICES) ?? "{}");
    return { audio: kept.audio || null, video: kept.video || null };
  } catch {
    return { audio: null, video: null };
  }
}

export function chooseDevices(devices) {
  const now = { ...chosenDevices(), ...devices };
  localStorage.setItem(DEVICES, JSON.stringify(now));
  return now;
}

/** The microphones and cameras this browser has, named (names show once a permission was given). */
export async function listDevices() {
  const all = await navigator.mediaDevices?.enumerateDevices?.() ?? [];
  const named = (kind, word) => all.filter((d) => d.kind === kind)
    .map((d, i) => ({ id: d.deviceId, label: d.label || `${word} ${i + 1}` }));
  return { audio: named("audioinput", "Microphone"), video: named("videoinput", "Camera") };
}

/**
 * How a peer connection gathers its candidates: "relay" (TURN only) when this browser's
 * localStorage says so (`parley.iceTransportPolicy`) or the page's address has `?ice=relay`;
 * else "all". docs/calls.md: forcing the relay is how one tests a TURN server.
 */
export function iceTransportPolicy() {
  const asked = new URLSearchParams(location.search).get("ice") ?? localStorage.getItem(POLICY);
  return asked === "relay" ? "relay" : "all";
}

const constraint = (id) => (id ? { deviceId: { exact: id } } : true);

/** What the browser's refusal means for a person, by the error's name. */
export function refusalText(err, what) {
  const name = err?.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return `The browser refused the ${what}: allow it in the site's permissions (the icon left of the address), then try again.`;
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") return `No ${what} was found: plug one in, or pick another in Devices.`;
  if (name === "NotReadableError") return `The ${what} is busy in another application.`;
  return `The ${what} could not be started (${name || "error"}).`;
}

/**
 * The local stream for a call: the microphone, and the camera when `video`. A refused or missing
 * camera leaves the microphone; a refused microphone leaves nothing (listening only).
 * Returns {stream, problems: [text]}: what was refused, said once each.
 */
export async function openLocal(video) {
  const stream = new MediaStream();
  const problems = [];
  if (!navigator.mediaDevices?.getUserMedia) {
    return { stream, problems: ["This browser gives no microphone or camera here (a page must be served over HTTPS): you are listening only."] };
  }
  const chosen = chosenDevices();
  try {
    const got = await navigator.mediaDevices.getUserMedia({ audio: constraint(chosen.audio) });
    got.getAudioTracks().forEach((t) => stream.addTrack(t));
  } catch (err) {
    problems.push(`${refusalText(err, "microphone")} You are listening only.`);
  }
  if (video) {
    const camera = await openCamera().catch((err) => {
      problems.push(`${refusalText(err, "camera")} The call goes on without your video.`);
      return null;
    });
    if (camera) stream.addTrack(camera);
  }
  return { stream, problems };
}

/** A camera track (the chosen one), or throws the browser's refusal. */
export async function openCamera() {
  const got = await navigator.mediaDevices.getUserMedia({ video: constraint(chosenDevices().video) });
  return got.getVideoTracks()[0];
}

/** A microphone track (the chosen one), or throws the browser's refusal. */
export async function openMicrophone() {
  const got = await navigator.mediaDevices.getUserMedia({ audio: constraint(chosenDevices().audio) });
  return got.getAudioTracks()[0];
}

/** The screen, a window or a tab the person picks: a video track, or throws (cancelled: NotAllowedError). */
export async function openScreen() {
  if (!navigator.mediaDevices?.getDisplayMedia) throw Object.assign(new Error("no screen sharing"), { name: "NotSupportedError" });
  const got = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  return got.getVideoTracks()[0];
}
