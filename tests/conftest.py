"""Shared fixtures: one default dataset built per test session, reused read-only."""

from __future__ import annotations

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
    path = tmp_path_factory.mktemp("dataset") / "dataset.sqlite"
    build_dataset(DATA_DIR, path)
    return path


@pytest.fixture(scope="session")
def client(dataset_path: Path):
    """A test client of the app serving the session dataset (lifespan run once)."""
    from starlette.testclient import TestClient

    from widget_server.app import create_app
    from widget_server.settings import Settings

    app = create_app(Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0))
    with TestClient(app) as test_client:
        yield test_client
