"""ClaimReview in and out: schema.org fact-checks and Google Fact Check Tools search results.

Reading takes schema.org ClaimReview JSON-LD (one object, a list, an `@graph`, nested in other
nodes, or the `<script type="application/ld+json">` blocks of a saved HTML page, found by
`extruct`), normalised by `pyld` (flattened against schema.org, so `@id` references, prefixed
types and `http`/`https` vocabularies all read alike; no remote context is ever fetched), and the
Fact Check Tools `claims:search` response `{"claims": [{"text", "claimant", "claimDate",
"claimReview": [...]}]}`, one page or several (a JSON list of pages, or pages saved one after
another in one file). Each review becomes:

- the claim: `claimReviewed` / `text` (reviews of the same text are one claim);
- a `confirmed` report by the claimant (`itemReviewed.author` / `claimant`) at the claim's date
  (`itemReviewed.datePublished` / `claimDate`; the review's date when missing, which the summary
  says); `firstAppearance` (or the first `appearance`) is the report's url, other appearances its note;
- an outcome at the review's date (`datePublished` / `reviewDate`), its verdict from the rating
  (`tracker.ratings`), the review url as evidence, and the publisher, rating, language and title
  in its note. Reviews of one claim are its outcome revisions in date order (the latest in force);
  when publishers disagree the summary says so.

The result is an ordinary `Incoming` for `tracker.importer.apply_incoming`, so every guarantee
of an import holds: all or nothing with every bad review named, idempotent (a review's url and
date identify its outcome; importing the same file again adds nothing), the size limit, text kept
as text. Writing gives one ClaimReview per resolved claim, as Google and Full Fact document it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from tracker import interchange
from tracker.dates import DateError, format_when, parse_when
from tracker.errors import ImportRejected, RowError, ValidationError
from tracker.importer import ClaimIn, ImportSummary, Incoming, OutcomeIn, apply_incoming
from tracker.ledger import MAX_STATEMENT, Ledger
from tracker.ratings import RatingMap

MAX_URL = 2000
SCHEMA = ("http://schema.org/", "https://schema.org/")
_CONTEXT = {"@context": {"@vocab": "http://schema.org/"}}
_MARKERS = re.compile(r'"(@context|@type|@graph|claimReview|claimReviewed)"\s*:')
_TRACKER_MARKERS = re.compile(r'"(statement|reports|outcomes)"\s*:')
SNIFF_BYTES = 65_536
# what an exported ClaimReview says for each verdict: (ratingValue on a 1-5 scale, alternateName)
VERDICT_RATING = {"false": (1, "False"), "partly_true": (3, "Partly true"), "true": (5, "True"),
                  "unverifiable": (None, "Unverifiable")}
PERSON_KINDS = {"official", "commentator", "social_account"}


@dataclass
class Review:
    """One fact-check as read from a file, before it is checked."""

    row: str
    statement: str | None
    claimant: str | None = None
    claim_date: str | None = None
    url: str | None = None
    publisher: str | None = None
    rating: str | None = None
    rating_value: Any = None
    worst: Any = None
    best: Any = None
    reviewed_at: str | None = None
    language: str | None = None
    title: str | None = None
    appearances: list[str] = field(default_factory=list)
    first_appearance: str | None = None
    problem: str | None = None  # what makes the item unreadable as a review at all


@dataclass
class ClaimReviewImport:
    """What a ClaimReview import changed, and what the reader wants the user to know."""

    summary: ImportSummary
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join([str(self.summary)] + [f"  note: {n}" for n in self.notes])


# -- reading -------------------------------------------------------------------------------
def looks_like(path: str | Path, fmt: str | None = None) -> bool:
    """Whether `path` is to be read as ClaimReview: `--format`, else its extension or, for .json, its start."""
    if fmt or Path(path).suffix.lower() != ".json":
        return is_claimreview(str(path), "", fmt)
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as stream:
            head = stream.read(SNIFF_BYTES)
    except OSError:
        return False  # the JSON reader names the problem
    return is_claimreview(str(path), head, fmt)


def is_claimreview(name: str, head: str, fmt: str | None = None) -> bool:
    """Whether a file named `name` that starts with `head` is ClaimReview (`fmt`, when given, decides)."""
    if fmt:
        return fmt == "claimreview"
    suffix = Path(name).suffix.lower()
    if suffix in (".html", ".htm", ".jsonld"):
        return True
    if suffix != ".json":
        return False
    head = head[:SNIFF_BYTES]
    ours, theirs = _TRACKER_MARKERS.search(head), _MARKERS.search(head)
    if ours and theirs:
        raise ValidationError(f"{name!r} could be this tracker's JSON or ClaimReview; "
                              "pass --format json or --format claimreview")
    return bool(theirs)


def read_reviews(text: str) -> list[Review]:
    """Every review in a ClaimReview JSON-LD document, an HTML page or Fact Check Tools pages."""
    text = text.lstrip("\ufeff")
    if text.lstrip().startswith("<"):
        documents = _html_documents(text)
    else:
        documents = _json_values(text)
    pages: list[tuple[int, dict]] = []
    linked: list = []
    for value in documents:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("claims"), list) \
                    and not any(k.startswith("@") for k in item):
                pages.append((len(pages) + 1, item))
            else:
                linked.append(item)
    reviews = [r for number, page in pages for r in _page_reviews(page, number if len(pages) > 1 else None)]
    if linked:
        reviews += _linked_reviews(linked)
    if not reviews:
        raise ImportRejected([RowError("file", "no ClaimReview found: expected schema.org ClaimReview JSON-LD, an "
                                               "HTML page holding it, or a Fact Check Tools claims:search response")])
    return reviews


def _html_documents(text: str) -> list:
    from extruct.jsonld import JsonLdExtractor

    try:
        items = JsonLdExtractor().extract(text)
    except (ValueError, RecursionError) as exc:
        raise ImportRejected([RowError("page", f"a <script type=\"application/ld+json\"> block is not valid "
                                               f"JSON ({exc}); fix or remove it")]) from exc
    if not items:
        raise ImportRejected([RowError("page", 'no <script type="application/ld+json"> block with JSON-LD found; '
                                               "save the fact-check page with its markup")])
    return items


def _json_values(text: str) -> list:
    """The JSON values in `text`: one, or several saved one after another (pages of search results)."""
    decoder = json.JSONDecoder()
    values, at = [], 0
    try:
        while True:
            while at < len(text) and text[at].isspace():
                at += 1
            if at >= len(text):
                break
            value, at = decoder.raw_decode(text, at)
            values.append(value)
    except json.JSONDecodeError as exc:
        raise ImportRejected([RowError(f"line {exc.lineno}", f"not valid JSON: {exc.msg}")]) from exc
    except RecursionError as exc:
        raise ImportRejected([RowError("file", "the JSON is nested too deeply to be a fact-check")]) from exc
    if not values:
        raise ImportRejected([RowError("file", "the file is empty")])
    return values


def _str(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())
    return text or None


def _page_reviews(page: dict, number: int | None) -> list[Review]:
    """The reviews of one Fact Check Tools `claims:search` response page."""
    prefix = f"page {number} " if number else ""
    reviews = []
    for i, claim in enumerate(page["claims"]):
        row = f"{prefix}claims[{i}]"
        if not isinstance(claim, dict):
            reviews.append(Review(row, None, problem="each claim must be an object"))
            continue
        found = claim.get("claimReview")
        if not isinstance(found, list) or not found:
            reviews.append(Review(row, _str(claim.get("text")), problem="the claim has no claimReview list; a "
                                  "Fact Check Tools result always has one, so check the file"))
            continue
        for j, review in enumerate(found):
            if not isinstance(review, dict):
                reviews.append(Review(f"{row}.claimReview[{j}]", None, problem="each claimReview must be an object"))
                continue
            reviews.append(Review(
                f"{row}.claimReview[{j}]", _str(claim.get("text")), claimant=_str(claim.get("claimant")),
                claim_date=_str(claim.get("claimDate")), url=_str(review.get("url")),
                publisher=_str(review.get("publisher")), rating=_str(review.get("textualRating")),
                reviewed_at=_str(review.get("reviewDate")), language=_str(review.get("languageCode")),
                title=_str(review.get("title"))))
    return reviews


def _linked_reviews(documents: list) -> list[Review]:
    """The ClaimReview nodes of JSON-LD documents, flattened against schema.org by pyld."""
    from pyld import jsonld

    refused: list[str] = []

    def loader(url, options=None):
        if url.rstrip("/") in ("https://schema.org", "http://schema.org"):
            return {"contextUrl": None, "documentUrl": url, "document": _CONTEXT}
        refused.append(url)
        raise ValueError(url)

    try:
        flat = jsonld.flatten(documents, None, {"documentLoader": loader, "expandContext": _CONTEXT,
                                                "base": "urn:tracker:import"})
    except (jsonld.JsonLdError, RecursionError, TypeError, ValueError) as exc:
        if refused:
            reason = (f"the JSON-LD names the context {refused[0]!r}; the tracker reads schema.org only and "
                      "never fetches a context: use \"@context\": \"https://schema.org\"")
        else:
            reason = f"not JSON-LD the tracker can read: {str(exc).splitlines()[0]}"
        raise ImportRejected([RowError("file", reason)]) from exc
    # a document with an `@graph` inside a list is a named graph: its nodes count like any other
    flat = [member for node in flat for member in [node, *node.get("@graph", [])]]
    nodes = {node["@id"]: node for node in flat if "@id" in node}
    found = [node for node in flat if _is_a(node, "ClaimReview")]
    found.sort(key=lambda n: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n.get("@id", ""))])
    graph = _Graph(nodes)
    reviews = []
    for n, node in enumerate(found, start=1):
        url = graph.text(node, "url")
        claim = graph.node(node, "itemReviewed") or {}
        rating = graph.node(node, "reviewRating") or {}
        statement_entry = graph.entries(node, "claimReviewed")
        appearances = [u for e in graph.entries(claim, "appearance") if (u := graph.url_of(e))]
        first = [u for e in graph.entries(claim, "firstAppearance") if (u := graph.url_of(e))]
        reviews.append(Review(
            f"ClaimReview {n}" + (f" ({url[:80]})" if url else ""), graph.text(node, "claimReviewed"),
            claimant=graph.name(claim, "author"), claim_date=graph.text(claim, "datePublished"), url=url,
            publisher=graph.name(node, "author") or graph.name(node, "publisher"),
            rating=graph.text(rating, "alternateName") or graph.text(rating, "name"),
            rating_value=graph.text(rating, "ratingValue"), worst=graph.text(rating, "worstRating"),
            best=graph.text(rating, "bestRating"), reviewed_at=graph.text(node, "datePublished"),
            language=graph.text(node, "inLanguage") or next(
                (e.get("@language") for e in statement_entry if e.get("@language")), None),
            title=graph.text(node, "headline") or graph.text(node, "name"),
            appearances=appearances, first_appearance=first[0] if first else None))
    return reviews


def _is_a(node: dict, kind: str) -> bool:
    return any(t in (p + kind for p in SCHEMA) for t in node.get("@type", []))


class _Graph:
    """Reading a flattened JSON-LD graph: values of schema.org properties, following `@id` links."""

    def __init__(self, nodes: dict[str, dict]) -> None:
        self.nodes = nodes

    @staticmethod
    def entries(node: dict, prop: str) -> list[dict]:
        """The values of `prop` on `node` (either schema.org vocabulary)."""
        return [e for p in SCHEMA for e in node.get(p + prop, []) if isinstance(e, dict)]

    def node(self, node: dict, prop: str) -> dict | None:
        """The node that `prop` points at, if any."""
        for entry in self.entries(node, prop):
            if "@id" in entry:
                return self.nodes.get(entry["@id"], {})
        return None

    def text(self, node: dict, prop: str) -> str | None:
        """The first literal value of `prop` as text."""
        for entry in self.entries(node, prop):
            if "@value" in entry:
                return _str(entry["@value"])
            if "@id" in entry and not entry["@id"].startswith(("_:", "urn:tracker:")):
                return _str(entry["@id"])
        return None

    def name(self, node: dict, prop: str) -> str | None:
        """The name of who `prop` names: a plain text, or a Person or Organization node's `name`."""
        for entry in self.entries(node, prop):
            if "@value" in entry:
                return _str(entry["@value"])
            named = self.text(self.nodes.get(entry.get("@id"), {}), "name")
            if named:
                return named
        return None

    def url_of(self, entry: dict) -> str | None:
        """The url of an appearance: a plain url, or a CreativeWork node's `url`."""
        if "@value" in entry:
            return _str(entry["@value"])
        return self.text(self.nodes.get(entry.get("@id"), {}), "url")


# -- reviews as an import ------------------------------------------------------------------
@dataclass
class _Checked:
    review: Review
    statement: str
    verdict: str
    how: str
    decided_at: datetime


def _date(value: str | None, what: str, review: Review, errors: list[RowError]) -> datetime | None:
    if not value:
        return None
    try:
        return parse_when(value)
    except DateError as exc:
        errors.append(RowError(review.row, f"{what}: {exc}"))
        return None


def check_reviews(reviews: list[Review], ratings: RatingMap) -> tuple[list[_Checked], list[RowError]]:
    """Each review checked on its own (text, url, date, rating); the good ones, and every problem by row."""
    good: list[_Checked] = []
    errors: list[RowError] = []
    for review in reviews:
        if review.problem:
            errors.append(RowError(review.row, review.problem))
            continue
        bad = len(errors)
        statement = review.statement
        if not statement:
            errors.append(RowError(review.row, "the claim reviewed is empty (claimReviewed / text)"))
        elif len(statement) > MAX_STATEMENT:
            errors.append(RowError(review.row, f"the claim reviewed is longer than {MAX_STATEMENT} characters"))
        if not review.url:
            errors.append(RowError(review.row, "the review has no url; the url of the fact-check is its evidence"))
        for what, value in (("url", review.url), ("appearance", review.first_appearance),
                            *(("appearance", a) for a in review.appearances)):
            if value and len(value) > MAX_URL:
                errors.append(RowError(review.row, f"the {what} is longer than {MAX_URL} characters"))
        if not review.reviewed_at:
            errors.append(RowError(review.row, "the review has no date (datePublished / reviewDate); "
                                               "an outcome needs the date it became known"))
        decided = _date(review.reviewed_at, "the review's date", review, errors)
        verdict, how = ratings.verdict(review.rating, review.rating_value, review.worst, review.best)
        if verdict is None:
            errors.append(RowError(review.row, how))
        if len(errors) == bad:
            good.append(_Checked(review, statement, verdict, how, decided))
    return good, errors


def to_incoming(reviews: list[Review], ratings: RatingMap) -> tuple[Incoming, list[str]]:
    """The reviews as an Incoming for the importer, and the notes the summary adds (see module doc)."""
    checked, errors = check_reviews(reviews, ratings)
    by_url: dict[str, _Checked] = {}
    claims: dict[str, list[_Checked]] = {}
    for item in checked:
        earlier = by_url.get(item.review.url)
        if earlier is not None:
            if (earlier.statement, earlier.verdict, earlier.decided_at) != (item.statement, item.verdict,
                                                                              item.decided_at):
                errors.append(RowError(item.review.row, f"the review url is also {earlier.review.row} with another "
                                                        "claim, rating or date; one url is one review"))
            continue  # the same review met twice (on two pages, say)
        by_url[item.review.url] = item
        claims.setdefault(item.statement, []).append(item)
    incoming = Incoming(chunks=[], errors=errors)
    labels: list[str] = []
    rows: list[tuple[str, ...]] = []
    undated = 0
    disagreements = []
    scaled = sum(1 for c in checked if c.how == "scale")
    unknown = [c for c in checked if c.how == "unknown"]
    for statement, items in claims.items():
        items.sort(key=lambda c: (c.decided_at, c.review.url))
        first_review = items[0]
        claim = ClaimIn(first_review.review.row, None, statement)
        for item in items:
            review = item.review
            note = _outcome_note(review)
            same = next((o for o in claim.outcomes if (o.verdict, o.decided_at) == (item.verdict, item.decided_at)),
                        None)
            if same is not None:  # one verdict at one time is one outcome: keep the second review in its note
                same.note += f"; also {review.publisher or 'a publisher'} ({review.rating!r}): {review.url}"
                continue
            claim.outcomes.append(OutcomeIn(review.row, item.verdict, item.decided_at, evidence=review.url,
                                            note=note))
        verdicts = {o.verdict for o in claim.outcomes}
        if len(verdicts) > 1:
            said = "; ".join(f"{i.review.publisher or 'a publisher'}: {i.verdict} ({format_when(i.decided_at)[:10]})"
                             for i in items)
            disagreements.append(f"{statement[:60]!r}: {said}")
        reported = set()
        for item in items:
            review = item.review
            if not review.claimant:
                continue
            when = review.claim_date or first_review.review.reviewed_at
            if (review.claimant, when) in reported:
                continue
            reported.add((review.claimant, when))
            undated += not review.claim_date
            url = review.first_appearance or (review.appearances[0] if review.appearances else "")
            others = [a for a in review.appearances if a != url]
            labels.append(review.row)
            rows.append(("", statement, review.claimant, "confirmed", when, "", "", "", url, "", "",
                         ("also appeared at: " + " ".join(others)) if others else "", "", ""))
        if not any(i.review.claimant for i in items):
            dates = [d for i in items if (d := _date(i.review.claim_date, "the claim's date", i.review, errors))]
            claim.first_reported_at = min(dates) if dates else first_review.decided_at
        incoming.claims.append(claim)
    incoming.chunks = [(labels, rows)] if rows else []
    notes = []
    if undated:
        notes.append(f"{undated} claimant report(s) had no claim date and are dated by the claim's first review")
    if disagreements:
        more = f" | and {len(disagreements) - 5} more" if len(disagreements) > 5 else ""
        notes.append(f"{len(disagreements)} claim(s) reviewed with different verdicts; every review is kept as an "
                     "outcome revision in date order, the latest in force: " + " | ".join(disagreements[:5]) + more)
    if scaled:
        notes.append(f"{scaled} review(s) rated by their numeric ratingValue (their text is not in the mapping)")
    if unknown:
        notes.append(f"{len(unknown)} review(s) with a rating not in the mapping imported as unverifiable: "
                     + ", ".join(sorted({repr(c.review.rating) for c in unknown})))
    return incoming, notes


def _outcome_note(review: Review) -> str:
    parts = [f"{review.publisher or 'an unnamed publisher'} rated it {review.rating!r}" if review.rating
             else f"{review.publisher or 'an unnamed publisher'} rated it {review.rating_value} on a scale from "
                  f"{review.worst or 1} to {review.best or 5}"]
    if review.language:
        parts.append(f"language: {review.language}")
    if review.title:
        parts.append(f"title: {review.title}")
    return "; ".join(parts)


def _check_size(size: int, what: str) -> None:
    limit = interchange.max_import_bytes()
    if size > limit:
        raise ValidationError(f"{what} is {size / 2**20:,.1f} MB, over the import limit of {limit / 2**20:,.0f} MB; "
                              f"split it into smaller files or raise {interchange.MAX_IMPORT_ENV}")


def import_text(ledger: Ledger, text: str, ratings: RatingMap | None = None,
                label: str | None = None, *, dry_run: bool = False) -> ClaimReviewImport:
    """Import ClaimReview or Fact Check Tools text, all-or-nothing; `label` names it in history
    (`dry_run`: say what would change and write nothing)."""
    _check_size(len(text.encode("utf-8")), "the file")
    incoming, notes = to_incoming(read_reviews(text), ratings or RatingMap())
    return ClaimReviewImport(apply_incoming(ledger, incoming, label=label, dry_run=dry_run), notes)


def import_file(ledger: Ledger, path: str | Path, ratings: RatingMap | None = None, *,
                dry_run: bool = False) -> ClaimReviewImport:
    """Import a ClaimReview, HTML or Fact Check Tools file, all-or-nothing (see the module doc)."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{str(path)!r} does not exist; check the path")
    _check_size(path.stat().st_size, repr(str(path)))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{str(path)!r} is not UTF-8 text; save it as UTF-8") from exc
    return import_text(ledger, text, ratings, label=path.name, dry_run=dry_run)


def preview(text: str, ratings: RatingMap | None = None) -> list[dict]:
    """What an import of `text` would read, one row per review with its verdict or its problem (nothing written)."""
    _check_size(len(text.encode("utf-8")), "the file")
    ratings = ratings or RatingMap()
    reviews = read_reviews(text)
    checked, errors = check_reviews(reviews, ratings)
    problems: dict[str, list[str]] = {}
    for error in errors:
        problems.setdefault(error.row, []).append(error.reason)
    by_row = {c.review.row: c for c in checked}
    out = []
    for review in reviews:
        item = by_row.get(review.row)
        out.append({"row": review.row, "claim": review.statement or "",
                    "rating": review.rating or ("" if review.rating_value is None else str(review.rating_value)),
                    "verdict": item.verdict if item else "", "problem": "; ".join(problems.get(review.row, [])),
                    "publisher": review.publisher or "", "review date": review.reviewed_at or "",
                    "claimant": review.claimant or "", "claim date": review.claim_date or "",
                    "url": review.url or ""})
    return out


# -- writing -------------------------------------------------------------------------------
def review_url(pattern: str, ref: str | None, claim_id: int) -> str:
    """The url of a claim's fact-check page from a pattern with `{ref}` and `{id}` (`{ref}` is the id when unset)."""
    try:
        return pattern.format(ref=quote(ref or str(claim_id), safe=""), id=claim_id)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ValidationError(f"the review url pattern {pattern!r} is not usable ({exc!r}); write it like "
                              "'https://factcheck.example.org/claims/{ref}' with {ref} or {id}") from exc


def to_claimreviews(ledger: Ledger, publisher: str | None, review_url_pattern: str | None,
                    publisher_url: str | None = None) -> list[dict]:
    """One schema.org ClaimReview per resolved claim, published by `publisher` at `review_url_pattern`."""
    if not publisher:
        raise ValidationError("a ClaimReview names its publisher; pass --publisher NAME (or set TRACKER_PUBLISHER)")
    if not review_url_pattern:
        raise ValidationError("a ClaimReview needs the url of its fact-check page; pass --review-url "
                              "'https://factcheck.example.org/claims/{ref}' (or set TRACKER_REVIEW_URL)")
    review_url(review_url_pattern, "ref", 1)  # a bad pattern is refused before anything is read
    kinds = {s["name"]: s["kind"] for s in ledger.list_sources()}
    author = {"@type": "Organization", "name": publisher}
    if publisher_url:
        author["url"] = publisher_url
    out = []
    for view in ledger.claim_views():
        outcome = view.outcome
        if outcome is None:
            continue
        value, name = VERDICT_RATING[outcome.verdict]
        rating: dict[str, Any] = {"@type": "Rating", "alternateName": name}
        if value is not None:
            rating.update(ratingValue=value, bestRating=5, worstRating=1)
        claim: dict[str, Any] = {"@type": "Claim", "datePublished": format_when(view.claim.first_reported_at)}
        asserting = [(r, source) for r, source, _ in view.live_reports if r.stance != "denied"]
        if asserting:
            source = asserting[0][1]
            claim["author"] = {"@type": "Person" if kinds.get(source) in PERSON_KINDS else "Organization",
                               "name": source}
        urls = [r.url for r, _, _ in view.live_reports if r.url]
        if urls:
            claim["firstAppearance"] = {"@type": "CreativeWork", "url": urls[0]}
            claim["appearance"] = [{"@type": "CreativeWork", "url": u} for u in dict.fromkeys(urls)]
        out.append({
            "@context": "https://schema.org", "@type": "ClaimReview",
            "url": review_url(review_url_pattern, view.claim.ref, view.claim.id),
            "claimReviewed": view.claim.statement,
            "datePublished": format_when(outcome.decided_at),
            "author": author,
            "reviewRating": rating,
            "itemReviewed": claim,
        })
    return out


def write_claimreview(ledger: Ledger, stream: IO[str], publisher: str | None, review_url_pattern: str | None,
                      publisher_url: str | None = None) -> int:
    """Write the resolved claims as a JSON-LD list of ClaimReviews; returns how many."""
    reviews = to_claimreviews(ledger, publisher, review_url_pattern, publisher_url)
    json.dump(reviews, stream, ensure_ascii=False, indent=2)
    stream.write("\n")
    return len(reviews)
