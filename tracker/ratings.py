"""Fact-checkers' ratings as the tracker's verdicts: the documented, overridable mapping.

A rating's text is matched case-, accent- and punctuation-insensitively ("Pants on Fire!" is
`pants on fire`, "Engañoso" is `enganoso`). `RATINGS` lists the texts this tracker knows, in
English and the common Spanish, French, German and Portuguese words: clearly or mostly true
ratings are `true`, clearly or mostly false ones `false`, mixed, misleading, exaggerated or
out-of-context ones `partly_true`, and unproven ones (no evidence either way, and satire, which
asserts nothing) `unverifiable`. A user's own mapping (`--rating TEXT=VERDICT`) is consulted
first. When the text is unknown, a numeric `ratingValue` between `worstRating` and `bestRating`
(schema.org's defaults 1 and 5) decides by its position on the scale: the bottom quarter is
`false`, the top quarter `true`, the middle `partly_true`. Anything still unknown is refused,
unless the user chooses `unverifiable` for unknown ratings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from tracker.errors import ValidationError
from tracker.models import Verdict

_VERDICTS = tuple(v.value for v in Verdict)

# verdict: the rating texts that mean it (written as fact-checkers write them; matched by `rating_key`)
_WORDS: dict[str, tuple[str, ...]] = {
    "true": (
        "True", "Correct", "Accurate", "Mostly true", "Mostly correct", "Mostly accurate", "Correct attribution",
        "Verified", "Geppetto checkmark",
        # es
        "Verdadero", "Verdadera", "Verdad", "Cierto", "Cierta", "Correcto", "Correcta", "Mayormente verdadero",
        "Mayormente cierto", "Casi verdadero",
        # fr
        "Vrai", "Vraie", "Exact", "Exacte", "Plutôt vrai", "Correct", "Vérifié",
        # de
        "Wahr", "Richtig", "Stimmt", "Korrekt", "Größtenteils richtig", "Größtenteils wahr", "Überwiegend richtig",
        "Überwiegend wahr",
        # pt
        "Verdadeiro", "Verdadeira", "Verdade", "Correto", "Correta", "Majoritariamente verdadeiro",
        "Quase verdadeiro",
    ),
    "false": (
        "False", "Incorrect", "Inaccurate", "Wrong", "Mostly false", "Mostly incorrect", "Pants on Fire",
        "Pants on Fire!", "Fake", "Fake news", "Hoax", "Fabricated", "Baseless", "Four Pinocchios", "Scam",
        "Miscaptioned", "Misattributed", "Altered", "Manipulated", "Debunked",
        # es
        "Falso", "Falsa", "Mayormente falso", "Incorrecto", "Incorrecta", "Bulo", "Mentira", "Fraude",
        # fr
        "Faux", "Fausse", "Plutôt faux", "Inexact", "Inexacte", "Infox", "Canular", "Arnaque",
        # de
        "Falsch", "Größtenteils falsch", "Überwiegend falsch", "Frei erfunden", "Erfunden", "Unwahr",
        # pt
        "Falso", "Falsa", "Majoritariamente falso", "Errado", "Errada", "Boato", "Montagem",
    ),
    "partly_true": (
        "Half true", "Half-true", "Mixture", "Mixed", "Partly true", "Partly false", "Partially true",
        "Partially false", "Misleading", "Missing context", "Needs context", "Out of context", "Exaggerated",
        "Exaggeration", "Distorted", "Cherry-picked", "Imprecise", "Half truth", "Three Pinocchios",
        "Two Pinocchios", "One Pinocchio",
        # es
        "Engañoso", "Engañosa", "Verdad a medias", "A medias", "Medio verdadero", "Parcialmente verdadero",
        "Parcialmente falso", "Impreciso", "Imprecisa", "Exagerado", "Exagerada", "Sin contexto",
        "Falta contexto", "Descontextualizado",
        # fr
        "Trompeur", "Trompeuse", "Partiellement vrai", "Partiellement faux", "À nuancer", "Mitigé",
        "Exagéré", "Manque de contexte", "Hors contexte", "Imprécis",
        # de
        "Irreführend", "Teilweise richtig", "Teilweise falsch", "Teilweise wahr", "Halb wahr", "Halbwahr",
        "Fehlender Kontext", "Übertrieben", "Aus dem Kontext gerissen",
        # pt
        "Enganoso", "Enganosa", "Meia verdade", "Parcialmente verdadeiro", "Parcialmente falso", "Distorcido",
        "Distorcida", "Exagerado", "Impreciso", "Fora de contexto", "Sem contexto", "Descontextualizado",
    ),
    "unverifiable": (
        "Unproven", "Unverified", "Unverifiable", "Unsupported", "No evidence", "Insufficient evidence",
        "Research in progress", "Undetermined", "Unclear", "Satire", "Labeled satire",
        # es
        "Sin evidencia", "Sin pruebas", "No verificable", "Inverificable", "Dudoso", "Sátira",
        # fr
        "Invérifiable", "Non prouvé", "Non vérifiable", "Sans preuve", "Incertain", "Satire",
        # de
        "Unbelegt", "Nicht belegt", "Unbewiesen", "Nicht überprüfbar", "Unklar", "Satire",
        # pt
        "Sem provas", "Não verificável", "Insustentável", "Inconclusivo", "Sátira",
    ),
}


def rating_key(text: str) -> str:
    """A rating text as the mapping matches it: casefolded, accents and punctuation removed, spaces single."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("ß", "ss")
    return " ".join(re.sub(r"[^\w]+|_", " ", plain).split())


def _build() -> dict[str, str]:
    table: dict[str, str] = {}
    for verdict, words in _WORDS.items():
        for word in words:
            key = rating_key(word)
            if table.get(key, verdict) != verdict:
                raise AssertionError(f"rating {word!r} is listed under {table[key]} and {verdict}")
            table[key] = verdict
    return table


RATINGS: dict[str, str] = _build()  # rating key -> verdict


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """`TEXT=VERDICT` pairs (as the command line takes them) as a mapping; a bad pair is refused."""
    overrides = {}
    for pair in pairs:
        text, sep, verdict = str(pair).rpartition("=")
        verdict = verdict.strip().lower()
        if not sep or not rating_key(text):
            raise ValidationError(f"--rating {pair!r}: write it as TEXT=VERDICT, e.g. 'Mostly false=false'")
        if verdict not in _VERDICTS:
            raise ValidationError(f"--rating {pair!r}: unknown verdict {verdict!r}; use one of: {', '.join(_VERDICTS)}")
        overrides[text] = verdict
    return overrides


class RatingMap:
    """The mapping in force for one import: the user's overrides, then `RATINGS`, then the numeric scale."""

    def __init__(self, overrides: Mapping[str, str] | None = None, unknown: str | None = None) -> None:
        """`overrides`: rating text -> verdict; `unknown`: the verdict for unknown ratings (None refuses them)."""
        self.overrides = {}
        for text, verdict in (overrides or {}).items():
            if verdict not in _VERDICTS:
                raise ValidationError(f"rating {text!r}: unknown verdict {verdict!r}; use one of: {', '.join(_VERDICTS)}")
            self.overrides[rating_key(text)] = verdict
        if unknown not in (None, "unverifiable"):
            raise ValidationError(f"unknown ratings can only be refused or taken as 'unverifiable', not {unknown!r}")
        self.unknown = unknown

    def verdict(self, text: str | None, value=None, worst=None, best=None) -> tuple[str | None, str]:
        """The verdict for a rating and how it was found (`text`, `scale`, `unknown`), or None and why not."""
        key = rating_key(text) if text else ""
        if key and key in self.overrides:
            return self.overrides[key], "text"
        if key and key in RATINGS:
            return RATINGS[key], "text"
        by_scale = scale_verdict(value, worst, best)
        if by_scale is not None:
            return by_scale, "scale"
        if self.unknown:
            return self.unknown, "unknown"
        scale = "" if value in (None, "") else f" and ratingValue {value!r} is not between worstRating and bestRating"
        what = f"rating {text!r} is not in the rating mapping" if text else "the review has no textual rating"
        return None, (f"{what}{scale}; map it with --rating '{text or 'TEXT'}=VERDICT' "
                      "or import unknown ratings as unverifiable (--unknown-ratings unverifiable)")

    def table(self) -> list[tuple[str, str]]:
        """Every (rating, verdict) pair in force, the user's first, for showing before an import."""
        rows = [(key, verdict) for key, verdict in self.overrides.items()]
        seen = set(self.overrides)
        for verdict, words in _WORDS.items():
            for word in words:
                if rating_key(word) not in seen:
                    seen.add(rating_key(word))
                    rows.append((word, verdict))
        return rows


def scale_verdict(value, worst=None, best=None) -> str | None:
    """The verdict for a numeric rating by its place between worst (default 1) and best (default 5), or None."""
    try:
        v = float(value)
        low = 1.0 if worst in (None, "") else float(worst)
        high = 5.0 if best in (None, "") else float(best)
    except (TypeError, ValueError):
        return None
    if high == low or not min(low, high) <= v <= max(low, high):
        return None
    position = (v - low) / (high - low)
    if position <= 0.25:
        return "false"
    if position >= 0.75:
        return "true"
    return "partly_true"
