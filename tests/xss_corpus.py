"""XSS payloads for the widget's parameters and for imported data.

Every payload that would run, were it injected into the page, calls `window.__xss(N)` (or
`alert(N)`, a few of them), N being its own number, so a test that installs `window.__xss`
(and watches dialogs) sees which one ran and where.  None of them has leading or trailing
whitespace (query parameters are stripped) or a NUL (the HTML parser replaces it).

    PAYLOADS        [Payload(n, kind, text), ...], n from 1, each text distinct
    texts()         the texts, in order
    by_kind(kind)   the payloads of one kind
"""

from __future__ import annotations

import base64
from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    n: int
    kind: str        # html, attr, url, css, js, encoded, long
    text: str

    def __str__(self) -> str:
        return self.text


def _b64(html: str) -> str:
    return base64.b64encode(html.encode()).decode()


# (kind, text with @ standing for the payload's number); the order gives the numbers.
_RAW: list[tuple[str, str]] = [
    # Plain HTML injection
    ("html", "<script>__xss(@)</script>"),
    ("html", "<img src=x onerror=__xss(@)>"),
    ("html", "<svg onload=__xss(@)>"),
    ("html", "<svg><script>__xss(@)</script></svg>"),
    ("html", "<math><mtext><table><mglyph><style><img src=x onerror=__xss(@)>"),
    ("html", "<iframe src=\"javascript:__xss(@)\"></iframe>"),
    ("html", "<details open ontoggle=__xss(@)>"),
    ("html", "<body onload=__xss(@)>"),
    ("html", "<input autofocus onfocus=__xss(@)>"),
    ("html", "<object data=\"javascript:__xss(@)\"></object>"),
    ("html", "<base href=\"//evil.example/\"><script src=\"/x.js\"></script>"),
    ("html", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:__xss(@)\">"),
    ("html", "<noscript><p title=\"</noscript><img src=x onerror=__xss(@)>\">"),
    ("html", "<svg><a xlink:href=\"javascript:__xss(@)\"><text x=\"20\" y=\"20\">X</text></a></svg>"),
    ("html", "<scr<script>ipt>__xss(@)</scr</script>ipt>"),
    ("html", "<img src=\"x\" onerror=\"alert(@)\">"),
    ("html", "<svg/onload=alert(@)>"),
    ("html", "--><script>__xss(@)</script><!--"),
    ("html", "<![CDATA[</script><script>__xss(@)</script>]]>"),
    ("html", "<a href=\"javascript:__xss(@)\" id=\"xss-link\">cliquez</a>"),
    # Breaking out of an attribute, a raw-text element or the title
    ("attr", "\"><script>__xss(@)</script>"),
    ("attr", "'><img src=x onerror=__xss(@)>"),
    ("attr", "\" onmouseover=\"__xss(@)\" autofocus onfocus=\"__xss(@)\" x=\""),
    ("attr", "' onfocus='__xss(@)' autofocus x='"),
    ("attr", "</style><script>__xss(@)</script>"),
    ("attr", "</script><script>__xss(@)</script>"),
    ("attr", "</textarea><script>__xss(@)</script>"),
    ("attr", "</title><script>__xss(@)</script>"),
    # URLs that run script, or leave for another site
    ("url", "javascript:__xss(@)"),
    ("url", "JaVaScRiPt:__xss(@)"),
    ("url", "java&#x09;script:__xss(@)"),
    ("url", "javascript&colon;__xss(@)"),
    ("url", "data:text/html,<script>__xss(@)</script>"),
    ("url", "data:text/html;base64,<b64><script>__xss(@)</script></b64>"),
    ("url", "vbscript:alert(@)"),
    ("url", "//evil.example/xss@.js"),
    ("url", "/\\evil.example/xss@"),
    ("url", "https://evil.example/x.png\" onerror=\"__xss(@)"),
    ("url", "/\"><svg/onload=__xss(@)>"),
    ("url", "https://evil.example/'><script>__xss(@)</script>"),
    # The accent colour lands in a <style>
    ("css", "#0a7\"><script>alert(@)</script>"),
    ("css", "#fff;}</style><script>__xss(@)</script>"),
    ("css", "expression(__xss(@))"),
    ("css", "red;background:url(javascript:__xss(@))"),
    ("css", "#0a7;}body{background:url(\"javascript:__xss(@)\")}"),
    # Strings that break out of JavaScript, JSON or a template
    ("js", "${__xss(@)}`;__xss(@);`"),
    ("js", "\"};__xss(@);var x={\""),
    ("js", "';__xss(@);//"),
    ("js", "\"\u2028\u2029</script><script>__xss(@)</script>"),
    ("js", "{{constructor.constructor('__xss(@)')()}}{{7*7}}{% raw %}"),
    ("js", "4 (<script>__xss(@)</script>)"),
    ("js", "D1102,<script>__xss(@)</script>"),
    # Encodings: escapes written out, fullwidth brackets, percent and entity encodings
    ("encoded", "\\u003cscript\\u003e__xss(@)\\u003c/script\\u003e"),
    ("encoded", "\\x3cimg src=x onerror=__xss(@)\\x3e"),
    ("encoded", "＜script＞__xss(@)＜/script＞"),
    ("encoded", "%3Cscript%3E__xss(@)%3C%2Fscript%3E"),
    ("encoded", "%253Cscript%253E__xss(@)%253C%252Fscript%253E"),
    ("encoded", "&lt;script&gt;__xss(@)&lt;/script&gt;"),
    ("encoded", "&#60;img src=x onerror=__xss(@)&#62;"),
    ("encoded", "&amp;lt;img src=x onerror=__xss(@)&amp;gt;"),
    ("encoded", "Crème brûlée <b>gras</b> & « guillemets » l'apostrophe \"double\""),
    # Very long
    ("long", "A" * 1000 + "<script>__xss(@)</script>"),
    ("long", "<img src=x onerror=__xss(@)>" * 60),
]



def _make(n: int, kind: str, text: str) -> Payload:
    text = text.replace("@", str(n))
    if "<b64>" in text:
        head, rest = text.split("<b64>")
        text = head + _b64(rest.replace("</b64>", ""))
    return Payload(n, kind, text)


PAYLOADS: list[Payload] = [_make(i, kind, text) for i, (kind, text) in enumerate(_RAW, 1)]

assert len({p.text for p in PAYLOADS}) == len(PAYLOADS) >= 30
assert all(p.text == p.text.strip() and "\0" not in p.text for p in PAYLOADS)


def texts() -> list[str]:
    return [p.text for p in PAYLOADS]


def by_kind(*kinds: str) -> list[Payload]:
    return [p for p in PAYLOADS if p.kind in kinds]
