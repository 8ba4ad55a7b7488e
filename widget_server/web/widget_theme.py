"""The partner's accent colour, made safe to read: text colours derived so contrast stays >= 4.5:1.

WCAG 2.1 relative luminance and contrast ratio (1.4.3). A partner may pick any
colour; the widget never paints unreadable text with it: text *on* the accent is
white or near-black (whichever contrasts more, always >= 4.58:1), and the accent
used *as* text (links, focus ring) is darkened or lightened until it reaches
4.5:1 on the theme's background.
"""

from __future__ import annotations

import re

ACCENT_RE = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
DEFAULT_ACCENT = "#1f5fbf"
MIN_CONTRAST = 4.5
# The backgrounds accent-coloured text sits on that contrast least with it: the cards' (see widget.css).
LIGHT_BG = "#f5f6f8"
DARK_BG = "#20242b"
WHITE, INK = "#ffffff", "#000000"   # pure black: with white, one of them always reaches 4.58:1

RGB = tuple[float, float, float]


def normalise_accent(raw: str) -> str | None:
    """"#0a7", "0a7", "#00aa77" or "%2300aa77" -> "#00aa77"; anything else -> None.

    "%23" is "#" percent-encoded: a webmaster copying a URL's value into a data- attribute or
    the configurator keeps it, and it must work there too."""
    raw = raw.strip()
    if raw[:3].lower() == "%23":
        raw = "#" + raw[3:]
    match = ACCENT_RE.fullmatch(raw)
    if match is None:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def _rgb(hex_colour: str) -> RGB:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)


def _hex(rgb: RGB) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """White or near-black, whichever reads better on `background`."""
    return WHITE if contrast(WHITE, background) >= contrast(INK, background) else INK


def readable_on(colour: str, background: str) -> str:
    """`colour` mixed toward black (light background) or white (dark one) until it reaches 4.5:1."""
    if contrast(colour, background) >= MIN_CONTRAST:
        return colour
    target = (0.0, 0.0, 0.0) if luminance(background) > 0.18 else (1.0, 1.0, 1.0)
    base = _rgb(colour)
    for step in range(1, 21):
        t = step / 20
        mixed = _hex(tuple(c + (x - c) * t for c, x in zip(base, target)))  # type: ignore[arg-type]
        if contrast(mixed, background) >= MIN_CONTRAST:
            return mixed
    return text_on(background)


def theme_css(accent: str | None) -> str:
    """The custom properties for one accent colour (the stylesheet does the rest)."""
    colour = accent or DEFAULT_ACCENT
    light_ink = readable_on(colour, LIGHT_BG)
    dark_ink = readable_on(colour, DARK_BG)
    return (f":root{{--accent:{colour};--on-accent:{text_on(colour)};--accent-ink:{light_ink}}}"
            f"[data-theme=dark]{{--accent-ink:{dark_ink}}}"
            f"@media (prefers-color-scheme:dark){{[data-theme=auto]{{--accent-ink:{dark_ink}}}}}")
