"""The `tracker` command line: a thin skin over the ledger and the interchange formats.

Every command parses its options, calls `tracker.ledger` or `tracker.interchange`, and prints.
Mistakes a user can make come back as one line on stderr and a non-zero exit, never a traceback.

Who acts: on a store without accounts (local mode) the command line acts as the local operator,
with every role. Once the store has accounts, changes need `--as NAME` (or TRACKER_USER); the
password comes from TRACKER_PASSWORD or a hidden prompt, and the account's role is checked by the
service layer exactly as on the dashboard. Reading (lists, scores, history, export) needs no
account: whoever can open the store's file or database can read it anyway.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker import formats, safe_text, store
from tracker.dates import DateError, format_when, parse_when
from tracker.errors import LedgerError, by_row
from tracker.vocabulary import ACTIONS, ClaimStatus, Role, SourceKind, Stance, Verdict

if TYPE_CHECKING:
    from tracker.ledger import ClaimView, Ledger
    from tracker.scoring import ScoringConfig

# SQLAlchemy and the ledger load when a command opens the store (`_ledger`); numpy, pandas, scipy,
# argon2 and the format readers inside the commands that use them (the `from tracker import ...`
# lines in each), so `tracker --help` loads only click and the vocabulary and the lists start fast

FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                      show_default=True, help="table for people, json for programs")


class TrackerGroup(click.Group):
    """A click group that turns the tracker's own errors into clean messages."""

    def invoke(self, ctx: click.Context):
        """Run the command; a LedgerError or a store that cannot be opened becomes a ClickException."""
        try:
            return super().invoke(ctx)
        except (LedgerError, DateError) as exc:
            raise click.ClickException(safe_text.terminal(exc)) from exc
        except Exception as exc:
            if not _store_unusable(exc):
                raise
            url = ctx.obj.get("url") if ctx.obj else None
            raise click.ClickException(store.mask_secrets(
                f"cannot use the store at {store.display_url(url)}: {getattr(exc, 'orig', exc)}. "
                "Check --db / TRACKER_DATABASE_URL", url)) from exc


def _store_unusable(exc: Exception) -> bool:
    """True for SQLAlchemy's errors of a store that cannot be opened (SQLAlchemy is loaded by then if it raised)."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, (errors.OperationalError, errors.ArgumentError))


def _say(text: str = "", **kwargs) -> None:
    """click.echo for text people read: control characters in it (ANSI escapes) are shown, not run."""
    click.echo(safe_text.terminal(text), **kwargs)


PASSWORD_ENV = "TRACKER_PASSWORD"


def _ledger(ctx: click.Context, *, read: bool = False) -> Ledger:
    """The ledger for this command, acting as `--as NAME` (password checked) or the local operator.

    A command that only reads (`read=True`) refuses a SQLite path with no store rather than create one.
    """
    from tracker.ledger import Ledger

    root = ctx.find_root()
    if "ledger" not in root.obj:
        ledger = Ledger.open(root.obj["url"], create=not read)
        name = root.obj.get("as")
        if name:
            ledger = ledger.acting_as(ledger.authenticate(name, _password_for(name)))
        root.obj["ledger"] = ledger
    return root.obj["ledger"]


def _password_for(name: str) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise click.ClickException(f"--as {name}: no password; set {PASSWORD_ENV} or run the command in a terminal")
    return click.prompt(f"password for {name}", hide_input=True)


def _new_password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("--password-stdin: standard input is empty; pipe the password in")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise click.ClickException("no password: use --password-stdin, or run the command in a terminal")
    return click.prompt(f"new password for {name}", hide_input=True, confirmation_prompt=True)


@click.group(cls=TrackerGroup)
@click.option("--db", "url", envvar=store.URL_ENV, metavar="URL",
              help=f"store URL or SQLite path [default: {store.DEFAULT_URL}; env {store.URL_ENV}]")
@click.option("--as", "as_user", envvar="TRACKER_USER", metavar="NAME",
              help=f"act as this account (password from {PASSWORD_ENV} or a prompt); "
                   "needed for changes once the store has accounts [env TRACKER_USER]")
@click.version_option(package_name="tracker")
@click.pass_context
def main(ctx: click.Context, url: str | None, as_user: str | None) -> None:
    """Track claims, the sources that carry them, and how each source's claims held up."""
    ctx.ensure_object(dict)
    ctx.obj["url"] = store.database_url(url)
    ctx.obj["as"] = as_user


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the store, or bring it to the current schema keeping its data."""
    engine = store.make_engine(ctx.obj["url"])
    before = store.current_revision(engine)
    store.upgrade(engine)
    after = store.current_revision(engine)
    state = "already current" if before == after else f"upgraded from {before or 'empty'}"
    click.echo(f"store {store.display_url(ctx.obj['url'])} at schema {after} ({state})")


@main.command()
@click.option("--example", type=click.Choice(["aleppo", "pheme"]), default="aleppo", show_default=True,
              help="pheme: 1,450 rumour tweets with their outcomes (CC-BY, data/pheme/), into db/pheme.db "
                   "unless --db names a store")
@click.pass_context
def demo(ctx: click.Context, example: str) -> None:
    """Load the Aleppo 2016 example, or the larger PHEME one (safe to run again: nothing is added twice)."""
    if example == "pheme":
        from tracker import pheme

        root = ctx.find_root()
        if root.obj["url"] == store.DEFAULT_URL:  # its own store: the Aleppo story stays the default
            root.obj["url"] = pheme.EXAMPLE_URL
        summary = pheme.load_example(_ledger(ctx))
        click.echo(f"PHEME example into {root.obj['url']}: {summary}\n"
                   f"open it: TRACKER_DATABASE_URL={root.obj['url']} streamlit run dashboard.py")
        return
    from tracker import interchange

    summary = interchange.load_example(_ledger(ctx))
    click.echo(f"Aleppo example: {summary}")


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(formats.IMPORTS),
              help="default: from the file's extension (.html and .jsonld are claimreview; a .json file holding "
                   "ClaimReview or Fact Check Tools results is recognised)")
@click.option("--rating", "ratings", multiple=True, metavar="TEXT=VERDICT",
              help="claimreview: map a rating text to a verdict, before the built-in mapping (repeatable)")
@click.option("--ratings", "ratings_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help='claimreview: a JSON file {"rating text": "verdict", ...} read like --rating')
@click.option("--unknown-ratings", type=click.Choice(["refuse", "unverifiable"]), default="refuse", show_default=True,
              help="claimreview: what a rating outside the mapping (and without a numeric scale) becomes")
@click.option("--dry-run", is_flag=True, help="say what would be created, updated, left unchanged and refused; "
                                              "write nothing")
@click.pass_context
def import_(ctx: click.Context, file: Path, fmt: str | None, ratings: tuple[str, ...], ratings_file: Path | None,
            unknown_ratings: str, dry_run: bool) -> None:
    """Import claims, reports and outcomes from a CSV, JSON or ClaimReview file, all or nothing.

    Rows naming a report_ref or claim_ref the store holds update that report or claim in place.
    """
    from tracker import claimreview, interchange
    from tracker.ratings import RatingMap

    if claimreview.looks_like(file, fmt):
        mapping = RatingMap(_rating_overrides(ratings, ratings_file),
                            unknown=None if unknown_ratings == "refuse" else unknown_ratings)
        result = claimreview.import_file(_ledger(ctx), file, mapping, dry_run=dry_run)
        summary = result.summary
        text = str(result)
    else:
        if ratings or ratings_file or unknown_ratings != "refuse":
            raise click.UsageError("--rating, --ratings and --unknown-ratings are for fact-checks; "
                                   "add --format claimreview if FILE is one")
        summary = interchange.import_file(_ledger(ctx), file, fmt, dry_run=dry_run)
        text = str(summary)
    if not dry_run:
        click.echo(f"imported {file}: {text}")
        return
    click.echo(f"{file}: {text}")
    if summary.refused:
        _say(f"refused:\n{by_row(summary.refused)}")
    if summary.refused:
        raise click.exceptions.Exit(1)


def _rating_overrides(pairs: tuple[str, ...], path: Path | None) -> dict[str, str]:
    from tracker.ratings import parse_overrides

    overrides = {}
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"--ratings {path}: not a JSON file ({exc})") from exc
        if not isinstance(data, dict):
            raise click.ClickException(f'--ratings {path}: expected an object {{"rating text": "verdict", ...}}')
        overrides.update(parse_overrides(f"{text}={verdict}" for text, verdict in data.items()))
    overrides.update(parse_overrides(pairs))
    return overrides


EXPORT_FORMATS = formats.EXPORTS


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS),
              help="default: from the file's extension (csv or json)")
@click.option("--publisher", envvar="TRACKER_PUBLISHER", metavar="NAME",
              help="claimreview and stix: the organisation publishing the file [env TRACKER_PUBLISHER]")
@click.option("--publisher-url", envvar="TRACKER_PUBLISHER_URL", metavar="URL",
              help="claimreview: the publishing organisation's site [env TRACKER_PUBLISHER_URL]")
@click.option("--review-url", envvar="TRACKER_REVIEW_URL", metavar="PATTERN",
              help="claimreview: the url of each claim's fact-check page, with {ref} or {id} "
                   "[env TRACKER_REVIEW_URL]")
@click.pass_context
def export(ctx: click.Context, file: str, fmt: str | None, publisher: str | None, publisher_url: str | None,
           review_url: str | None) -> None:
    """Write everything out as CSV (one row per report), JSON (everything), ClaimReview or STIX; '-' is stdout."""
    try:
        _export(_ledger(ctx, read=True), file, fmt, publisher, publisher_url, review_url)
    except OSError as exc:
        raise click.ClickException(f"cannot write {file}: {exc.strerror or exc}; check that its folder exists and "
                                   "that you may write there") from exc


def _export(ledger: Ledger, file: str, fmt: str | None, publisher: str | None, publisher_url: str | None,
            review_url: str | None) -> None:
    from tracker import claimreview, interchange, stix_export

    if fmt in ("claimreview", "stix"):
        stream = io.StringIO()  # written whole first: a refused export leaves no half-written file
        if fmt == "claimreview":
            count = claimreview.write_claimreview(ledger, stream, publisher, review_url, publisher_url)
        else:
            count = stix_export.write_stix(ledger, stream, publisher or "tracker")
        if file == "-":
            sys.stdout.write(stream.getvalue())
            return
        Path(file).write_text(stream.getvalue(), encoding="utf-8")
        click.echo(f"exported {count} {'resolved claims' if fmt == 'claimreview' else 'claims'} to {file}", err=True)
        return
    if file == "-":
        fmt = fmt or "json"
        write = interchange.write_csv if fmt == "csv" else interchange.write_json
        write(ledger, sys.stdout)
        return
    count = interchange.export_file(ledger, file, fmt)
    what = "rows" if interchange.guess_format(file, fmt) == "csv" else "claims"
    click.echo(f"exported {count} {what} to {file}", err=True)


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup_(ctx: click.Context, file: Path) -> None:
    """Copy the store to FILE, consistently, even while the dashboard is using it (SQLite)."""
    store.require_existing(ctx.obj["url"])
    store.backup(store.make_engine(ctx.obj["url"]), file)
    click.echo(f"backed up {store.display_url(ctx.obj['url'])} to {file}")


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask before replacing the store's contents")
@click.pass_context
def restore_(ctx: click.Context, file: Path, yes: bool) -> None:
    """Replace the store's contents with a checked backup FILE, keeping a copy of the store it replaces.

    FILE must pass SQLite's integrity check, be a tracker store and come from this release or an
    older one (it is upgraded); otherwise nothing changes.
    """
    from tracker import accounts

    if _ledger(ctx).has_accounts():
        # replacing the store replaces its history too: only an admin may
        if _ledger(ctx).actor.is_local:
            raise click.ClickException("this store has accounts: restoring it needs an admin; give `--as NAME`")
        accounts.require(_ledger(ctx).actor, "account.manage")
    _ledger(ctx).engine.dispose()  # no pooled connection of ours may hold the old pages
    if not yes:
        click.confirm(f"Replace everything in {store.display_url(ctx.obj['url'])} with {file}?", abort=True)
    restored = store.restore(store.make_engine(ctx.obj["url"]), file)
    click.echo(f"restored {file} into {store.display_url(ctx.obj['url'])} (schema {restored.revision})")
    if restored.safety_copy is not None:
        click.echo(f"the store it replaced is kept in {restored.safety_copy}")


# -- sources ---------------------------------------------------------------------------------
@main.group(invoke_without_command=True)
@FORMAT
@click.pass_context
def sources(ctx: click.Context, fmt: str) -> None:
    """List sources (or add, rename, merge them: see the subcommands)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _ledger(ctx, read=True).list_sources()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    click.echo(render_table(
        [[r["id"], r["name"], r["kind"], r["parent"] or "", r["claims"], r["reports"],
          _shorten(", ".join(r["aliases"]), 40)] for r in rows],
        ["id", "source", "kind", "parent", "claims", "reports", "aliases"],
    ))


@sources.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in SourceKind]), default=SourceKind.other.value)
@click.option("--affiliation")
@click.option("--url")
@click.option("--notes")
@click.option("--alias", "aliases", multiple=True, help="another name (repeat for more)")
@click.option("--parent", help="the source this one belongs to")
@click.pass_context
def sources_add(ctx: click.Context, name: str, **details) -> None:
    """Add a source."""
    source = _ledger(ctx).add_source(name, **details)
    click.echo(f"added source #{source.id} {source.name}")


@sources.command("rename")
@click.argument("old")
@click.argument("new")
@click.pass_context
def sources_rename(ctx: click.Context, old: str, new: str) -> None:
    """Rename a source; the old name stays as an alias."""
    source = _ledger(ctx).rename_source(old, new)
    click.echo(f"renamed {old!r} to {source.name!r}")


@sources.command("merge")
@click.argument("duplicate")
@click.argument("into")
@click.pass_context
def sources_merge(ctx: click.Context, duplicate: str, into: str) -> None:
    """Merge the source DUPLICATE into INTO (its reports and aliases move; its name becomes an alias)."""
    source = _ledger(ctx).merge_sources(duplicate, into)
    click.echo(f"merged {duplicate!r} into {source.name!r}")


# -- claims ----------------------------------------------------------------------------------
@main.group(invoke_without_command=True)
@FORMAT
@click.option("--status", type=click.Choice([s.value for s in ClaimStatus] + ["open", "resolved"]),
              help="reported status, or open / resolved (by outcome)")
@click.option("--topic", help="only claims with this topic")
@click.option("--source", "source_name", help="only claims this source reported")
@click.pass_context
def claims(ctx: click.Context, fmt: str, status: str | None, topic: str | None, source_name: str | None) -> None:
    """List claims with their reported status and outcome (or log, report, show: see the subcommands)."""
    if ctx.invoked_subcommand is not None:
        return
    from tracker import queries

    ledger = _ledger(ctx, read=True)
    # the same filters as the dashboard's Claims page (tracker.queries), every match at once, by id
    filters = {"status": None if status in (None, "open", "resolved") else status,
               "outcome": status if status in ("open", "resolved") else None, "topic": topic, "source": source_name}
    if fmt == "json":
        views = ledger.claim_views(queries.claim_ids(ledger, **filters, order="oldest"))
        click.echo(json.dumps([claim_json(v) for v in views], indent=2, ensure_ascii=False))
        return
    width = max(30, shutil.get_terminal_size((120, 20)).columns - 75)
    click.echo(render_table(
        [[claim_id, ref or "", _shorten(statement, width), claim_status, verdict or "open", reports,
          format_when(first, date_only)[:10]]
         for claim_id, ref, statement, claim_status, verdict, reports, first, date_only in queries.claim_list(
             ledger, **filters)],
        ["id", "ref", "claim", "status", "outcome", "reports", "first"],
    ))


def claim_json(view: ClaimView) -> dict:
    """A claim as the JSON the `claims` commands print."""
    return {
        "id": view.claim.id, "claim_ref": view.claim.ref, "statement": view.claim.statement,
        "topics": view.topics, "status": view.status.value,
        "outcome": view.outcome.verdict if view.outcome else None,
        "first_reported_at": format_when(view.claim.first_reported_at, view.claim.first_reported_date_only),
        "expected_by": format_when(view.claim.expected_by, view.claim.expected_by_date_only) or None,
        "version": view.claim.version,
        "retracted": None if not view.retracted else {
            "at": format_when(view.claim.retracted_at), "by": view.claim.retracted_by,
            "reason": view.claim.retraction_reason},
        "reports": [{"id": r.id, "source": s, "stance": r.stance,
                     "reported_at": format_when(r.reported_at, r.reported_date_only), "via": v,
                     **({"retracted": r.retraction_reason} if r.retracted_at else {})}
                    for r, s, v in view.reports],
        "timeline": [{"at": _timeline_when(view, at), "status": st.value} for at, st in view.timeline],
        "outcomes": [{"verdict": o.verdict, "decided_at": format_when(o.decided_at, o.decided_date_only),
                      "evidence": o.evidence_url,
                      "note": o.note, "reviewer": o.reviewer} for o in view.outcomes],
    }


def _timeline_when(view: ClaimView, at) -> str:
    """A status change's time, shown as a date when the report that made it gave only a date."""
    return format_when(at, view.date_only_at(at))


@claims.command("show")
@click.argument("claim_id", type=int)
@FORMAT
@click.pass_context
def claims_show(ctx: click.Context, claim_id: int, fmt: str) -> None:
    """Show one claim: its reports, status timeline and outcome history."""
    view = _ledger(ctx, read=True).get_claim(claim_id)
    if fmt == "json":
        click.echo(json.dumps(claim_json(view), indent=2, ensure_ascii=False))
        return
    c = view.claim
    _say(f"#{c.id}{f' ({c.ref})' if c.ref else ''}: {c.statement}")
    if view.retracted:
        _say(f"RETRACTED {format_when(c.retracted_at)} by {c.retracted_by}: {c.retraction_reason}")
    first = format_when(c.first_reported_at, c.first_reported_date_only)
    _say(f"topics: {', '.join(view.topics) or '-'}   first reported: {first}"
         f"   expected by: {format_when(c.expected_by, c.expected_by_date_only) or '-'}   version: {c.version}")
    _say("\nreports:")
    _say(render_table(
        [[r.id, format_when(r.reported_at, r.reported_date_only), s, r.stance, v or "",
          f"retracted: {_shorten(r.retraction_reason or '', 40)}" if r.retracted_at else ""]
         for r, s, v in view.reports],
        ["id", "reported at", "source", "stance", "via", ""]))
    _say("\nstatus timeline: " + " -> ".join(f"{st.value} ({_timeline_when(view, at)})" for at, st in view.timeline))
    _say("\noutcomes:" + ("" if view.outcomes else " none yet (open)"))
    for o in view.outcomes:
        current = "  <- in force" if o is view.outcome else ""
        _say(f"  {o.verdict} as of {format_when(o.decided_at, o.decided_date_only)}{f' by {o.reviewer}' if o.reviewer else ''}"
             f"{f': {o.note}' if o.note else ''}{current}")


@claims.command("log")
@click.argument("statement")
@click.option("--source", required=True, help="who made or carried the claim")
@click.option("--stance", type=click.Choice([s.value for s in Stance]), required=True)
@click.option("--at", "reported_at", required=True, help="when the source said it, e.g. '13 December 2016 18:00'")
@click.option("--via", help="the source it relays")
@click.option("--url")
@click.option("--topic", help="';'-separated topics")
@click.option("--expected-by", help="when it should be settled by")
@click.option("--ref", help="your own reference for the claim")
@click.pass_context
def claims_log(ctx: click.Context, statement: str, source: str, stance: str, reported_at: str, via: str | None,
               url: str | None, topic: str | None, expected_by: str | None, ref: str | None) -> None:
    """Log a new claim with its first report."""
    claim = _ledger(ctx).log_claim(
        statement, ref=ref, topics=topic, expected_by=expected_by,
        reports=[{"source": source, "stance": stance, "reported_at": reported_at, "via": via, "url": url}],
    )
    click.echo(f"logged claim #{claim.id}")


@claims.command("report")
@click.argument("claim_id", type=int)
@click.option("--source", required=True)
@click.option("--stance", type=click.Choice([s.value for s in Stance]), required=True)
@click.option("--at", "reported_at", required=True, help="when the source said it")
@click.option("--via", help="the source it relays")
@click.option("--url")
@click.pass_context
def claims_report(ctx: click.Context, claim_id: int, source: str, stance: str, reported_at: str,
                  via: str | None, url: str | None) -> None:
    """Add a source's stance to an existing claim."""
    report = _ledger(ctx).add_report(claim_id, source, stance, reported_at, via=via, url=url)
    click.echo(f"added report #{report.id} to claim #{claim_id}")


@claims.command("outcome")
@click.argument("claim_id", type=int)
@click.argument("verdict", type=click.Choice([v.value for v in Verdict]))
@click.option("--at", "decided_at", required=True, help="when the outcome became known")
@click.option("--evidence", help="a URL that settles it")
@click.option("--note")
@click.option("--reviewer")
@click.option("--version", "version", type=int, metavar="N",
              help="refuse if the claim is no longer at version N (shown by `claims show`)")
@click.pass_context
def claims_outcome(ctx: click.Context, claim_id: int, verdict: str, decided_at: str, evidence: str | None,
                   note: str | None, reviewer: str | None, version: int | None) -> None:
    """Record (or revise) what actually happened (reviewers); earlier verdicts stay in the history."""
    _ledger(ctx).record_outcome(claim_id, verdict, decided_at, evidence_url=evidence, note=note, reviewer=reviewer,
                                version=version)
    click.echo(f"claim #{claim_id} is now {verdict}")


VERSION = click.option("--version", "version", type=int, metavar="N",
                       help="refuse if the claim is no longer at version N (shown by `claims show`)")


@claims.command("edit")
@click.argument("claim_id", type=int)
@click.option("--statement")
@click.option("--expected-by")
@click.option("--no-expected-by", is_flag=True, help="clear the expected-by date")
@click.option("--topic", "topics", help="';'-separated topics: replaces the claim's topics")
@click.option("--reason", help="why (kept in the history)")
@VERSION
@click.pass_context
def claims_edit(ctx: click.Context, claim_id: int, statement: str | None, expected_by: str | None,
                no_expected_by: bool, topics: str | None, reason: str | None, version: int | None) -> None:
    """Change a claim's statement, expected-by date or topics (reviewers)."""
    claim = _ledger(ctx).edit_claim(claim_id, version=version, statement=statement, expected_by=expected_by,
                                    clear_expected_by=no_expected_by, topics=topics, reason=reason)
    click.echo(f"edited claim #{claim.id} (now version {claim.version})")


@claims.command("merge")
@click.argument("keep")
@click.argument("duplicate")
@click.option("--version", "version", type=int, metavar="N",
              help="refuse if DUPLICATE is no longer at version N (shown by `claims show`)")
@click.pass_context
def claims_merge(ctx: click.Context, keep: str, duplicate: str, version: int | None) -> None:
    """Merge the claim DUPLICATE into KEEP (ids or claim_refs; reviewers): its reports and topics move over."""
    claim = _ledger(ctx).merge_claims(keep, duplicate, version=version)
    click.echo(f"merged claim {duplicate} into claim #{claim.id} ({claim.ref}); {duplicate} stays in the history "
               "and its ref now finds this claim")


@claims.command("retract")
@click.argument("claim_id", type=int)
@click.option("--reason", required=True, help="why the claim is withdrawn (kept in the history)")
@VERSION
@click.pass_context
def claims_retract(ctx: click.Context, claim_id: int, reason: str, version: int | None) -> None:
    """Retract a claim (reviewers): it leaves lists and scores and stays in the history."""
    _ledger(ctx).retract_claim(claim_id, reason, version=version)
    click.echo(f"retracted claim #{claim_id}")


@claims.command("retract-report")
@click.argument("report_id", type=int)
@click.option("--reason", required=True, help="why the report is withdrawn (kept in the history)")
@VERSION
@click.pass_context
def claims_retract_report(ctx: click.Context, report_id: int, reason: str, version: int | None) -> None:
    """Retract one report (its id is in `claims show`) (reviewers)."""
    report = _ledger(ctx).retract_report(report_id, reason, version=version)
    click.echo(f"retracted report #{report.id} on claim #{report.claim_id}")


# -- accounts and history --------------------------------------------------------------------
@main.group(invoke_without_command=True)
@FORMAT
@click.pass_context
def user(ctx: click.Context, fmt: str) -> None:
    """List accounts (or add, change role, reset password, disable: see the subcommands).

    The first account (`tracker user add NAME --role admin`) ends local mode: from then on every
    change needs a named user (`--as NAME` here, a sign-in on the dashboard).
    """
    if ctx.invoked_subcommand is not None:
        return
    rows = _ledger(ctx, read=True).list_accounts()
    if fmt == "json":
        click.echo(json.dumps([{**r, "created_at": format_when(r["created_at"])} for r in rows], indent=2))
        return
    if not rows:
        click.echo("no accounts: local mode (anyone who can open the store has every role); "
                   "`tracker user add NAME --role admin` ends it")
        return
    click.echo(render_table([[r["name"], r["role"], format_when(r["created_at"])[:10],
                              "disabled" if r["disabled"] else "locked" if r["locked"] else ""] for r in rows],
                            ["name", "role", "created", "state"]))


ROLE = click.Choice([r.value for r in Role])
PASSWORD_STDIN = click.option("--password-stdin", is_flag=True,
                              help="read the new password from the first line of standard input")


@user.command("add")
@click.argument("name")
@click.option("--role", type=ROLE, required=True, help="analyst, reviewer or admin (the first must be admin)")
@PASSWORD_STDIN
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add an account (admins; the first account, an admin, needs no --as and ends local mode)."""
    ledger = _ledger(ctx)
    first = not ledger.has_accounts()
    account = ledger.add_account(name, role, _new_password(name, password_stdin))
    click.echo(f"added {account.role} {account.name}")
    if first:
        click.echo("the store now requires sign-in: changes need --as NAME here and a sign-in on the dashboard")


@user.command("role")
@click.argument("name")
@click.argument("role", type=ROLE)
@click.pass_context
def user_role(ctx: click.Context, name: str, role: str) -> None:
    """Change an account's role (admins)."""
    account = _ledger(ctx).set_role(name, role)
    click.echo(f"{account.name} is now {account.role}")


@user.command("password")
@click.argument("name")
@PASSWORD_STDIN
@click.pass_context
def user_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set an account's password (admins, or yourself with --as and your current password); ends its sessions."""
    ledger = _ledger(ctx)
    current = os.environ.get(PASSWORD_ENV) if ledger.actor.name.casefold() == name.casefold() else None
    ledger.set_password(name, _new_password(name, password_stdin), current_password=current)
    click.echo(f"password of {name} changed; its dashboard sessions have ended")


@user.command("disable")
@click.argument("name")
@click.pass_context
def user_disable(ctx: click.Context, name: str) -> None:
    """Disable an account: it can no longer sign in, its sessions end, its history stays (admins)."""
    _ledger(ctx).set_disabled(name, True)
    click.echo(f"disabled {name}")


@user.command("enable")
@click.argument("name")
@click.pass_context
def user_enable(ctx: click.Context, name: str) -> None:
    """Enable a disabled account again (admins)."""
    _ledger(ctx).set_disabled(name, False)
    click.echo(f"enabled {name}")


@main.command()
@click.option("--user", "user_name", help="only changes made by this user")
@click.option("--claim", "claim_id", type=int, help="only changes to this claim (its reports and outcomes too)")
@click.option("--source", "source_name", help="only changes to this source (name or alias)")
@click.option("--action", type=click.Choice(sorted({a.split(".")[0] for a in ACTIONS} | set(ACTIONS))),
              help="only this kind of change (e.g. outcome, claim.edit)")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@FORMAT
@click.pass_context
def history(ctx: click.Context, user_name: str | None, claim_id: int | None, source_name: str | None,
            action: str | None, limit: int, fmt: str) -> None:
    """Show the audit trail, newest first: who changed what, when, before and after."""
    from tracker import queries
    from tracker.ledger import describe_change

    ledger = _ledger(ctx, read=True)
    source_id = None
    if source_name:
        found = queries.find_source(ledger, source_name)
        if found is None:
            raise click.ClickException(f"no source is called {source_name!r}; `tracker sources` lists them")
        source_id = found["id"]
    changes = ledger.history(user=user_name, claim_id=claim_id, source_id=source_id, action=action, limit=limit)
    if fmt == "json":
        click.echo(json.dumps([{"id": c.id, "at": format_when(c.at), "actor": c.actor, "action": c.action,
                                "entity": c.entity, "entity_id": c.entity_id, "claim_id": c.claim_id,
                                "source_id": c.source_id, "before": c.before, "after": c.after, "reason": c.reason}
                               for c in changes], indent=2, ensure_ascii=False))
        return
    if not changes:
        click.echo("no changes match")
        return
    for change in changes:
        _say(f"#{change.id} {describe_change(change)}")


# -- scoring ---------------------------------------------------------------------------------
REPORT_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                             show_default=True, help="table for people, csv or json for programs")
AS_OF = click.option("--as-of", "as_of", metavar="DATE",
                     help="as things stood on this date: only outcomes known by then count")


def _evidence(ctx: click.Context, topic: str | None):
    from tracker.evidence import load_evidence

    evidence = load_evidence(_ledger(ctx, read=True).engine)
    return evidence.for_topic(topic) if topic else evidence


def _evidence_and_model(ctx: click.Context, topic: str | None, as_of: str | None, claim_texts: bool | str = True,
                        keep_reports: bool = True):
    """The evidence and, for the whole store now, the forecasting model (its parameters kept
    beside a SQLite store for its revision: `tracker.fitcache`; the evidence's reports and topics
    let go in the fit unless `keep_reports`); None fits on demand."""
    if topic or as_of:
        return _evidence(ctx, topic), None
    from tracker import fitcache

    return fitcache.load_and_fit(_ledger(ctx, read=True), claim_texts=claim_texts, keep_reports=keep_reports)


def _when_option(value: str | None):
    return parse_when(value) if value else None


def _config(**overrides) -> ScoringConfig:
    from tracker.scoring import ScoringConfig

    try:
        return ScoringConfig(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _emit(frame, fmt: str, table_columns: dict[str, str]) -> None:
    """Print a frame as a table (selected, renamed columns), CSV or JSON records (NaN as null)."""
    if fmt == "json":
        click.echo(frame.to_json(orient="records", date_format="iso", indent=2, force_ascii=False))
    elif fmt == "csv":
        click.echo(safe_text.guarded_csv(frame), nl=False)
    else:
        shown = frame[list(table_columns)].rename(columns=table_columns)
        rows = [[_fmt_cell(v) for v in row] for row in shown.itertuples(index=False)]
        click.echo(render_table(rows, list(shown.columns)))


def _sentences_by_claim(frame) -> dict[int, list[str]]:
    """Each claim's explanations, in the frame's order, by claim id (a stable sort and one split: pandas'
    `groupby(...).agg(list)` builds each list in Python, 2 s for a million reports' open claims)."""
    import numpy as np

    ids = frame["claim_id"].to_numpy()
    order = np.argsort(ids, kind="stable")
    ids, texts = ids[order], frame["explanation"].to_numpy(dtype=object)[order].tolist()
    bounds = (np.r_[0, np.flatnonzero(np.diff(ids)) + 1, len(ids)]).tolist()  # (one list, sliced per claim)
    return dict(zip(ids[bounds[:-1]].tolist(), (texts[a:b] for a, b in zip(bounds[:-1], bounds[1:])))) \
        if len(ids) else {}


JSON_BLOCK = 5_000  # rows of a JSON array built and written at a time (and, for the whole store, explained)


def _emit_json_records(frame, amend) -> None:
    """Print a frame's rows as the JSON array `json.dumps(records, indent=2)` makes (NaN as null), each
    block of rows passed to `amend` first (to add keys), one block at a time: at ten million reports
    the whole array and its text would not fit in memory beside the forecasts."""
    if frame.empty:
        click.echo("[]")
        return
    for start in range(0, len(frame), JSON_BLOCK):
        records = json.loads(frame.iloc[start:start + JSON_BLOCK].to_json(orient="records", date_format="iso",
                                                                          force_ascii=False))
        amend(records)
        text = _indented_json(records)  # "[\n  {...},\n  {...}\n]"
        ends = start + JSON_BLOCK >= len(frame)
        click.echo(("[\n" if start == 0 else "") + text[2:-2] + ("\n]" if ends else ","), nl=True)


def _indented_json(value, depth: int = 0) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)` of plain JSON data (what `json.loads`
    gives), the same text: texts by the json module's own C encoder, numbers as it writes them,
    the layout by joins. The json module writes an indented document in pure Python, several times
    slower (at ten million reports, 600,000 records and their sentences)."""
    if isinstance(value, str):
        return _JSON_TEXT(value)
    if value is None or value is True or value is False:
        return _JSON_CONSTANTS[value]
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value) if value == value and abs(value) != math.inf else json.dumps(value)
    if isinstance(value, dict | list):
        if not value:
            return "{}" if isinstance(value, dict) else "[]"
        inner, outer = "\n" + "  " * (depth + 1), "\n" + "  " * depth
        if isinstance(value, list):
            return "[" + inner + ("," + inner).join(_indented_json(item, depth + 1) for item in value) + outer + "]"
        if not all(isinstance(key, str) for key in value):
            raise TypeError("not plain JSON data: a key that is not text")
        items = (_JSON_TEXT(key) + ": " + _indented_json(item, depth + 1) for key, item in value.items())
        return "{" + inner + ("," + inner).join(items) + outer + "}"
    raise TypeError(f"not plain JSON data: {type(value).__name__}")


_JSON_TEXT = json.encoder.encode_basestring  # (the C one where the module has it), as `ensure_ascii=False` uses
_JSON_CONSTANTS = {None: "null", True: "true", False: "false"}


def _fmt_cell(value):
    if isinstance(value, float):
        return "" if value != value else f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return format_when(value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)
    return value


@main.command()
@AS_OF
@click.option("--topic", help="score only claims with this topic")
@click.option("--by-kind", is_flag=True, help="pool the record by source kind instead")
@click.option("--half-life", "half_life_days", type=float, metavar="DAYS", help="weigh recent outcomes more")
@click.option("--level", type=float, help="credible interval level [default: 0.9]")
@REPORT_FORMAT
@click.pass_context
def scores(ctx: click.Context, as_of: str | None, topic: str | None, by_kind: bool, half_life_days: float | None,
           level: float | None, fmt: str) -> None:
    """Each source's reliability with its credible interval and grade, best-established first."""
    from tracker.scoring import score_by_kind, score_sources_in_store

    config = _config(half_life_days=half_life_days, level=level)
    # aggregated on the database: memory grows with the sources, not the reports
    table = score_sources_in_store(_ledger(ctx, read=True).engine, _when_option(as_of), config, topic)
    if by_kind:
        _emit(score_by_kind(table), fmt, {"kind": "kind", "sources": "sources", "resolved": "resolved",
                                          "pending": "pending", "credit_share": "credit share",
                                          "mean_reliability": "mean reliability"})
        return
    interval = f"{config.level:.0%}"
    _emit(table, fmt, {"source": "source", "grade": "grade", "reliability": "reliability",
                       "lower": f"{interval} low", "upper": f"{interval} high", "resolved": "resolved",
                       "pending": "pending", "asserted_accuracy": "when asserting",
                       "denied_accuracy": "when denying", "median_lead_days": "lead (days)"})


@main.command()
@AS_OF
@click.option("--at-report-time", is_flag=True,
              help="every claim as it stood when first reported (only outcomes known before then)")
@click.option("--topic", help="only claims with this topic")
@click.option("--claim", "claim_ids", type=int, multiple=True, metavar="ID",
              help="these claims (repeatable), resolved ones as the tracker saw them before the verdict")
@click.option("--explain", is_flag=True, help="say in words what drives each p_true (table format)")
@REPORT_FORMAT
@click.pass_context
def predict(ctx: click.Context, as_of: str | None, at_report_time: bool, topic: str | None,
            claim_ids: tuple[int, ...], explain: bool, fmt: str) -> None:
    """How likely each open claim is to be true, given who carried it (see `calibration` for how
    well these forecasts have held up, and the parameters fitted from the record)."""
    from tracker import forecast

    if at_report_time and (as_of or claim_ids):
        raise click.UsageError("--at-report-time already fixes the date of each prediction; drop --as-of/--claim")
    # the open claims' forecasts show only their own texts: the rest are not read
    # nor the reports and topics, once the model's replay holds what its forecasts read of them
    evidence, model = _evidence_and_model(ctx, topic, as_of, True if at_report_time or claim_ids else "open",
                                          keep_reports=False)
    # JSON's sentences, for the whole store now, are worked out a block of claims at a time as the
    # text is written (all 600,000 open claims' at once held 3.5 million strings at ten million
    # reports): the numbers first, then each block's words (the same numbers, so the same words)
    words_by_block = fmt == "json" and not at_report_time and model is not None
    if at_report_time:
        table = forecast.predict_at_report_time(evidence, model=model)
        table = table.drop(columns=["outcome"])
    else:
        table = forecast.predict(evidence, _when_option(as_of), claim_ids=list(claim_ids) or None, model=model,
                                 explain=(explain or fmt == "json") and not words_by_block)
    if not words_by_block:
        # the table holds all that is written: the store's frames and the replay (1.7 GB at ten
        # million reports) are let go before the text is made
        del evidence, model
    width = max(30, shutil.get_terminal_size((120, 20)).columns - 60)
    shown = table
    if fmt == "table":
        shown = table.assign(statement=[_shorten(t, width) for t in table["statement"]])
    columns = {"claim_ref": "claim", "statement": "statement", "p_true": "p_true", "credibility": "credibility"}
    if at_report_time:
        columns["verdict"] = "verdict"
    elif claim_ids:
        columns["p_true_at_first_report"] = "at first report"
    if not at_report_time:  # each claim's sentences, grouped once
        drivers, priors = _sentences_by_claim(table.attrs["drivers"]), _sentences_by_claim(table.attrs["priors"])
    if fmt == "json" and not at_report_time:
        def with_words(records: list[dict]) -> None:
            said = (drivers, priors)
            if words_by_block:
                block = forecast.predict(evidence, claim_ids=[record["claim_id"] for record in records], model=model)
                said = _sentences_by_claim(block.attrs["drivers"]), _sentences_by_claim(block.attrs["priors"])
            for record in records:
                record["drivers"] = said[0].get(record["claim_id"], [])
                record["prior"] = said[1].get(record["claim_id"], [])

        _emit_json_records(table, with_words)
        return
    _emit(shown, fmt, columns)
    if explain and fmt == "table" and not at_report_time:
        for row in table.itertuples():
            _say(f"\n{row.claim_ref}: p_true {row.p_true:.2f}"
                 + (f" (said before its verdict; {row.p_true_at_first_report:.2f} at first report)"
                    if row.resolved else ""))
            for line in priors.get(row.claim_id, []):
                _say(f"  prior: {line}")
            for line in drivers.get(row.claim_id, []):
                _say(f"  {line}")


@main.command()
@click.option("--bins", type=click.IntRange(min=1), default=10, show_default=True,
              help="bins of the equal-width table in --format json/csv (the reliability diagram itself "
                   "needs no bins: it is the isotonic fit)")
@click.option("--by-topic", is_flag=True, help="also score the forecasts topic by topic")
@REPORT_FORMAT
@click.pass_context
def calibration(ctx: click.Context, bins: int, by_topic: bool, fmt: str) -> None:
    """How the tracker's own at-report-time predictions held up, beside baselines, and the model's
    parameters fitted from the record."""
    from tracker import selfscore

    result = selfscore.assess(*_evidence_and_model(ctx, None, None), bins=bins)
    legacy = result.calibration
    if fmt == "json":
        records = lambda frame: json.loads(frame.to_json(orient="records", date_format="iso"))  # noqa: E731
        click.echo(json.dumps({
            "claims": legacy.claims, "brier": legacy.brier, "base_rate_brier": legacy.base_rate_brier,
            "accuracy": legacy.accuracy,
            "table": records(legacy.table),
            "by_stance": records(legacy.by_stance),
            "by_source_stance": records(legacy.by_source_stance),
            "log_loss": _finite(result.log_loss),
            "brier_decomposition": {"mcb": _finite(result.evaluation.brier.mcb),
                                    "dsc": _finite(result.evaluation.brier.dsc),
                                    "unc": _finite(result.evaluation.brier.unc)},
            "reliability_diagram": records(result.evaluation.diagram),
            "comparison": records(result.comparison),
            "by_topic": records(result.by_topic),
            "params": result.params.as_dict(),
            "checkpoints": records(result.checkpoints),
        }, indent=2))
        return
    if fmt == "csv":
        click.echo(safe_text.guarded_csv(legacy.table), nl=False)
        return
    click.echo(f"{legacy.claims} resolved claim(s) scored at report time")
    click.echo(f"Brier score {legacy.brier:.4f} (base rate alone: {legacy.base_rate_brier:.4f}; lower is better); "
               f"log loss {result.log_loss:.4f}; accuracy {legacy.accuracy:.0%}")
    click.echo(f"model: {selfscore.describe_params(result.params)}\n")
    click.echo("against the baselines (same claims, each forecast made at first report):")
    numbers = ["brier", "log_loss", "mcb", "dsc", "unc", "accuracy"]
    _emit(result.comparison.assign(**{c: result.comparison[c].map(_four) for c in numbers}), "table", {"forecaster": "forecaster", "brier": "Brier", "log_loss": "log loss",
                                       "mcb": "miscalibration", "dsc": "discrimination", "unc": "uncertainty",
                                       "accuracy": "accuracy", "claims": "claims"})
    click.echo("\nreliability diagram (isotonic fit: each row a run of forecasts that earned one observed rate):")
    _emit(result.evaluation.diagram, "table", {"lower": "from", "upper": "to", "mean_forecast": "mean predicted",
                                               "recalibrated": "observed", "claims": "claims"})
    if by_topic:
        click.echo("\nby topic:")
        _emit(result.by_topic, "table", {"topic": "topic", "claims": "claims", "truth_rate": "truth rate",
                                         "brier": "Brier", "log_loss": "log loss", "accuracy": "accuracy"})
    click.echo("\ntruth rate by stance:")
    _emit(legacy.by_stance, "table", {"stance": "stance", "claims": "claims", "truth_rate": "truth rate"})


def _four(value: float) -> str:
    return "" if value != value else f"{value:.4f}"


def _finite(value: float):
    return None if value != value else value


@main.command("pheme-csv")
@click.argument("src", metavar="IN", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dest", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--settle-after-days", type=click.FloatRange(min=0), metavar="N",
              help="assume each verdict was known N days after its tweet [default: 1]")
@click.option("--settle-after-minutes", type=click.FloatRange(min=0), metavar="N",
              help="assume each verdict was known N minutes after its tweet (e.g. 1: a quick verdict)")
@click.option("--settle-at-event-end", is_flag=True,
              help="assume verdicts were known a day after the event's last tweet")
def pheme_csv(src: Path, dest: Path, settle_after_days: float | None, settle_after_minutes: float | None,
              settle_at_event_end: bool) -> None:
    """Convert a PHEME rumour CSV into this tracker's CSV contract (see docs/pheme.md). Give at most
    one of --settle-after-days, --settle-after-minutes and --settle-at-event-end."""
    from tracker import pheme

    given = [name for name, value in (("--settle-after-days", settle_after_days is not None),
                                      ("--settle-after-minutes", settle_after_minutes is not None),
                                      ("--settle-at-event-end", settle_at_event_end)) if value]
    if len(given) > 1:
        raise click.UsageError(f"give one of --settle-after-days, --settle-after-minutes or "
                               f"--settle-at-event-end, not both ({' and '.join(given)} were given)")
    days = 1.0 if settle_after_days is None else settle_after_days
    if settle_after_minutes is not None:
        days = settle_after_minutes / (24 * 60)
    count = pheme.convert(src, dest, settle_after_days=days, event_end=settle_at_event_end)
    if settle_at_event_end:
        assumption = "a day after each event's last tweet"
    elif settle_after_minutes is not None:
        assumption = f"{settle_after_minutes:g} minute(s) after each tweet"
    else:
        assumption = f"{days:g} day(s) after each tweet"
    click.echo(f"wrote {count} rows to {dest} (outcomes assumed known {assumption})")


# -- output ----------------------------------------------------------------------------------
def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(rows: list[list], headers: list[str]) -> str:
    """Rows as an aligned plain-text table (numbers right-aligned)."""
    if not rows:
        return "(none)"
    cells = [[safe_text.terminal(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int) for row in rows) for i in range(len(headers))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])
