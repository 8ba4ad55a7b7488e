"""What an import or build step says about the rows it read: kept, rejected and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class ImportFailed(Exception):
    """The whole file cannot be used (unreadable, wrong encoding, missing column).

    The message is meant for the operator: it says what is wrong and how to fix it.
    """


@dataclass(frozen=True)
class Reject:
    line: int        # 1-based line in the file (CSV: header is line 1); JSON: 1-based record index
    reason: str      # stable code, e.g. "no_coordinates", "bad_siret", "unknown_rome"
    message: str     # French, for the operator

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "message": self.message}


@dataclass
class RowReport:
    source: str
    read: int = 0
    kept: int = 0
    rejects: list[Reject] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)   # non-fatal facts, e.g. "no_rome"
    fixes: list[Reject] = field(default_factory=list)       # rows kept with a field removed, e.g. "unsafe_url"

    def reject(self, line: int, reason: str, message: str) -> None:
        self.rejects.append(Reject(line, reason, message))

    def fix(self, line: int, kind: str, message: str) -> None:
        self.fixes.append(Reject(line, kind, message))
        self.notes[kind] += 1

    def reasons(self) -> dict[str, int]:
        return dict(sorted(Counter(r.reason for r in self.rejects).items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "read": self.read,
            "kept": self.kept,
            "rejected": len(self.rejects),
            "reasons": self.reasons(),
            "notes": dict(sorted(self.notes.items())),
            "rejects": [r.as_dict() for r in self.rejects],
            "fixes": [r.as_dict() for r in self.fixes],
        }
