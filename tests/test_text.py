"""Text folding: the fast per-character table folds exactly as the whole-string NFKD it replaces."""

from __future__ import annotations

import random
import sqlite3
import unicodedata

from widget_server.text import fold, place_words, words


def reference_fold(text: str) -> str:
    """The definition: ligatures spelt out, NFKD, combining marks dropped, lower case, punctuation out."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    import re
    return re.sub(r"[^0-9a-z]+", " ", "".join(c for c in decomposed if not unicodedata.combining(c)).lower()).strip()


def test_fold_examples():
    assert fold("Saint-Étienne") == "saint etienne"
    assert fold("  CŒUR  d'Œuvre ") == "coeur d oeuvre"
    assert fold("Ændré – Ŀa Ñ") == "aendre l a n"      # Ŀ decomposes to L + middle dot
    assert fold("Straße") == "stra e"                 # no decomposition: a word break, as before
    assert fold("①②") == "12" and fold("ﬁnance") == "finance"
    assert words("L'Haÿ-les-Roses") == ["l", "hay", "les", "roses"]
    assert place_words("St-Jean-de-Luz") == ["saint", "jean", "de", "luz"]


def test_fold_agrees_with_its_definition_on_the_referentials(dataset_path):
    db = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    names = [r[0] for r in db.execute("SELECT name FROM commune")]
    names += [r[0] for r in db.execute("SELECT label FROM rome")]
    assert len(names) > 30_000
    assert [fold(n) for n in names] == [reference_fold(n) for n in names]


def test_fold_agrees_with_its_definition_on_any_characters():
    rng = random.Random(16)
    alphabet = [chr(c) for c in range(0x20, 0x3000) if not 0xD800 <= c < 0xE000]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        # Combining marks after a letter: the case the per-character table must get right.
        text += rng.choice("eaou") + "".join(rng.choice("\u0301\u0308\u0327\u0323") for _ in range(3))
        assert fold(text) == reference_fold(text), repr(text)
