"""The acronyms people type for a training title, derived from the title itself.

"BTS management commercial opérationnel" is typed "BTS MCO": the initials of the
significant words of its speciality (before any "option"), alone and after the
diploma type's acronym.  Only the diploma *types* are kept by hand (CAP, BTS, BUT...);
every speciality acronym comes from the catalogue's own titles, and abbreviations
written in a title ("(CQP IMC)", "CP-FFP") are kept joined as one word.
"""

from __future__ import annotations

import re

from widget_server.text import fold

# Folded diploma-type phrases (as written at the start of titles or in diploma_type) ->
# the acronyms people use for them.  BUT replaced DUT in 2021: people type either.
TYPE_PHRASES: dict[str, tuple[str, ...]] = {
    "cap": ("cap",), "capa": ("capa", "cap"), "cap agricole": ("capa", "cap"),
    "certificat d aptitude professionnelle agricole": ("capa", "cap"),
    "certificat d aptitude professionnelle": ("cap",),
    "bts": ("bts",), "btsa": ("btsa", "bts"), "bts agricole": ("btsa", "bts"),
    "brevet de technicien superieur agricole": ("btsa", "bts"),
    "brevet de technicien superieur": ("bts",),
    "bp": ("bp",), "brevet professionnel": ("bp",),
    "bpjeps": ("bpjeps",),
    "brevet professionnel de la jeunesse de l education populaire et du sport": ("bpjeps",),
    "but": ("but", "dut"), "bachelor universitaire de technologie": ("but", "dut"),
    "dut": ("dut", "but"), "diplome universitaire de technologie": ("dut", "but"),
    "mc": ("mc",), "mention complementaire": ("mc",),
    "tp": ("tp",), "titre professionnel": ("tp",),
    "de": ("de",), "diplome d etat": ("de",),
    "bac pro": ("bac", "bacpro"), "bac professionnel": ("bac", "bacpro"),
    "baccalaureat professionnel": ("bac", "bacpro"),
    "lp": ("lp",), "licence pro": ("lp",), "licence professionnelle": ("lp",),
    "cs": ("cs",), "certificat de specialisation": ("cs",),
    "cqp": ("cqp",), "certificat de qualification professionnelle": ("cqp",),
}
_PHRASES = sorted(((tuple(p.split()), a) for p, a in TYPE_PHRASES.items()), key=lambda pa: -len(pa[0]))
_STOP = frozenset("a au aux d de des du en et l la le les un une pour sur avec par dans ou s".split())
_CUT = frozenset("option options specialite parcours mention niveau".split())
# "(CQP IMC)", "CP-FFP", "QHSE": runs of capitals in the original title.
_CAPITALS = re.compile(r"\b[A-Z]{2,}(?:[-.][A-Z]{1,})*\b")


def _strip_types(ws: list[str], capital_de: bool) -> tuple[list[str], list[str]]:
    """The leading diploma types of a title's words, as acronyms, and the words left.

    "de" is the type DE (diplôme d'État) only where the title writes it in capitals."""
    found: list[str] = []
    stripped = True
    while stripped and ws:
        stripped = False
        for phrase, acronyms in _PHRASES:
            if tuple(ws[:len(phrase)]) == phrase and (phrase != ("de",) or capital_de):
                found.extend(a for a in acronyms if a not in found)
                ws = ws[len(phrase):]
                stripped = True
                break
    return found, ws


def title_aliases(title: str, diploma_type: str = "") -> list[str]:
    """Folded acronyms for a training title, most specific first, each a single word."""
    types, rest = _strip_types(fold(title).split(), title.lstrip().startswith("DE "))
    if not types and diploma_type:
        types, _ = _strip_types(fold(diploma_type).split(), False)
    head: list[str] = []
    for w in rest:
        if w in _CUT:
            break
        head.append(w)
    significant = [w for w in head if w not in _STOP and not w.isdigit() and len(w) > 1]
    aliases: list[str] = []
    if 2 <= len(significant) <= 6:
        initials = "".join(w[0] for w in significant)
        aliases.append(initials)
        aliases += [t + initials for t in types]
    for run in _CAPITALS.findall(title):
        joined = re.sub(r"[-.]", "", run).lower()
        if "-" in run or "." in run:
            aliases.append(joined)
    aliases += types
    title_words = set(fold(title).split())
    return [a for i, a in enumerate(aliases) if a not in aliases[:i] and a not in title_words]
