"""What a page says about itself (PROTOCOL.md section 13): preview_html.read_page, a pure function."""

from __future__ import annotations

import pytest

from server.adapters.preview_html import DESCRIPTION_LENGTH, TITLE_LENGTH, read_page
from server.chat.previews.ports import Page

URL = "https://example.com/articles/one.html"


def page(head: str, body: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def test_open_graph_tags_are_read():
    html = page(
        '<meta property="og:title" content="The title">'
        '<meta property="og:description" content="What it is about">'
        '<meta property="og:site_name" content="Example">'
        '<meta property="og:image" content="https://cdn.example.com/a.png">'
        "<title>Ignored</title>"
    )
    assert read_page(html, URL) == Page(
        "The title", "What it is about", "Example", "https://cdn.example.com/a.png"
    )


def test_twitter_tags_are_read_with_name_or_property():
    html = page(
        '<meta name="twitter:title" content="Card title">'
        '<meta property="twitter:description" content="Card text">'
        '<meta name="twitter:image:src" content="/card.jpg">'
    )
    assert read_page(html, URL) == Page("Card title", "Card text", "", "https://example.com/card.jpg")


def test_open_graph_given_as_name_and_in_upper_case_counts():
    html = page('<meta name="OG:Title" content="Named"><meta name="og:image:url" content="x.png">')
    assert read_page(html, URL) == Page("Named", "", "", "https://example.com/articles/x.png")


def test_open_graph_comes_before_twitter_and_the_first_of_a_key_wins():
    html = page(
        '<meta name="twitter:title" content="Twitter">'
        '<meta property="og:title" content="First">'
        '<meta property="og:title" content="Second">'
    )
    found = read_page(html, URL)
    assert found is not None and found.title == "First"


def test_the_title_element_and_meta_description_are_the_fallback():
    html = page('<title> Plain  page </title><meta name="description" content="About\n  it">')
    assert read_page(html, URL) == Page("Plain page", "About it", "", None)


def test_a_page_without_a_title_gives_nothing():
    assert read_page(page('<meta name="description" content="x">'), URL) is None
    assert read_page(page("<title>  \n\t </title>", "<h1>Heading</h1>"), URL) is None
    assert read_page(page('<meta property="og:title" content="   ">'), URL) is None
    assert read_page("", URL) is None


def test_an_empty_open_graph_title_falls_back_to_the_title_element():
    found = read_page(page('<meta property="og:title" content=" "><title>Real</title>'), URL)
    assert found is not None and found.title == "Real"


@pytest.mark.parametrize(
    ("head", "title"),
    [
        ("<title>a &amp;lt;b&amp;gt; c</title>", "a &lt;b&gt; c"),  # decoded once, not twice
        ('<meta property="og:title" content="a &amp;amp; b">', "a &amp; b"),
        ("<title>&lt;b&gt;bold&lt;/b&gt; &#x41;&#66;</title>", "<b>bold</b> AB"),  # text, not markup
        ('<meta property="og:title" content="&lt;script&gt;x&lt;/script&gt;">', "<script>x</script>"),
        ("<title>Caf&eacute; &nbsp;&nbsp; bar</title>", "Café bar"),
        ("<title>bell\x07 and\x1b[31m escape</title>", "bell and[31m escape"),  # no control characters
    ],
)
def test_entities_are_decoded_once_and_the_result_is_plain_text(head, title):
    found = read_page(page(head), URL)
    assert found is not None and found.title == title


def test_markup_inside_the_title_element_is_its_text():
    found = read_page(page("<title>a <b>b</b></title>"), URL)
    assert found is not None and found.title == "a <b>b</b>"  # <title> holds raw text


def test_whitespace_is_collapsed():
    html = page('<meta property="og:title" content="  one\n\n two\t\tthree \r\n">')
    found = read_page(html, URL)
    assert found is not None and found.title == "one two three"


def test_lengths_are_cut_with_an_ellipsis():
    html = page(
        f'<meta property="og:title" content="{"t" * 300}">'
        f'<meta property="og:description" content="{"d " * 400}">'
        f'<meta property="og:site_name" content="{"s" * 300}">'
    )
    found = read_page(html, URL)
    assert found is not None
    assert len(found.title) == TITLE_LENGTH == 200 and found.title == "t" * 199 + "…"
    assert len(found.description) <= DESCRIPTION_LENGTH == 500 and found.description.endswith("…")
    assert found.description.startswith("d d d") and "  " not in found.description
    assert len(found.site_name) == 200


def test_texts_of_exactly_the_limit_are_kept_whole():
    html = page(f'<title>{"t" * 200}</title><meta name="description" content="{"d" * 500}">')
    assert read_page(html, URL) == Page("t" * 200, "d" * 500, "", None)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("/img/a.png", "https://example.com/img/a.png"),
        ("b.png", "https://example.com/articles/b.png"),
        ("//cdn.example.org/c.png", "https://cdn.example.org/c.png"),
        ("http://other.example/d.png", "http://other.example/d.png"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("data:image/png;base64,iVBORw0KGgo=", None),
        ("file:///etc/passwd", None),
        ("ftp://example.com/e.png", None),
        ("https://", None),
        ("https://example.com/" + "x" * 3000, None),
    ],
)
def test_the_image_url_is_made_absolute_and_kept_only_if_http(image, expected):
    html = page(f'<title>T</title><meta property="og:image" content="{image}">')
    found = read_page(html, URL)
    assert found is not None and found.image_url == expected


def test_a_refused_og_image_falls_back_to_the_next_image_tag():
    html = page(
        '<title>T</title><meta property="og:image" content="javascript:x">'
        '<meta property="og:image:secure_url" content="https://example.com/s.png">'
    )
    found = read_page(html, URL)
    assert found is not None and found.image_url == "https://example.com/s.png"


def test_a_title_in_a_script_or_a_comment_is_not_taken():
    html = page(
        "<!-- <title>Commented</title> --><script>document.write('<title>Scripted</title>')</script>",
        "<!-- <meta property='og:title' content='Commented meta'> -->",
    )
    assert read_page(html, URL) is None


def test_a_title_of_an_svg_is_not_the_page_title():
    html = page("", "<svg><title>Icon</title></svg><p>text</p>")
    assert read_page(html, URL) is None
    found = read_page(page("", "<svg><title>Icon</title></svg><title>Body title</title>"), URL)
    assert found is not None and found.title == "Body title"


def test_meta_without_content_is_skipped():
    html = page('<meta property="og:title"><meta property="og:title" content="Second">')
    found = read_page(html, URL)
    assert found is not None and found.title == "Second"


def test_broken_html_still_gives_what_it_can():
    found = read_page("<title>Unclosed <meta property=og:description content=nope", URL)
    assert found is not None and found.title.startswith("Unclosed")
    assert read_page("<<<>>>\x00\x00</html></html>", URL) is None


def test_bidi_controls_a_site_sends_are_stripped_from_every_text():
    """A page's text is not the sender's: it cannot be refused, so the reordering marks go (the body
    rule's set, U+202A-U+202E and U+2066-U+2069), and a title of nothing but them is no title."""
    html = page(
        '<meta property="og:title" content="invoice\u202efdp.exe">'
        '<meta property="og:description" content="\u2066about\u2069 \u202aus\u202c">'
        '<meta property="og:site_name" content="\u202dExample\u202b">'
    )
    assert read_page(html, URL) == Page("invoicefdp.exe", "about us", "Example", None)
    assert read_page(page("<title>\u202e\u2067</title>"), URL) is None
