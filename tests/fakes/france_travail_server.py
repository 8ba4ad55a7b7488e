"""A fake France Travail (token endpoint + Offres d'emploi v2 search) on a real 127.0.0.1 socket.

It is a small Starlette app served by uvicorn in a thread.  By default it behaves
like the real API on the offers of data/samples/esd-offres-happypath.redacted.json
(plus any a test adds): it issues expiring bearer tokens, filters by codeROME and
natureContrat, pages with `range` (max 150, 206 + Content-Range when more remain,
204 when nothing), and answers 401 to unknown, revoked or expired tokens.

A test scripts faults per endpoint with `script("token" | "search", Behaviour(...), ...)`:
each scripted behaviour is used by one request, in order, then the default resumes.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "esd-offres-happypath.redacted.json"
TOKEN_PATH = "/connexion/oauth2/access_token"
API_PATH = "/partenaire/offresdemploi/v2"
NATURES = {"Contrat apprentissage": "E2", "Cont. professionnalisation": "FS"}


def sample_body() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@dataclass
class Behaviour:
    """One scripted answer.  `delay` seconds first (cut short when the server stops);
    then `body` (raw text) or `json`, or, with neither, the default answer with
    `status`/`headers` overriding it when given."""

    status: int | None = None
    delay: float = 0.0
    json: Any = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


HANG = Behaviour(delay=60.0)   # longer than any budget; released when the server stops


@dataclass
class Recorded:
    endpoint: str                  # "token" or "search"
    params: dict[str, str]         # query string (search) or form (token)
    headers: dict[str, str]
    at: float


class FakeFranceTravail:
    def __init__(self, *, client_id: str = "fake-client-id", client_secret: str = "fake-s3cret-Zq81",
                 expires_in: float = 1499) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.offers: list[dict[str, Any]] = sample_body()["resultats"]
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._tokens: dict[str, float] = {}      # token -> expiry (time.monotonic)
        self._scripts: dict[str, list[Behaviour]] = {"token": [], "search": []}
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.port = 0
        self.app = Starlette(routes=[
            Route(TOKEN_PATH, self._token, methods=["POST"]),
            Route(API_PATH + "/offres/search", self._search, methods=["GET"]),
        ])

    # -- control from the test thread -------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}{TOKEN_PATH}?realm=%2Fpartenaire"

    @property
    def api_url(self) -> str:
        return self.url + API_PATH

    def script(self, endpoint: str, *behaviours: Behaviour) -> None:
        with self._lock:
            self._scripts[endpoint].extend(behaviours)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def calls(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def add_offers(self, rome: str, n: int, *, nature: str = "Contrat apprentissage") -> None:
        """n copies of the first sample offer with a new id and ROME code."""
        template = sample_body()["resultats"][0]
        with self._lock:
            for i in range(n):
                offer = copy.deepcopy(template)
                offer.update(id=f"{rome}X{i:03d}", romeCode=rome, natureContrat=nature,
                             intitule=f"Offre {rome} {i}")
                offer["origineOffre"]["urlOrigine"] = f"https://candidat.francetravail.fr/offres/recherche/detail/{rome}X{i:03d}"
                self.offers.append(offer)

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Without it, keep-alive answers wait ~40 ms for a delayed ACK (Nagle): a
        # latency the real API does not add, which would blur the benchmarks.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="fake-france-travail", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake France Travail server did not start")
            time.sleep(0.01)
        self._sock = sock

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()

    # -- the app (runs on the server's thread) ---------------------------------------

    def _next(self, endpoint: str, params: dict[str, str], headers: dict[str, str]) -> Behaviour | None:
        with self._lock:
            self.requests.append(Recorded(endpoint, params, headers, time.monotonic()))
            queue = self._scripts[endpoint]
            return queue.pop(0) if queue else None

    async def _wait(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self._stopping.is_set():
            await asyncio.sleep(min(0.02, max(0.0, end - time.monotonic())))

    async def _answer(self, behaviour: Behaviour | None, default: Response) -> Response:
        if behaviour is None:
            return default
        await self._wait(behaviour.delay)
        if behaviour.body is not None:
            return Response(behaviour.body, status_code=behaviour.status or 200,
                            headers=behaviour.headers, media_type="application/json")
        if behaviour.json is not None:
            return JSONResponse(behaviour.json, status_code=behaviour.status or 200, headers=behaviour.headers)
        if behaviour.status is not None:
            default.status_code = behaviour.status
        default.headers.update(behaviour.headers)
        return default

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        behaviour = self._next("token", form, dict(request.headers))
        if (form.get("grant_type") != "client_credentials" or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret or request.query_params.get("realm") != "/partenaire"):
            # Like many OAuth servers, echo what was sent: the client must never repeat it.
            default: Response = JSONResponse(
                {"error": "invalid_client", "error_description": f"bad credentials {form.get('client_secret')}"},
                status_code=401)
        else:
            token = f"tok-{next(self._serial)}-{form['client_id']}"
            with self._lock:
                self._tokens[token] = time.monotonic() + self.expires_in
            default = JSONResponse({"access_token": token, "token_type": "Bearer",
                                    "expires_in": self.expires_in, "scope": form.get("scope", "")})
        return await self._answer(behaviour, default)

    async def _search(self, request: Request) -> Response:
        params = dict(request.query_params)
        behaviour = self._next("search", params, dict(request.headers))
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(behaviour, self._default_search(request, params))
        finally:
            with self._lock:
                self.in_flight -= 1

    def _default_search(self, request: Request, params: dict[str, str]) -> Response:
        auth = request.headers.get("authorization", "")
        with self._lock:
            expiry = self._tokens.get(auth.removeprefix("Bearer "))
            offers = list(self.offers)
        if expiry is None or time.monotonic() > expiry:
            return JSONResponse({"codeHttp": 401, "message": "Token invalide ou expiré"}, status_code=401)
        try:
            first, last = (int(x) for x in params.get("range", "0-149").split("-"))
        except ValueError:
            return JSONResponse({"message": "range invalide"}, status_code=400)
        if last < first or last - first + 1 > 150 or first > 3000 or last > 3149:
            return JSONResponse({"message": "range invalide"}, status_code=400)
        romes = set(filter(None, params.get("codeROME", "").split(",")))
        natures = set(params.get("natureContrat", "").split(","))
        found = [o for o in offers if (not romes or o["romeCode"] in romes)
                 and (natures == {""} or NATURES.get(o["natureContrat"]) in natures)]
        chunk = found[first:last + 1]
        if not chunk:
            return Response(status_code=204)
        headers = {"Content-Range": f"offres {first}-{first + len(chunk) - 1}/{len(found)}",
                   "Accept-Range": "offres 150"}
        status = 200 if first + len(chunk) >= len(found) else 206
        return JSONResponse({"resultats": chunk, "filtresPossibles": sample_body()["filtresPossibles"]},
                            status_code=status, headers=headers)
