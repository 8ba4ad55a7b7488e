"""Checks shared by the importers: reading an operator's file, and validating one row's fields.

File-level problems raise ImportFailed (the whole file is unusable; the message says
what to fix).  Row-level problems raise RowRejected, which the importer turns into a
Reject carrying the row's line number: one bad row never sinks the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
import zlib
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from widget_server.geo import haversine_km
from widget_server.ingest.referentials import Place, Referentials
from widget_server.ingest.report import ImportFailed, RowReport


class RowRejected(Exception):
    """One row cannot be used; `reason` is a stable code, `message` French for the operator."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def collect(rows: Iterable[tuple[int, Any]], to_record: Callable[[Any, str], dict | None],
            report: RowReport, *, json_index: bool = False) -> list[dict]:
    """Records of the rows that pass, each bad row rejected with its line and reason.

    `to_record(raw, where)` raises RowRejected, or returns None for a row that is valid
    but not wanted (it says why in report.notes).  Keys must be unique within the file.
    """
    first_seen: dict[str, int] = {}
    records: list[dict] = []
    for line, raw in rows:
        report.read += 1
        where = f"Enregistrement {line}" if json_index else f"Ligne {line}"
        try:
            if json_index and not isinstance(raw, dict):
                raise RowRejected("bad_record", f"{where} : ce n'est pas un objet JSON ({type(raw).__name__}).")
            record = to_record(raw, where)
            if record is not None and (first := first_seen.setdefault(record["key"], line)) != line:
                other = f"l'enregistrement {first}" if json_index else f"la ligne {first}"
                raise RowRejected("duplicate", f"{where} : même identifiant ({record['key']}) que {other} ; "
                                               "doublon ignoré.")
        except RowRejected as rejected:
            report.reject(line, rejected.reason, rejected.message)
            continue
        if record is not None:
            record["_where"] = where   # not a column: lets the importer still reject it by line
            records.append(record)
            report.kept += 1
    return records


# ---------------------------------------------------------------- files

def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped if needed; ImportFailed if it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFailed(f"Fichier introuvable : {path}. Vérifiez le chemin.") from None
    except IsADirectoryError:
        raise ImportFailed(f"{path} est un dossier : donnez le chemin d'un fichier.") from None
    except OSError as e:
        raise ImportFailed(f"Impossible de lire le fichier {path} : {e.strerror or e}.") from None
    # Sniff the gzip magic rather than trust the name: operators rename files.
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ImportFailed(f"Le fichier compressé {path.name} est abîmé ({e}) : "
                               "recompressez-le ou fournissez-le décompressé.") from None
    return raw


def decode_utf8(raw: bytes, name: str) -> str:
    """Text of a UTF-8 file (BOM allowed); otherwise say which encoding to convert from."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        label, iconv = _guess_encoding(raw)
        raise ImportFailed(
            f"Le fichier {name} n'est pas encodé en UTF-8 (octet 0x{raw[e.start]:02x} invalide, ligne {line}). "
            + (f"Il semble encodé en {label}. " if label else "")
            + f"Convertissez-le en UTF-8 (par exemple « iconv -f {iconv} -t UTF-8 {name} > {name}.utf8 », "
            "ou « Enregistrer sous… > CSV UTF-8 » dans Excel) puis relancez l'import."
        ) from None


def _guess_encoding(raw: bytes) -> tuple[str, str]:
    """(what to tell the operator, iconv's name for it); the label is "" when we cannot tell."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16", "UTF-16"
    try:
        decoded = raw.decode("cp1252")
    except UnicodeDecodeError:   # bytes Windows-1252 leaves undefined: Latin-1 is what remains
        return "ISO-8859-1 (Latin-1)", "ISO-8859-1"
    # French text re-saved by Windows tools shows accented letters in cp1252.
    if re.search("[éèêàçùôîâëïü]", decoded, re.IGNORECASE):
        return "Windows-1252 (« ANSI » sous Windows, proche d'ISO-8859-1)", "WINDOWS-1252"
    return "", "WINDOWS-1252"


def load_json(path: Path, raw: bytes | None = None) -> Any:
    text = decode_utf8(read_bytes(path) if raw is None else raw, path.name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportFailed(
            f"Le fichier {path.name} n'est pas du JSON valide : {e.msg} (ligne {e.lineno}, colonne {e.colno}). "
            "Corrigez la syntaxe à cet endroit ou réexportez le fichier."
        ) from None


def is_json(raw: bytes) -> bool:
    """Whether a file's content is JSON rather than CSV, by its first character."""
    return raw[:64].lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def json_records(data: Any, key: str, name: str) -> list[Any]:
    """The records array of an API response: `{key: [...]}` or a bare array."""
    records = data.get(key) if isinstance(data, dict) else data
    if not isinstance(records, list):
        found = ", ".join(sorted(data)[:8]) if isinstance(data, dict) else type(data).__name__
        raise ImportFailed(f"Le fichier {name} ne contient pas de liste « {key} » (trouvé : {found}). "
                           f"Attendu : la réponse de l'API, {{\"{key}\": [...]}}, ou une liste JSON.")
    return records


def csv_rows(path: Path, required: Sequence[str], what: str,
             raw: bytes | None = None) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header (lower-cased) and (line, row) pairs of a CSV file, after checking its columns.

    `line` is the line where the row starts, the header being line 1.  The delimiter is
    "," or ";" (a French Excel saves with ";").
    """
    text = decode_utf8(read_bytes(path) if raw is None else raw, path.name)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ",")
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise ImportFailed(f"Le fichier {path.name} est vide ou son en-tête (ligne 1) est illisible.") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFailed(
            f"Colonne(s) obligatoire(s) absente(s) de {path.name} : {', '.join(missing)}. "
            f"La ligne 1 doit être l'en-tête {what} (colonnes trouvées : {', '.join(header[:12]) or 'aucune'})."
        )

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        next_line = 2
        while True:
            line = next_line
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise ImportFailed(f"{path.name}, ligne {line} : CSV illisible ({e}).") from None
            next_line = reader.line_num + 1   # a quoted field may span several lines
            if any(f.strip() for f in fields):
                yield line, {h: (fields[i].strip() if i < len(fields) else "") for i, h in enumerate(header)}

    return header, rows()


# ---------------------------------------------------------------- fields

def text(value: Any) -> str:
    """A field as clean one-line text ("" for None)."""
    return " ".join(str(value).split()) if value is not None else ""


def siret_valid(siret: str) -> bool:
    """Luhn checksum of a 14-digit SIRET, with La Poste's exception.

    La Poste's establishments share SIREN 356000000 and are numbered beyond what Luhn
    allows; INSEE validates them by "sum of the 14 digits is a multiple of 5".
    """
    if len(siret) != 14 or not siret.isdigit() or not siret.strip("0"):
        return False
    if siret.startswith("356000000") and sum(map(int, siret)) % 5 == 0:
        return True
    total = 0
    for i, ch in enumerate(reversed(siret)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def siret_digits(value: Any) -> str:
    """A SIRET as 14 digits: spaces dropped, leading zeros restored when a spreadsheet ate them."""
    digits = re.sub(r"[\s.]", "", text(value))
    if digits.isdigit() and 12 <= len(digits) < 14:
        digits = digits.zfill(14)
    return digits


def naf_code(value: Any) -> str:
    """"47.54Z" or "4754z" -> "4754Z" (France Travail writes the dot, La Bonne Boîte does not)."""
    return text(value).replace(".", "").replace(" ", "").upper()


def utc_timestamp(value: Any) -> str:
    """An ISO 8601 date or date-time as "YYYY-MM-DDTHH:MM:SSZ" (UTC, so strings sort by time)."""
    raw = text(value)
    if not raw:
        raise ValueError("empty")
    parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)   # France Travail always gives an offset
    return parsed.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def paris_month(value: Any) -> str:
    """"2021-09-01T00:00:00.000Z" -> "septembre 2021": the month an entry date falls in, in France.

    The catalogue stores French midnights in UTC (the day before, 22:00), hence Europe/Paris.
    """
    stamp = dt.datetime.strptime(utc_timestamp(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    try:
        from zoneinfo import ZoneInfo
        stamp = stamp.astimezone(ZoneInfo("Europe/Paris"))
    except (ImportError, KeyError):   # no time zone database here: UTC is off by at most two hours
        pass
    return f"{FRENCH_MONTHS[stamp.month - 1]} {stamp.year}"


FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre")


def number(value: Any) -> float | None:
    """A float from a JSON number or a CSV text (decimal comma accepted); None if blank or not a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raw = text(value).replace(",", ".")
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def point(lat: Any, lon: Any) -> tuple[float, float] | None:
    """A usable (lat, lon), or None: blank, not numbers, out of range, or 0,0 (a common "unknown")."""
    la, lo = number(lat), number(lon)
    if la is None or lo is None or not (-90 <= la <= 90 and -180 <= lo <= 180) or (la == 0 and lo == 0):
        return None
    return la, lo


FAR_FROM_COMMUNE_KM = 100.0   # larger than any commune, even in Guyane


def locate(refs: Referentials, where: str, coords: tuple[float, float] | None, insee: str, postal: str,
           notes: Counter[str]) -> tuple[float, float, Place | None]:
    """Coordinates of a row and its commune: given ones, else the commune's centre.

    Given coordinates far from the stated commune are usually swapped lat/lon or a
    geocoding slip; the commune's centre is then closer to the truth.
    """
    place = refs.place(insee) if insee else None
    if place is None and postal:
        place = refs.place_by_postal_code(postal.zfill(5) if postal.isdigit() else postal)
    if coords is not None:
        if place is None or haversine_km(*coords, place.latitude, place.longitude) <= FAR_FROM_COMMUNE_KM:
            return coords[0], coords[1], place
        if haversine_km(coords[1], coords[0], place.latitude, place.longitude) <= FAR_FROM_COMMUNE_KM:
            notes["coordinates:swapped"] += 1
            return coords[1], coords[0], place
        notes["coordinates:far_from_commune"] += 1
    if place is None:
        raise RowRejected("no_coordinates",
                          f"{where} : ni coordonnées utilisables ni commune reconnue (code INSEE « {insee} », "
                          f"code postal « {postal} ») : impossible de la situer sur la carte.")
    notes["coordinates:commune_centre"] += 1
    return place.latitude, place.longitude, place


# INSEE size bands ("tranche d'effectif salarié") by their lower bound, to read France Travail's labels.
SIZE_BANDS_BY_MIN = {0: "00", 1: "01", 3: "02", 6: "03", 10: "11", 20: "12", 50: "21", 100: "22",
                     200: "31", 250: "32", 500: "41", 1000: "42", 2000: "51", 5000: "52", 10000: "53"}
SIZE_BAND_CODES = frozenset(SIZE_BANDS_BY_MIN.values())


def size_band(value: Any) -> str | None:
    """An INSEE band code from a code ("12") or a label ("20 à 49 salariés"); None if unknown."""
    raw = text(value)
    if raw in SIZE_BAND_CODES:
        return raw
    m = re.match(r"(\d[\d\s]*)", raw)
    return SIZE_BANDS_BY_MIN.get(int(m.group(1).replace(" ", ""))) if m else None


# Values that upstream files put where a contact is unknown (La Bonne Boîte's dev data
# uses them for every company): shown to users, they would look like real contacts.
PLACEHOLDER_CONTACTS = frozenset({"dummyemail@gmail.com", "0123456789", "01 23 45 67 89", "[redacted]",
                                  "http://www.dummywebsite.com", "https://www.dummywebsite.com"})


def contact(value: Any) -> str | None:
    raw = text(value)
    return None if not raw or raw.lower().rstrip("/") in PLACEHOLDER_CONTACTS else raw


def list_items(value: Any) -> list[str]:
    """A list field from JSON (a list) or from a CSV cell ("a,b", "a;b" or '["a", "b"]')."""
    if isinstance(value, list):
        return [t for v in value if (t := text(v))]
    raw = text(value)
    if raw.startswith("["):
        try:
            parsed = json.loads(raw)
            if isinstance(parsed, list):
                return [t for v in parsed if (t := text(v))]
        except ValueError:
            pass
    return [t for v in re.split(r"[,;|]", raw.strip("[]")) if (t := v.strip(" \"'"))]


def rome_codes(value: Any) -> list[str]:
    """ROME codes of a list field, upper-cased, order kept, no repeats."""
    return list(dict.fromkeys(c.upper() for c in list_items(value)))


def known_romes(refs: Referentials, codes: list[str], where: str, notes: Counter[str]) -> list[str]:
    """The known codes among those given; a row whose every given code is unknown is rejected.

    One stale code among good ones is a fact to report, not a reason to lose the row.
    """
    known = [c for c in codes if refs.is_rome(c)]
    if codes and not known:
        raise RowRejected("unknown_rome", f"{where} : code(s) ROME inconnu(s) : {', '.join(codes)}.")
    if len(known) < len(codes):
        notes["rome:unknown_code_dropped"] += len(codes) - len(known)
    return known
