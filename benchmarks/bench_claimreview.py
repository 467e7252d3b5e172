"""ClaimReview import speed: Fact Check Tools results and schema.org JSON-LD, read and imported.

Generates N fact-checks (one claim each, claimants drawn from 500 names, one rating in the
mapping each), as a Fact Check Tools response and as a JSON-LD list, and times in this process:

- `read_reviews` of each (JSON parsing; for JSON-LD also pyld's flattening against schema.org);
- `to_incoming` (dates, ratings, grouping into claims);
- the whole `import_text` into an empty SQLite store, and again (nothing to add).

    python benchmarks/bench_claimreview.py                # 20,000 fact-checks
    python benchmarks/bench_claimreview.py --reviews 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.claimreview import import_text, read_reviews, to_incoming  # noqa: E402
from tracker.ledger import Ledger  # noqa: E402
from tracker.ratings import RatingMap  # noqa: E402

RATINGS = ["True", "False", "Mostly false", "Half true", "Engañoso", "Faux", "Unproven", "Falsch"]


def fact_check_tools(n: int) -> str:
    """N fact-checks as one Fact Check Tools claims:search response."""
    return json.dumps({"claims": [
        {"text": f"Claim number {i} about the convoy", "claimant": f"Claimant {i % 500}",
         "claimDate": f"2020-{1 + i % 12:02d}-{1 + i % 27:02d}T10:00:00Z",
         "claimReview": [{"publisher": {"name": f"Checker {i % 7}", "site": "check.example.org"},
                          "url": f"https://check.example.org/{i}", "title": f"Fact-check {i}",
                          "reviewDate": f"2020-{1 + i % 12:02d}-{2 + i % 27:02d}T10:00:00Z",
                          "textualRating": RATINGS[i % len(RATINGS)], "languageCode": "en"}]}
        for i in range(n)]})


def json_ld(n: int) -> str:
    """N fact-checks as a list of schema.org ClaimReview objects."""
    return json.dumps([
        {"@context": "https://schema.org", "@type": "ClaimReview", "url": f"https://check.example.org/{i}",
         "claimReviewed": f"Claim number {i} about the convoy",
         "datePublished": f"2020-{1 + i % 12:02d}-{2 + i % 27:02d}",
         "author": {"@type": "Organization", "name": f"Checker {i % 7}"},
         "reviewRating": {"@type": "Rating", "alternateName": RATINGS[i % len(RATINGS)]},
         "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": f"Claimant {i % 500}"},
                          "datePublished": f"2020-{1 + i % 12:02d}-{1 + i % 27:02d}"}}
        for i in range(n)])


def timed(what: str, n: int, call):
    """Run `call`, print its time and rate, return its result."""
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    print(f"  {what:<28} {seconds:7.2f} s  {n / seconds:10,.0f} fact-checks/s")
    return result


def main() -> None:
    """Time reading and importing both shapes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=20_000)
    n = parser.parse_args().reviews
    for name, make in (("Fact Check Tools", fact_check_tools), ("JSON-LD", json_ld)):
        text = make(n)
        print(f"{name}: {n:,} fact-checks, {len(text) / 2**20:.1f} MB")
        reviews = timed("read_reviews", n, lambda: read_reviews(text))
        timed("to_incoming", n, lambda: to_incoming(reviews, RatingMap()))
        with tempfile.TemporaryDirectory() as folder:
            ledger = Ledger.open(str(Path(folder) / "bench.db"), clock=lambda: datetime.now(UTC))
            timed("import_text (empty store)", n, lambda: import_text(ledger, text))
            timed("import_text (again)", n, lambda: import_text(ledger, text))
            ledger.engine.dispose()


if __name__ == "__main__":
    main()
