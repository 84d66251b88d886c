"""Links (PROTOCOL.md section 13): ``links_of`` takes a one-line body of text and bare URLs by its
own path (``_one_line_hrefs``); that path must find exactly what the full Markdown parse finds.

The differential corpus is made of pieces that change what the parse sees as a link (code spans,
fences, indented code, emphasis around links, trailing punctuation, angle autolinks, reference
definitions, images, entities, escapes, nested brackets, unicode hosts, mailto, javascript:, www.
without a scheme, six links and more, duplicates), glued in random ways (seeded: the same corpus
each run), and then random strings over the characters that matter (hypothesis).
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from server.chat.conversations import links
from server.chat.conversations.links import MAX_LINKS, PARSER, SCHEMES, links_of


def reference_links_of(body: str) -> tuple[str, ...]:
    """``links_of`` as it was before its one-line path: every body through the full parse."""
    if "http" not in body.lower() and "&" not in body and "\\" not in body:
        return ()
    found: list[str] = []
    for href in links._hrefs(PARSER.parse(body)):
        if href.lower().startswith(SCHEMES) and href not in found:
            found.append(href)
            if len(found) == MAX_LINKS:
                break
    return tuple(found)


URLS = [
    "http://example.com",
    "https://example.com/path?q=1&r=2#frag",
    "https://example.com/path?q=1&amp;r=2",
    "http://example.com/a_b_",
    "http://example.com/_c_",
    "http://example.com/*x*",
    "http://a.b/c?x=*",
    "http://a.b/**",
    "http://a.b/c~d~",
    "HTTP://EXAMPLE.COM/Up",
    "Https://Example.com/x",
    "https://пример.рф/путь",
    "http://xn--e1afmkfd.xn--p1ai/",
    "https://münchen.de/straße",
    "https://€.com",
    "https://example.com/(paren)",
    "https://en.wikipedia.org/wiki/Foo_(bar)",
    "http://example.com.",
    "http://example.com,",
    "http://example.com;",
    "http://example.com:8080/x",
    "http://127.0.0.1:9/notes/1/2",
    "http://[::1]/x",
    "https://example.com/%E2%82%AC",
    "https://example.com/😀",
    "https://example.com/a b",
    "https://example.com/<x>",
    "https://example.com/`x`",
    "https://example.com/[x]",
    "https://example.com/\\x",
    "https://user:pw@example.com/",
    "https://example.com/a'b\"c",
    "www.example.com",
    "www.example.com/path",
    "example.com",
    "mailto:a@b.com",
    "a@b.com",
    "javascript:alert(1)",
    "JavaScript://%0aalert(1)",
    "data:text/html,x",
    "ftp://files.example.com/x",
    "//example.com/x",
    "http:/x",
    "http://",
    "http://-",
    "http://x",
    "xhttp://example.com",
    "1http://example.com",
    "a.http://example.com",
    "http\\://example.com",
    "http&#58;//example.com",
    "&#104;ttp://example.com",
    "http://example.com/&amp;",
    "http://example.com/&lt;",
    "https://a.example/1",
    "https://a.example/2",
    "https://a.example/3",
    "https://a.example/4",
    "https://a.example/5",
    "https://a.example/6",
    "https://a.example/7",
]

WRAPS = [
    "{u}",
    "{u}",
    "{u}",
    "`{u}`",
    "``{u}``",
    "` {u} `",
    "*{u}*",
    "_{u}_",
    "**{u}**",
    "__{u}__",
    "~~{u}~~",
    "~{u}~",
    "*see {u}*",
    "<{u}>",
    "[t]({u})",
    '[t]({u} "title")',
    "[t](<{u}>)",
    "![i]({u})",
    "[![i]({u})](https://outer.example/)",
    "[{u}](https://text.example/)",
    "[a [b] c]({u})",
    "[[{u}]]",
    "[t][r]\n\n[r]: {u}",
    "[r]\n\n[r]: {u}",
    "[t][r]",
    "```\n{u}\n```",
    "~~~\n{u}\n~~~",
    "    {u}",
    "\t{u}",
    "> {u}",
    "- {u}",
    "1. {u}",
    "# {u}",
    "{u}\n===",
    "({u})",
    "'{u}'",
    '"{u}"',
    "{u}.",
    "{u}!",
    "{u}?",
    "{u})",
    "{u}*",
    "{u}**",
    "{u}_",
    "{u}:",
    "\\{u}",
    "\\<{u}>",
    "&lt;{u}&gt;",
    "&amp;{u}",
    '<a href="{u}">x</a>',
    "<a>{u}</a>",
    "<div>\n{u}\n</div>",
    "<span>{u}</span>",
    "x{u}",
    "x {u} y",
    "«{u}»",
    "{u}\u00a0x",
    "{u}\u3000x",
]

WORDS = ["see", "hi", "Über", "x", "1", "@bob", "ok!", "a_b", "2*3", "é", "日本", "-", "#", "*", ">", ""]
GLUES = [" ", " ", " ", "", ", ", "\n", "\n\n", "  \n", "\r\n", "\t"]


def corpus(count: int, seed: int = 38) -> list[str]:
    rng = random.Random(seed)
    bodies = [w.format(u=u) for u in URLS for w in ("{u}", "see {u}", "see {u} now")]
    bodies += [w.format(u=rng.choice(URLS)) for w in WRAPS for _ in range(3)]
    while len(bodies) < count:
        pieces = [rng.choice(WORDS)] if rng.random() < 0.8 else []
        for _ in range(rng.randint(1, 8)):
            piece = rng.choice(WRAPS).format(u=rng.choice(URLS))
            if rng.random() < 0.5:
                piece = f"{piece}{rng.choice(GLUES)}{rng.choice(WORDS)}"
            pieces.append(piece)
        if rng.random() < 0.2:  # a duplicate
            pieces.append(rng.choice(pieces))
        body = ""
        for piece in pieces:
            body += (rng.choice(GLUES) if body else "") + piece
        bodies.append(body)
    return bodies


LINE_WRAPS = [w for w in WRAPS if "\n" not in w and not w.startswith(("    ", "\t", ">", "-", "1.", "#"))]
LINE_WORDS = ["see", "hi", "Über", "x", "1", "ok!", "a_b", "2*3", "é", "日本", "(", ")", ":", "-", "#", "…"]
LINE_WORDS += ["10:30", "Note:", "a/b", "x:/y", "mailto:a@b.example", "MAILTO:c@d.example", "ftp:x", "//e.x"]


def lines(count: int, seed: int = 13) -> list[str]:
    """One-line bodies that start with a word: mostly the one-line path's, and the near misses."""
    rng = random.Random(seed)
    bodies: list[str] = []
    while len(bodies) < count:
        body = rng.choice(["see", "Look", "é", "x"])
        for _ in range(rng.randint(1, 7)):
            url = rng.choice(URLS)
            piece = rng.choice(LINE_WRAPS).format(u=url) if rng.random() < 0.3 else url
            tail = rng.choice(["", "", ".", ",", ")", "!", "?", ":", ";", "'", '"', "*", "_", "~", "/"])
            body += rng.choice([" ", " ", "", ", ", " (", ' "', " - "]) + piece + tail
            if rng.random() < 0.4:
                body += " " + rng.choice(LINE_WORDS)
        bodies.append(body + rng.choice(["", "", " ", "  ", "\u00a0", "\t"]))
    return bodies


def test_the_one_line_path_finds_what_the_parse_finds() -> None:
    taken = plain = 0
    for body in corpus(2000) + lines(2000):
        parsed = list(links._hrefs(PARSER.parse(body)))
        fast = links._one_line_hrefs(body)
        if fast is not None:
            taken += 1
            assert fast == parsed, body
        plainest = links._plain_line_hrefs(body)
        if plainest is not None:
            plain += 1
            assert plainest == parsed, body
        assert links_of(body) == reference_links_of(body), body
    assert taken > 500  # the corpus exercises the one-line path, not only the fallback
    assert plain > 100  # and the plain line's


def test_the_one_line_path_covers_the_common_sends() -> None:
    """What most bodies with a link look like take the one-line path (it is what makes them cheap)."""
    for body in [
        "see http://127.0.0.1:9/notes/1/2",
        "look at https://example.com/path?q=1&r=2#frag, it's good.",
        "https://en.wikipedia.org/wiki/Foo_(bar) and https://example.com/a_b",
        "Two: http://a.example/x (and http://b.example/y)",
    ]:
        assert links._one_line_hrefs(body) is not None, body
        assert links_of(body) == reference_links_of(body)


def test_the_plainest_lines_skip_linkify_its_validation() -> None:
    """A line of words and plain URLs (what most link sends are) is split by one expression."""
    for body in [
        "see http://127.0.0.1:9/notes/1/2",
        "look at https://example.com/path?q=1&r=2#frag, it's good.",
        "Two, see https://a.example/x-y.html and HTTP://B.example:8080/ now!",
        "https://en.wikipedia.org/wiki/Percent%20encoded",
        "b 12:3:1764212345 see http://127.0.0.1:9/notes/12/3 xxxxxxxx",  # bench.compare's sends-links
        "Note: the notes are at https://a.example/n, 10:30 a/b: see you",  # colons and a slash
    ]:
        assert links._plain_line_hrefs(body) == list(links._hrefs(PARSER.parse(body))), body
    for near_miss in [
        "see http://a.example/x_(y)",  # parentheses: linkify-it balances them
        "see http://a--b.example/",  # hyphens in a host
        "see xhttp://a.example/",  # another scheme
        "see http://a.example/x--",  # a path that ends in hyphens
        "see `http://a.example/`",  # code
        "see //a.example/ or http://b.example/",  # the core rule's "//" schema
        "ask mailto:a@b.example or http://b.example/",  # the core rule's "mailto:" schema
        "ask MailTo:a@b.example or http://b.example/",
    ]:
        assert links._plain_line_hrefs(near_miss) is None, near_miss


def test_at_most_five_distinct_links_in_order() -> None:
    body = " ".join(f"https://a.example/{i} https://a.example/{i}" for i in range(7))
    assert links_of(body) == tuple(f"https://a.example/{i}" for i in range(MAX_LINKS))


def test_links_in_code_and_non_http_targets_are_not_links() -> None:
    assert links_of("`http://a.example/` and\n\n    http://b.example/") == ()
    assert links_of("[x](javascript:alert(1)) mailto:a@b.com www.example.com") == ()


def test_linkify_knows_no_scheme_without_a_colon_but_slashes() -> None:
    """The one-line path tests a text with linkify only when it holds ":" or "//"."""
    assert PARSER.linkify is not None
    schemas = [name for name in PARSER.linkify._compiled if name]
    assert schemas and all(name.endswith(":") or name == "//" for name in schemas)
    assert not any(PARSER.linkify._opts[k] for k in ("fuzzy_link", "fuzzy_email", "fuzzy_ip"))


ALPHABET = st.sampled_from(
    [
        "http://",
        "https://",
        "HTTPS://",
        "//",
        ":",
        "www.",
        "a.example",
        "b.example/p",
        "é.example",
        "@",
        "mailto:",
        "x",
        "see ",
        " ",
        "  ",
        "\n",
        "\t",
        "`",
        "*",
        "_",
        "~",
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "!",
        "&",
        "&amp;",
        "&#58;",
        ";",
        "\\",
        ".",
        ",",
        "?",
        "'",
        '"',
        "#",
        "-",
        "=",
        "1",
        "\u00a0",
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(ALPHABET, max_size=24).map("".join))
def test_random_strings_agree(body: str) -> None:
    parsed = list(links._hrefs(PARSER.parse(body)))
    fast = links._one_line_hrefs(body)
    if fast is not None:
        assert fast == parsed
    plainest = links._plain_line_hrefs(body)
    if plainest is not None:
        assert plainest == parsed
    assert links_of(body) == reference_links_of(body)


# URL-shaped strings: a scheme, a host, a port and a path mostly of what the plainest URL allows,
# with now and then one of the characters that decide where linkify-it ends a URL.
LABELS = ["a", "B", "7", "ex4mple", "127", "0"] * 4 + ["xn--p1ai", "a-b", "é", "a" * 63, "a" * 64, ""]
PORTS = ["", "", ":8", ":80", ":8080", ":65535", ":65536", ":", ":x"]
PATH_CHARS = list("aZ9/_~%=&+#@$") * 12 + list(".?-:!,;'\"()[]{}*<>") + ["..", "--", "é", "\u00a0", "\t"]
AFTERS = ["", " ", ".", ". x", ", and", "!", "?", "?!", ")", ":", "-", "\u00a0", "*"]


def url_shaped(rng: random.Random) -> tuple[str, int]:
    """A line with one URL-shaped piece, and where its ``://`` is."""
    before = rng.choice(["", "see ", "x", "(", "s.", "é "])
    scheme = rng.choice(["http://", "https://", "HTTPS://", "hTtP://"])
    host = rng.choice([".", ".", ".", ".", ".", "-"]).join(
        rng.choice(LABELS) for _ in range(rng.randint(1, 4))
    )
    path = "".join(rng.choice(PATH_CHARS) for _ in range(rng.randint(0, 12)))
    if path and rng.random() < 0.8:
        path = "/" + path
    src = f"{before}{scheme}{host}{rng.choice(PORTS)}{path}{rng.choice(AFTERS)}"
    return src, len(before) + len(scheme) - 3


def test_a_plain_url_ends_where_linkify_it_ends_it() -> None:
    """Where ``_PLAIN_URL`` takes a URL, linkify-it's own validation takes the same characters, and a
    line it splits has the parse's links."""
    rng = random.Random(42)
    taken = 0
    for _ in range(30_000):
        src, colon = url_shaped(rng)
        plain = links._plain_url_at(src, 0, colon)
        if plain is not None:
            taken += 1
            match = links._LINKIFY.match_at_start(src[colon - len(plain.partition(":")[0]) :])
            assert match is not None and match.url == plain, src
        if src[:1].isalpha() and (plainest := links._plain_line_hrefs(src)) is not None:
            assert plainest == list(links._hrefs(PARSER.parse(src))), src
    assert taken > 1_000, taken  # many are taken (the rest are the near misses around them)
