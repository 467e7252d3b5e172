"""STIX 2.1 out: the store as a bundle that OpenCTI and other threat-intelligence tools ingest.

Built with the OASIS `stix2` library. The exporting organisation is an `identity` that creates
every object. Each source is an `identity` (an individual for officials, commentators and
accounts, a group for unnamed groups, else an organisation) carrying its reliability computed
from history: `x_opencti_reliability` (OpenCTI's Admiralty wording, "B - Usually reliable"), the
MISP machine tag `admiralty-scale:source-reliability="b"` in its labels, and the numbers behind
it (`x_tracker_reliability`, `x_tracker_reliability_lower` / `_upper` with `_level`, resolved and
pending counts). Each claim is a `note` about the sources that carried it (`object_refs`), its
statement as content, each report's stance in `x_tracker_reports`, its information credibility as
a `admiralty-scale:information-credibility="N"` label and its `confidence` (0-100) from its
verdict in force (true 100, partly true 50, false 0) or, open or unverifiable, from `p_true`.
Each verdict, revisions included, is an `opinion` on the claim's note by its reviewer (true:
strongly agree, false: strongly disagree, partly true and unverifiable: neutral), its evidence an
external reference. Ids are uuid5 of what the object is (a source's name, a claim's ref or else its
statement, a verdict's claim, value and time), so exporting again updates the same objects in
OpenCTI rather than duplicating them.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import IO

import stix2

from tracker import forecast
from tracker.dates import format_when
from tracker.evidence import load_evidence
from tracker.ledger import Ledger, name_key
from tracker.scoring import GRADE_WORDS, VERDICT_VALUE, ScoringConfig, score_sources

NAMESPACE = uuid.UUID("8f3c2a4e-5b1d-5e0f-9a7c-3d2b1e0f4a6c")  # this tracker's, fixed forever
OPINION = {"true": "strongly-agree", "false": "strongly-disagree", "partly_true": "neutral",
           "unverifiable": "neutral"}
IDENTITY_CLASS = {"official": "individual", "commentator": "individual", "social_account": "individual",
                  "unnamed_group": "group"}


def stix_id(kind: str, *parts: str) -> str:
    """A deterministic STIX id: `kind--uuid5(parts)`."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join((kind, *parts)))}"


def claim_key(ref: str | None, statement: str) -> str:
    """What names a claim across stores: its ref, or else its statement."""
    return f"ref:{ref}" if ref else f"statement:{statement}"


def reliability_words(grade: str) -> str:
    """OpenCTI's reliability wording for an Admiralty letter ("B - Usually reliable")."""
    return f"{grade} - {GRADE_WORDS[grade][:1].upper()}{GRADE_WORDS[grade][1:]}"


def to_bundle(ledger: Ledger, organisation: str = "tracker", at: datetime | None = None,
              config: ScoringConfig = ScoringConfig()) -> stix2.Bundle:
    """The store as a STIX 2.1 bundle (see the module doc); `at` is the export's time (default now)."""
    at = at or datetime.now(UTC)
    evidence = load_evidence(ledger.engine)
    scores = score_sources(evidence, config=config).set_index("source")
    # open claims: p_true now; resolved ones: what the tracker said before the verdict (no hindsight)
    predicted = forecast.predict(evidence, claim_ids=evidence.claims.index).set_index("claim_id")
    views = ledger.claim_views()
    first_seen: dict[str, datetime] = {}
    for view in views:
        for report, source, _ in view.live_reports:
            first_seen[source] = min(first_seen.get(source, report.reported_at), report.reported_at)
    org_id = stix_id("identity", "organisation", name_key(organisation))
    created = min([*first_seen.values(), at])
    objects: list = [stix2.Identity(id=org_id, name=organisation, identity_class="organization", created=created,
                                    modified=at, description="the organisation that exported this bundle")]
    source_ids: dict[str, str] = {}
    for source in ledger.list_sources():
        name = source["name"]
        source_ids[name] = stix_id("identity", "source", name_key(name))
        if name not in scores.index:
            continue
        row = scores.loc[name]
        properties = {
            "x_opencti_reliability": reliability_words(row["grade"]),
            "x_tracker_reliability": round(float(row["reliability"]), 4),
            "x_tracker_reliability_lower": round(float(row["lower"]), 4),
            "x_tracker_reliability_upper": round(float(row["upper"]), 4),
            "x_tracker_reliability_level": config.level,
            "x_tracker_resolved": int(row["resolved"]), "x_tracker_pending": int(row["pending"]),
            "x_tracker_kind": source["kind"],
        }
        if source["aliases"]:
            properties["x_opencti_aliases"] = source["aliases"]
        objects.append(stix2.Identity(
            id=source_ids[name], name=name, identity_class=IDENTITY_CLASS.get(source["kind"], "organization"),
            description=source["notes"] or None, created=first_seen.get(name, created), modified=max(at, created),
            created_by_ref=org_id, labels=[f'admiralty-scale:source-reliability="{row["grade"].lower()}"'],
            custom_properties=properties, allow_custom=True))
    for view in views:
        claim = view.claim
        key = claim_key(claim.ref, claim.statement)
        note_id = stix_id("note", key)
        p_true = float(predicted.loc[claim.id, "p_true"]) if claim.id in predicted.index else None
        outcome = view.outcome
        value = VERDICT_VALUE.get(outcome.verdict) if outcome else None
        sure = value if value is not None and value == value else p_true  # NaN: unverifiable
        reports = view.live_reports
        times = [claim.first_reported_at, *(r.reported_at for r, _, _ in reports),
                 *(o.decided_at for o in view.outcomes)]
        refs = list(dict.fromkeys(source_ids[s] for _, s, _ in reports if s in source_ids)) or [org_id]
        labels = list(view.topics)
        if claim.id in predicted.index:
            labels.append(f'admiralty-scale:information-credibility="{int(predicted.loc[claim.id, "credibility"])}"')
        properties = {
            "x_tracker_claim_ref": claim.ref, "x_tracker_status": view.status.value,
            "x_tracker_verdict": outcome.verdict if outcome else None,
            "x_tracker_p_true": None if p_true is None else round(p_true, 4),
            "x_tracker_expected_by": format_when(claim.expected_by, claim.expected_by_date_only) or None,
            "x_tracker_reports": [
                {"source_ref": source_ids.get(s), "source": s, "stance": r.stance,
                 "reported_at": format_when(r.reported_at), "via_ref": source_ids.get(via) if via else None}
                for r, s, via in reports],
        }
        links = [{"source_name": s, "url": r.url} for r, s, _ in reports if r.url]
        objects.append(stix2.Note(
            id=note_id, abstract=claim.ref or claim.statement[:100], content=claim.statement, object_refs=refs,
            created=claim.first_reported_at, modified=max(times), created_by_ref=org_id,
            confidence=None if sure is None else round(sure * 100), labels=labels or None,
            external_references=links or None,
            custom_properties={k: v for k, v in properties.items() if v is not None}, allow_custom=True))
        for o in view.outcomes:
            explanation = "; ".join(x for x in (f"verdict: {o.verdict}", o.note) if x)
            objects.append(stix2.Opinion(
                id=stix_id("opinion", key, o.verdict, format_when(o.decided_at)), opinion=OPINION[o.verdict],
                object_refs=[note_id], explanation=explanation, authors=[o.reviewer] if o.reviewer else None,
                created=o.decided_at, modified=o.decided_at, created_by_ref=org_id,
                external_references=[{"source_name": "evidence", "url": o.evidence_url}] if o.evidence_url else None,
                custom_properties={"x_tracker_verdict": o.verdict, "x_tracker_in_force": o is outcome},
                allow_custom=True))
    return stix2.Bundle(objects=objects, id=stix_id("bundle", name_key(organisation), format_when(at)),
                        allow_custom=True)


def write_stix(ledger: Ledger, stream: IO[str], organisation: str = "tracker", at: datetime | None = None) -> int:
    """Write the store as a STIX 2.1 bundle; returns the number of claims (notes) in it."""
    bundle = to_bundle(ledger, organisation, at)
    stream.write(bundle.serialize(pretty=True, ensure_ascii=False))
    stream.write("\n")
    return sum(1 for o in bundle.objects if o.type == "note")


def bundle_dict(ledger: Ledger, organisation: str = "tracker", at: datetime | None = None) -> dict:
    """The bundle as plain JSON data (what validators and tests read)."""
    return json.loads(to_bundle(ledger, organisation, at).serialize())
