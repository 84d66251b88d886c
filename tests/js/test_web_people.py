"""The web page's people module (``web/js/people.js``), run by node: default avatars' initials."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

PEOPLE = Path(__file__).resolve().parents[2] / "web" / "js" / "people.js"


def initials(node: str, *names: str) -> list[str]:
    script = (
        f"import {{ initialsOf }} from {json.dumps(PEOPLE.as_uri())};\n"
        f"console.log(JSON.stringify({json.dumps(list(names))}.map(initialsOf)));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stdout)
    return found


def test_initials_are_letters_or_digits_never_punctuation(node: str) -> None:
    """An erased user is shown as ``[deleted]`` (PROTOCOL.md section 16): its avatar read "["."""
    names = ("[deleted]", "Élodie Martin", "bob", "@alice", "(ops) team", "9lives", "", "!!")
    assert initials(node, *names) == ["D", "ÉM", "B", "A", "OT", "9", "?", "?"]
