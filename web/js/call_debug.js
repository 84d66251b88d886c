// What a test reads of a call in the page, as `window.parleyCalls`: the peer connections and
// their statistics (bytes received, the candidate pair in use), the video track sent. Set only on
// a page a test opened (window.__parleyTest, set before the page loads); a normal page exposes
// nothing.

/** Make `calls` (the page's Calls) readable by a test. */
export function exposeCalls(calls) {
  if (!window.__parleyTest) return;
  const peers = () => [...(calls.session?.peers.values() ?? [])];
  window.parleyCalls = {
    calls,
    /** [{peer, username, connection, ice, candidateErrors, sending}] of the call this page is in;
     * sending: {kind: the sender's track state ("live", "ended") or null, and its direction}. */
    peers: () => peers().map((p) => ({ peer: p.id, username: p.username, connection: p.pc.connectionState,
      ice: p.pc.iceConnectionState, gathering: p.pc.iceGatheringState, candidateErrors: p.candidateErrors,
      signaling: p.pc.signalingState, traffic: p.traffic,
      sending: Object.fromEntries(p.pc.getTransceivers().map((t) => [t.receiver.track.kind,
        `${t.sender.track?.readyState ?? "no track"} ${t.currentDirection ?? t.direction}`])) })),
    /** What the page could not open (the microphone, the camera), in its own words. */
    problems: () => calls.session?.problems ?? [],
    /** {username: bytes received} over every inbound RTP stream from that peer. */
    async received() {
      const out = {};
      for (const p of peers()) out[p.username ?? p.id] = sum(await p.pc.getStats(), "inbound-rtp", "bytesReceived");
      return out;
    },
    /** {username: the local candidate type of the pair in use ("host", "relay", ...) or null}. */
    async paths() {
      const out = {};
      for (const p of peers()) out[p.username ?? p.id] = selectedType(await p.pc.getStats());
      return out;
    },
    /** The video track this page sends: {label, displaySurface} or null. */
    sent() {
      const track = calls.session?.tracks().video;
      return track ? { label: track.label, displaySurface: track.getSettings().displaySurface ?? null } : null;
    },
    ringing: () => ({ call: calls.ringer.ringing, rings: calls.ringer.rings }),
  };
}

function sum(report, type, field) {
  let total = 0;
  report.forEach((s) => { if (s.type === type) total += s[field] ?? 0; });
  return total;
}

function selectedType(report) {
  let pairId = null;
  report.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
  const pair = pairId ? report.get(pairId) : null;
  if (!pair || pair.state !== "succeeded") return null;
  return report.get(pair.localCandidateId)?.candidateType ?? null;
}
