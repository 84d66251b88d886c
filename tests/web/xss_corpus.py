"""Message bodies that try to run script, load something foreign or smuggle markup through the
Markdown renderer (OWASP's XSS filter evasion cheat sheet, turned into chat bodies).

Every payload that would run calls ``alert`` (the test replaces it with a recorder); the rest
would load a foreign URL, which the test sees as a request leaving the server's origin.
"""

from __future__ import annotations

XSS_CORPUS: list[str] = [
    # raw HTML: text, never markup
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.example>",
    "<iframe srcdoc='<script>alert(1)</script>'>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<form action=javascript:alert(1)><button formaction=javascript:alert(1)>go</button></form>",
    "<object data=javascript:alert(1)>",
    "<embed src=https://evil.example/x.swf>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "**<style>body{display:none}</style>**",
    "_<img src=x onerror=alert(1)>_ inside emphasis",
    "<b>*nested markdown in html* [a](javascript:alert(1))</b>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    # link targets that are not http, https or mailto
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](java&#x09;script:alert(1))",
    "[a](&#106;avascript:alert(1))",
    "[a](&#x6A;avascript&#x3A;alert(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[a](vbscript:msgbox(1))",
    "[x](  javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](javascript://%0Aalert(1))",
    "[ref][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[a](//evil.example/path)",
    "[a](file:///etc/passwd)",
    '[a](https://ok.example "title\\" onmouseover=alert(1))',
    '[a](https://ok.example "a" onmouseover="alert(1)")',
    # image syntax: a link, never an <img> (no foreign fetch)
    "![x](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[![x](https://evil.example/y.png)](https://ok.example)",
    # code is text too
    "```html\n<script>alert(1)</script><img src=x onerror=alert(1)>\n```",
    "`<img src=x onerror=alert(1)>`",
]
