"""Every setting in one place, read from the environment, each with a default and a help text.

A test checks that each setting declared here is documented in the README.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class SettingError(ValueError):
    """A setting has a value we cannot use; the message says which and why."""


def _setting(env: str, default: Any, help: str) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


class EnvSettings:
    """Settings read from the environment: each dataclass field has `env` and `help` metadata."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Any:
        """Read settings from the environment; explicit overrides win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            env = f.metadata["env"]
            if f.name in overrides:
                values[f.name] = overrides[f.name]
            elif env in environ:
                values[f.name] = _convert(env, environ[env], f.default)
        return cls(**values)

    @classmethod
    def documented(cls) -> list[tuple[str, Any, str]]:
        """(environment variable, default, help) for every setting."""
        return [(f.metadata["env"], f.default, f.metadata["help"]) for f in fields(cls)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class Settings(EnvSettings):
    data_dir: Path = _setting(
        "WIDGET_DATA_DIR", PROJECT_ROOT / "data", "Folder of the reference data files (data/)."
    )
    dataset_path: Path = _setting(
        "WIDGET_DATASET",
        PROJECT_ROOT / "var" / "dataset.sqlite",
        "Path of the SQLite dataset the service serves (built on first start if missing).",
    )
    reload_interval: float = _setting(
        "WIDGET_RELOAD_INTERVAL",
        1.0,
        "Seconds between checks for a replaced dataset file (0 turns hot reload off).",
    )
    source_timeout: float = _setting(
        "WIDGET_SOURCE_TIMEOUT", 1.5, "Time budget of each search source, in seconds."
    )
    search_cache_ttl: float = _setting(
        "WIDGET_SEARCH_CACHE_TTL", 300.0, "Seconds a search answer stays in the in-process cache."
    )
    search_cache_mb: float = _setting(
        "WIDGET_SEARCH_CACHE_MB", 64.0,
        "Megabytes of serialised search answers kept in each process's cache (oldest dropped first).",
    )
    partners_file: str = _setting(
        "WIDGET_PARTNERS_FILE", "",
        "Partner registry (TOML or JSON): each caller's allowed origins and rate (empty: no partners).",
    )
    partner_mode: str = _setting(
        "WIDGET_PARTNER_MODE", "open",
        "'open': any caller is accepted (registered ones keep their origins); "
        "'strict': only registered callers, from their origins.",
    )
    trust_proxy: bool = _setting(
        "WIDGET_TRUST_PROXY", False,
        "Take the client address from X-Forwarded-For, as added by your proxies (see WIDGET_PROXY_HOPS).",
    )
    proxy_hops: int = _setting(
        "WIDGET_PROXY_HOPS", 1,
        "With WIDGET_TRUST_PROXY: how many proxies you run in front of the service, each appending "
        "to X-Forwarded-For; the entry that many from the end is the client (docs/limits.md).",
    )
    rate_per_ip: float = _setting(
        "WIDGET_RATE_PER_IP", 50.0, "Requests per second allowed to one client address (0: no limit)."
    )
    rate_burst_per_ip: int = _setting(
        "WIDGET_RATE_BURST_PER_IP", 100, "Requests one client address may send at once above its rate."
    )
    rate_per_caller: float = _setting(
        "WIDGET_RATE_PER_CALLER", 100.0,
        "Requests per second allowed to one caller, all its visitors together (0: no limit; "
        "the registry may set a partner's own).",
    )
    rate_burst_per_caller: int = _setting(
        "WIDGET_RATE_BURST_PER_CALLER", 200, "Requests one caller may send at once above its rate."
    )
    redis_url: str = _setting(
        "WIDGET_REDIS_URL", "",
        "Redis that every worker and host share for the rate limits (redis://host:6379/0); empty: each "
        "process counts for itself. Unreachable: requests are served, counted per process, a warning logged.",
    )
    metrics_callers: int = _setting(
        "WIDGET_METRICS_CALLERS", 100,
        "Distinct callers given their own label in /metrics in open mode; later ones count as 'other' "
        "(registered partners always keep theirs).",
    )
    metrics_callers_per_client: int = _setting(
        "WIDGET_METRICS_CALLERS_PER_CLIENT", 3,
        "Open mode: labels one client address may create for unregistered callers in /metrics.",
    )
    import_max_mb: float = _setting(
        "WIDGET_IMPORT_MAX_MB", 1024.0,
        "Largest file an import reads, in megabytes, compressed and once decompressed.",
    )
    header_timeout: float = _setting(
        "WIDGET_HEADER_TIMEOUT", 10.0,
        "Seconds a client has to send a request's headers before its connection is closed.",
    )
    keep_alive_timeout: float = _setting(
        "WIDGET_KEEP_ALIVE_TIMEOUT", 5.0, "Seconds an idle keep-alive connection stays open.",
    )

    def __post_init__(self) -> None:
        if self.proxy_hops < 1:
            raise SettingError(f"Setting 'WIDGET_PROXY_HOPS' has value {self.proxy_hops!r}: at least 1 "
                               "(the number of proxies in front of the service).")
        if self.redis_url and not self.redis_url.startswith(REDIS_SCHEMES):
            raise SettingError(f"Setting 'WIDGET_REDIS_URL' has value {self.redis_url!r}: not a Redis URL "
                               "(redis://host:6379/0, rediss:// for TLS, unix:///path/to/socket).")



def _convert(env: str, raw: str, default: Any) -> Any:
    if isinstance(default, Path):
        return Path(raw)
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingError(f"Setting {env!r} has value {raw!r}: not a valid boolean.")
    if isinstance(default, (int, float)):
        try:
            value = type(default)(raw)
        except ValueError:
            raise SettingError(
                f"Setting {env!r} has value {raw!r}: not a valid {type(default).__name__}."
            ) from None
        if value < 0:
            raise SettingError(f"Setting {env!r} has value {raw!r}: must not be negative.")
        return value
    return raw
