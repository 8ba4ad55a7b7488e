"""The one small interface every search source implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from widget_server.items import Item

if TYPE_CHECKING:
    from widget_server.query import SearchQuery
    from widget_server.store.database import Dataset


@dataclass
class SourceResult:
    items: list[Item]                 # the requested page, in the requested order
    count: int                        # all matches
    candidates: list[Item] = field(default_factory=list)   # nearest few, for combinations
    fallback: str | None = None       # e.g. "formations_nearest_france" when the radius held too few
    warning: dict[str, str] | None = None   # {code, message}: answered, but with a part missing
    nearest: list[Item] = field(default_factory=list)      # nearest beyond the radius (formations), nearest first
    contacts: list[dict] = field(default_factory=list)     # organisations to contact when none exists at all


class Source(Protocol):
    """A named source answering one bucket of the search ("formations", "offers", "recruiters")."""

    bucket: str

    async def search(self, dataset: "Dataset", query: "SearchQuery") -> SourceResult: ...
