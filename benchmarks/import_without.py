"""`tracker import` with parts of its work left out, to measure what they cost (never for a real store).

    python benchmarks/import_without.py history,pairs --db NEW.db import FILE

`history`: the import writes no audit events (`importer._write_history` does nothing); `pairs`: the
ledger's transactions do not rebuild the kept (claim, source) stances (`pairs.refresh` does nothing,
so the store's kept pairs are left out of date; readers then compute them afresh). What is left is
the rest of the import as shipped. `bench_import.py --cli --leave-out ...` runs it beside its floor.
"""

from __future__ import annotations

import sys

PARTS = ("history", "pairs")


def main(argv: list[str]) -> int:
    """Leave out the parts named in argv[0] (comma-separated), then run the tracker CLI on the rest."""
    parts = [part for part in argv[0].split(",") if part]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"unknown part(s) {', '.join(unknown)}: use any of {', '.join(PARTS)}")
    if "history" in parts:
        from tracker import importer
        importer._write_history = lambda run, label: None
    if "pairs" in parts:
        from tracker import pairs
        pairs.refresh = lambda connection: None
    from tracker.cli import main as tracker_main
    return tracker_main.main(args=argv[1:], prog_name="tracker")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
