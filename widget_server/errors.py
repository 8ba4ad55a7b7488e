"""The project's errors and their one JSON shape.

    ServiceError                 -> {"error": {"code", "message", "details"}}
    ├── InvalidParameters (400)  one or more ParameterError details
    ├── NotFound (404)
    ├── MethodNotAllowed (405)
    ├── UnknownCaller (403)      strict partner mode, caller not in the registry
    ├── OriginNotAllowed (403)   the page's Origin is not one of the caller's
    ├── RateLimited (429)        with Retry-After
    └── DatasetUnavailable (503)

Every message is in French because it reaches webmasters and end users; codes
are stable English identifiers a program can branch on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParameterError:
    """One problem with one parameter: what it is and how to fix it."""

    param: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"param": self.param, "code": self.code, "message": self.message}


@dataclass
class ServiceError(Exception):
    status_code: int = 500
    code: str = "internal_error"
    message: str = "Erreur interne du service."
    details: list[ParameterError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": [d.as_dict() for d in self.details],
            }
        }


class InvalidParameters(ServiceError):
    def __init__(self, details: list[ParameterError]) -> None:
        if len(details) == 1:
            message = f"Paramètre invalide : {details[0].param}."
        else:
            names = ", ".join(dict.fromkeys(d.param for d in details))
            message = f"Paramètres invalides : {names}."
        super().__init__(400, "invalid_parameters", message, list(details))


class NotFound(ServiceError):
    def __init__(self, path: str) -> None:
        super().__init__(
            404,
            "not_found",
            f"Aucune ressource à l'adresse {path}. Voir /api/docs pour la liste des routes.",
        )


class MethodNotAllowed(ServiceError):
    def __init__(self, method: str, allowed: str = "GET") -> None:
        super().__init__(
            405,
            "method_not_allowed",
            f"La méthode {method} n'est pas acceptée ici ; utilisez {allowed}.",
            headers={"Allow": allowed},
        )


class DatasetUnavailable(ServiceError):
    def __init__(self, reason: str) -> None:
        super().__init__(503, "dataset_unavailable", f"Jeu de données indisponible : {reason}")


class UnknownCaller(ServiceError):
    def __init__(self, caller: str) -> None:
        super().__init__(
            403,
            "unknown_caller",
            f"Le site « {caller[:100]} » n'est pas enregistré comme partenaire : "
            "demandez son inscription (identifiant caller et origines autorisées).",
        )


class OriginNotAllowed(ServiceError):
    def __init__(self, origin: str, caller: str | None = None) -> None:
        whose = f"du partenaire « {caller[:100]} »" if caller else "d'aucun partenaire"
        super().__init__(
            403,
            "origin_not_allowed",
            f"L'origine {origin[:200]} ne fait pas partie des origines autorisées {whose}.",
        )


class RateLimited(ServiceError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "rate_limited",
            f"Trop de requêtes : réessayez dans {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
