"""Shared fixtures: one default dataset built per test session, reused read-only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from widget_server.ingest.build import build_dataset
from widget_server.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def dataset_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default dataset, built once for the whole session. Never write to it."""
    prebuilt = os.environ.get("WIDGET_TEST_DATASET")
    if prebuilt and Path(prebuilt).is_file():
        # bench/mutation.py runs the tests once per mutant: it builds the dataset once for all of them.
        return Path(prebuilt)
    path = tmp_path_factory.mktemp("dataset") / "dataset.sqlite"
    build_dataset(DATA_DIR, path)
    return path


@pytest.fixture(scope="session")
def client(dataset_path: Path):
    """A test client of the app serving the session dataset (lifespan run once)."""
    from widget_server.app import create_app
    from widget_server.settings import Settings

    # Rate limits off: the session's tests share one client address (tests/test_rate_limit.py and
    # tests/abuse/ test the limits on their own apps).
    app = create_app(Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0,
                                       rate_per_ip=0.0, rate_per_caller=0.0))
    with ContractCheckingClient(app) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _fresh_search_cache(request: pytest.FixtureRequest) -> None:
    """Each test computes the answers it asks for: an answer cached by an earlier test would hide
    the search from it (and from mutation testing's trace of which test runs which code)."""
    for name in ("client", "search_client"):
        if name in request.fixturenames:
            request.getfixturevalue(name).app.state.search.cache.clear()


def make_client(app):
    """A test client whose every JSON response is validated against the OpenAPI contract."""
    return ContractCheckingClient(app)


from starlette.testclient import TestClient  # noqa: E402


class ContractCheckingClient(TestClient):
    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        from urllib.parse import urlsplit

        from contract import check_response

        response = super().request(method, url, *args, **kwargs)
        check_response(method, urlsplit(str(response.request.url)).path, response)
        return response
