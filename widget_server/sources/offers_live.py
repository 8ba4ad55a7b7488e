"""The offers bucket with France Travail's live offers, alongside or instead of the embedded ones.

`FT_MODE=replace`: only live offers; a France Travail failure is the bucket's error.
`FT_MODE=merge`: live and embedded offers together (duplicates removed by offer
id); if France Travail fails, the embedded offers still answer and the bucket
carries a `warning`: people keep what we have, and the partner sees why there
are fewer offers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from widget_server.items import Item
from widget_server.query import SearchQuery
from widget_server.sources.base import SourceResult
from widget_server.sources.france_travail import FranceTravailSource, UpstreamError, UpstreamTimeout, merge_offers
from widget_server.sources.store import CANDIDATES, StoreSource
from widget_server.store.database import Dataset

log = logging.getLogger(__name__)

# France Travail gets a little less than the search's own budget, so that a slow
# upstream is seen as its timeout (and counted by its circuit breaker) rather
# than cut short by ours.
BUDGET_MARGIN_S = 0.05

LIVE_FAILED_WARNING = {
    "code": "france_travail_unavailable",
    "message": "Les offres de France Travail sont momentanément indisponibles ; seules les autres offres sont affichées.",
}


class OffersWithFranceTravail:
    bucket = "offers"

    def __init__(self, live: FranceTravailSource, mode: str, budget_s: float,
                 embedded: StoreSource | None = None) -> None:
        self.live = live
        self.mode = mode
        self.budget_s = max(0.05, budget_s - BUDGET_MARGIN_S)
        self.embedded = embedded or StoreSource("offers")

    async def _live_page(self, query: SearchQuery) -> tuple[list[Item], int]:
        centre = query.centre
        commune = centre.commune if centre else None
        try:
            page = await self.live.search(
                query.romes,
                latitude=centre.latitude if centre else None,
                longitude=centre.longitude if centre else None,
                insee=commune.insee if commune and commune.kind == "commune" else None,
                radius_km=query.radius_km, diploma=query.diploma,
                start=(query.page - 1) * query.limit, count=query.limit, budget_s=self.budget_s)
        except UpstreamTimeout as exc:
            raise TimeoutError(str(exc)) from exc
        return page.items, page.total if page.total is not None else len(page.items)

    async def search(self, dataset: Dataset, query: SearchQuery) -> SourceResult:
        if self.mode == "replace":
            items, total = await self._live_page(query)
            items = _ordered(items, query)
            return SourceResult(items=items, count=total, candidates=_nearest(items))
        embedded_task = asyncio.ensure_future(self.embedded.search(dataset, query))
        try:
            live_items, live_total = await self._live_page(query)
        except (UpstreamError, TimeoutError) as exc:
            log.warning("France Travail offers unavailable, serving embedded ones: %s", type(exc).__name__)
            result = await embedded_task
            result.warning = LIVE_FAILED_WARNING
            return result
        embedded = await embedded_task
        merged = merge_offers(embedded.items, live_items)
        duplicates = len(embedded.items) + len(live_items) - len(merged)
        # One page of each, merged and re-ordered, cut to the page size.
        page = _ordered(merged, query)[:query.limit]
        candidates = _nearest(merge_offers(embedded.candidates, live_items))
        return SourceResult(items=page, count=embedded.count + live_total - duplicates, candidates=candidates)


def _ordered(items: list[Item], query: SearchQuery) -> list[Item]:
    if query.sort == "date" or query.centre is None:
        return sorted(items, key=lambda i: i["dates"]["created_at"] or "", reverse=True)
    return sorted(items, key=lambda i: (i["place"]["distance_km"] is None, i["place"]["distance_km"] or 0.0))


def _nearest(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i["place"]["distance_km"] is None,
                                        i["place"]["distance_km"] or 0.0))[:CANDIDATES]


def describe(source: Any) -> str:
    return f"offers: France Travail ({source.mode})" if isinstance(source, OffersWithFranceTravail) else "offers: embedded"
