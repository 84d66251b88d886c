"""The web page's state module (``web/js/state.js``: no DOM, no network), run by node.

The topic list a page asks for on ``session`` can be read by the server before a topic is created
and answered after that topic's ``topic:created`` reached the page: the page must keep the topic it
was told of live (a browser test waited 10 s for such a topic in CI).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

STATE = Path(__file__).resolve().parents[2] / "web" / "js" / "state.js"


def run_module(node: str, body: str) -> object:
    script = f"import {{ ChatState }} from {json.dumps(STATE.as_uri())};\n{body}"
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_topic_announced_while_the_list_was_asked_for_stays(node: str) -> None:
    names = run_module(
        node,
        """
const state = new ChatState("bob");
state.setTopics([{ name: "general", kind: "public" }]);
const since = state.mark();                         // topic:list asked for
state.putTopic({ name: "rules", kind: "public" });  // topic:created arrives first
state.setTopics([{ name: "general", kind: "public" }], since);  // the list read before it
console.log(JSON.stringify([...state.topics.keys()]));
""",
    )
    assert names == ["general", "rules"]


def test_a_list_asked_for_after_a_topic_was_put_is_the_whole_truth(node: str) -> None:
    names = run_module(
        node,
        """
const state = new ChatState("bob");
state.putTopic({ name: "rules", kind: "public" });
const since = state.mark();                         // asked for after: the server's list is newer
state.setTopics([{ name: "general", kind: "public" }], since);
console.log(JSON.stringify([...state.topics.keys()]));
""",
    )
    assert names == ["general"]


def test_a_topic_changed_while_the_list_was_asked_for_keeps_its_change(node: str) -> None:
    """The bell's answer (topic:notify) put after a list was asked for is newer than that list's
    copy (a browser test saw its "none" turned back into "mentions")."""
    levels = run_module(
        node,
        """
const state = new ChatState("alice");
state.setTopics([{ name: "busy", kind: "public", notify: "mentions" }]);
const since = state.mark();                                            // topic:list asked for
state.putTopic({ name: "busy", kind: "public", notify: "none" });      // topic:notify answered
state.setTopics([{ name: "busy", kind: "public", notify: "mentions" }], since);  // read before it
const after = state.mark();
state.setTopics([{ name: "busy", kind: "public", notify: "all" }], after);       // a newer list
console.log(JSON.stringify([state.topics.get("busy").notify, state.topics.size]));
""",
    )
    assert levels == ["all", 1]


def test_a_put_topic_kept_over_a_stale_list_is_the_newest_put(node: str) -> None:
    levels = run_module(
        node,
        """
const state = new ChatState("alice");
state.setTopics([{ name: "busy", kind: "public", notify: "all" }]);
const since = state.mark();
state.putTopic({ name: "busy", kind: "public", notify: "none" });
state.setTopics([{ name: "busy", kind: "public", notify: "all" }], since);
console.log(JSON.stringify([state.topics.get("busy").notify]));
""",
    )
    assert levels == ["none"]


def test_my_role_in_a_topic_comes_from_the_list_until_its_members_are_known(node: str) -> None:
    """A crowded topic's members are not asked for when it opens (#lobby holds every account):
    the page's role there, which decides who may pin, comes from the Topic (``owner``, ``role``,
    ``subscribed``) until a member list is known, and from that list after."""
    roles = run_module(
        node,
        """
const state = new ChatState("bob");
state.setTopics([
  { name: "lobby", kind: "public", owner: null, subscribed: true, role: null },
  { name: "garden", kind: "public", owner: "alice", subscribed: true, role: "moderator" },
  { name: "mine", kind: "public", owner: "bob", subscribed: true, role: null },
  { name: "elsewhere", kind: "public", owner: "alice", subscribed: false, role: null },
]);
const before = ["lobby", "garden", "mine", "elsewhere"].map((name) => state.roleIn(name));
const pins = ["lobby", "garden"].map((name) => state.canPin(name));
state.rosters.set("garden", { list: [{ username: "bob", role: "admin" }], at: Date.now() });
console.log(JSON.stringify({ before, pins, after: state.roleIn("garden") }));
""",
    )
    assert roles == {
        "before": ["member", "moderator", "owner", None],
        "pins": [False, True],
        "after": "admin",
    }
