""""Vouliez-vous dire … ?": the links offered when a typed place matched no commune.

Each link is the whole search with the place replaced, so it works without JavaScript
too (widget.js runs it in place).  The last one searches all of France: that happens only
when the visitor chooses it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from widget_server.web.widget_params import WidgetState

_PLACE_KEYS = ("place", "insee", "place_label", "lat", "lon", "page")


def place_choices(state: WidgetState) -> list[dict[str, str]]:
    """[{label, insee, href}] for an unresolved place (the last: all of France), else []."""
    if state.place_suggestions is None:
        return []
    kept = [(k, v) for k, v in state.form_params() if k not in _PLACE_KEYS and v is not None]
    choices = []
    for s in state.place_suggestions:
        pairs = kept + [("place", s["label"]), ("insee", s["insee"]), ("place_label", s["label"])]
        choices.append({"label": s["label"], "insee": s["insee"], "href": f"{state.path}?{urlencode(pairs)}"})
    # An emptied place field (place_label still saying what it was) means "toute la France".
    pairs = kept + [("place", ""), ("place_label", state.place_label or "")]
    choices.append({"label": "Chercher dans toute la France", "insee": "", "href": f"{state.path}?{urlencode(pairs)}"})
    return choices
