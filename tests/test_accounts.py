"""Accounts, roles, passwords and sessions: checked in the service layer, on a real SQLite store."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from tests.conftest import NOW, REPO
from tracker import accounts
from tracker.accounts import LoginFailed, LoginRequired, PermissionDenied
from tracker.cli import main
from tracker.errors import DuplicateError, ImportRejected, ValidationError
from tracker.interchange import import_file, import_text
from tracker.ledger import Ledger
from tracker.models import Account, AuditEvent, LoginSession, Role

ADMIN_PW = "correct horse battery"
REVIEWER_PW = "reviewer's own secret"
ANALYST_PW = "analyst passphrase 7"
OUTCOME_CSV = (
    "claim_ref,claim,source,stance,reported_at,outcome,outcome_at\n"
    "x1,Convoy left eastern Aleppo,Western media,rumoured,15 Dec 2016 09:00,true,16 Dec 2016\n"
)


@pytest.fixture
def team(seeded):
    """The example store with an admin (made by the local operator), a reviewer and an analyst."""
    seeded.add_account("Ada", "admin", ADMIN_PW)
    admin = seeded.acting_as(seeded.authenticate("ada", ADMIN_PW))
    admin.add_account("Rita", "reviewer", REVIEWER_PW)
    admin.add_account("Andy", "analyst", ANALYST_PW)
    return {
        "local": seeded,
        "admin": admin,
        "reviewer": seeded.acting_as(seeded.authenticate("Rita", REVIEWER_PW)),
        "analyst": seeded.acting_as(seeded.authenticate("Andy", ANALYST_PW)),
    }


# -- local mode and the first account ----------------------------------------------------------

def test_a_store_without_accounts_is_in_local_mode_with_every_role(seeded):
    assert seeded.local_mode() and not seeded.has_accounts()
    seeded.record_outcome(1, "false", "2016-12-30")  # the local operator may do anything
    seeded.merge_sources("The Duran", "Western media")
    assert seeded.history(limit=1)[0].actor == "local"


def test_the_first_account_must_be_an_admin_and_ends_local_mode_for_good(seeded):
    with pytest.raises(ValidationError, match="first account must be an admin"):
        seeded.add_account("Rita", "reviewer", REVIEWER_PW)
    seeded.add_account("Ada", "admin", ADMIN_PW)
    assert not seeded.local_mode()
    with pytest.raises(LoginRequired, match="--as NAME"):
        seeded.log_claim("Anything", reports=[{"source": "X", "stance": "rumoured", "reported_at": "2016-12-20"}])
    with pytest.raises(LoginRequired):
        seeded.add_account("Eve", "admin", "another long one")  # no second bootstrap
    admin = seeded.acting_as(seeded.authenticate("Ada", ADMIN_PW))
    with pytest.raises(ValidationError, match="only enabled admin"):
        admin.set_disabled("Ada", True)
    assert not seeded.local_mode()


def test_require_login_refuses_local_mode_but_lets_the_first_admin_be_made(seeded, monkeypatch):
    monkeypatch.setenv("TRACKER_REQUIRE_LOGIN", "1")
    assert not seeded.local_mode()
    with pytest.raises(LoginRequired, match="TRACKER_REQUIRE_LOGIN"):
        seeded.record_outcome(1, "false", "2016-12-30")
    seeded.add_account("Ada", "admin", ADMIN_PW)
    seeded.acting_as(seeded.authenticate("Ada", ADMIN_PW)).record_outcome(1, "false", "2016-12-30")


def test_no_default_or_weak_passwords(ledger):
    for bad, why in (("", "empty"), ("short", "shorter than"), ("administrator", "account name")):
        with pytest.raises(ValidationError, match=why):
            ledger.add_account("administrator", "admin", bad)
    with pytest.raises(ValidationError, match="reserved"):
        ledger.add_account("Local", "admin", ADMIN_PW)
    with pytest.raises(ValidationError, match="unknown role"):
        ledger.add_account("Ada", "superuser", ADMIN_PW)
    assert not ledger.has_accounts()


# -- roles -------------------------------------------------------------------------------------

def test_an_analyst_logs_claims_and_reports_but_cannot_record_an_outcome(team):
    analyst = team["analyst"]
    claim = analyst.log_claim("Convoy left eastern Aleppo", reports=[
        {"source": "Western media", "stance": "rumoured", "reported_at": "15 Dec 2016 09:00"}])
    analyst.add_report(claim.id, "ICRC", "confirmed", "15 Dec 2016 12:00")
    before = analyst.counts()
    with pytest.raises(PermissionDenied, match="Andy is an analyst and may not record or revise an outcome"):
        analyst.record_outcome(claim.id, "true", "16 Dec 2016")
    for refused in (lambda: analyst.edit_claim(claim.id, version=None, statement="Changed"),
                    lambda: analyst.retract_claim(claim.id, "mistake"),
                    lambda: analyst.merge_sources("The Duran", "Western media"),
                    lambda: analyst.rename_source("ICRC", "Red Cross"),
                    lambda: analyst.add_account("Mallory", "admin", "a long password")):
        with pytest.raises(PermissionDenied):
            refused()
    assert analyst.counts() == before
    assert analyst.get_claim(claim.id).outcome is None


def test_an_analyst_cannot_record_an_outcome_by_import(team, tmp_path):
    analyst = team["analyst"]
    before = analyst.counts()
    with pytest.raises(ImportRejected) as refused:
        import_text(analyst, OUTCOME_CSV, "csv")
    assert ("row 2: Andy is an analyst and may not record or revise an outcome: that needs the reviewer role"
            in str(refused.value))
    assert analyst.counts() == before  # all or nothing: not even the claim
    # the same file without its outcome goes in; re-importing the example (outcomes already there) too
    import_text(analyst, OUTCOME_CSV.replace(",true,16 Dec 2016", ",,"), "csv")
    import_file(analyst, REPO / "seed" / "aleppo-2016-12.json")
    assert analyst.counts()["outcomes"] == before["outcomes"]
    import_text(team["reviewer"], OUTCOME_CSV, "csv")
    assert analyst.counts()["outcomes"] == before["outcomes"] + 1


def test_an_analyst_cannot_record_an_outcome_from_the_command_line(team, db_path, monkeypatch):
    monkeypatch.setenv("TRACKER_PASSWORD", ANALYST_PW)
    result = CliRunner().invoke(main, ["--db", str(db_path), "--as", "Andy", "claims", "outcome", "1", "true",
                                       "--at", "2016-12-30"])
    assert result.exit_code == 1
    assert "Andy is an analyst and may not record or revise an outcome" in result.output
    monkeypatch.setenv("TRACKER_PASSWORD", REVIEWER_PW)
    result = CliRunner().invoke(main, ["--db", str(db_path), "--as", "Rita", "claims", "outcome", "1", "true",
                                       "--at", "2016-12-30"])
    assert result.exit_code == 0, result.output
    assert team["local"].get_claim(1).outcome.reviewer == "Rita"


def test_a_reviewer_settles_edits_and_retracts_but_does_not_manage_sources_or_accounts(team):
    reviewer = team["reviewer"]
    reviewer.record_outcome(1, "false", "2016-12-30")
    reviewer.edit_claim(1, version=None, topics="aleppo;ceasefire")
    reviewer.retract_report(reviewer.get_claim(2).reports[0][0].id, "misattributed")
    with pytest.raises(PermissionDenied, match="needs the admin role"):
        reviewer.merge_sources("The Duran", "Western media")
    with pytest.raises(PermissionDenied):
        reviewer.set_role("Andy", "reviewer")
    team["admin"].merge_sources("The Duran", "Western media")
    team["admin"].set_role("Andy", "reviewer")


def test_a_role_change_or_disabling_takes_effect_at_once(team):
    analyst = team["analyst"]  # an Actor read before the change
    team["admin"].set_role("Andy", "reviewer")
    analyst.record_outcome(1, "false", "2016-12-30")  # the store's role counts, not the stale one
    team["admin"].set_disabled("Andy", True)
    with pytest.raises(LoginFailed, match="disabled"):
        analyst.add_report(1, "ICRC", "denied", "2016-12-29")
    with pytest.raises(LoginFailed, match="disabled"):
        team["local"].login("Andy", ANALYST_PW)


def test_the_last_admin_stays_an_admin(team):
    with pytest.raises(ValidationError, match="only admin"):
        team["admin"].set_role("Ada", "reviewer")
    team["admin"].set_role("Rita", "admin")
    team["admin"].set_role("Ada", "reviewer")
    with pytest.raises(DuplicateError):
        team["local"].acting_as(team["local"].authenticate("Rita", REVIEWER_PW)).add_account("rita", "analyst",
                                                                                            "long enough pw")


# -- passwords and sessions --------------------------------------------------------------------

def test_a_wrong_password_is_refused_and_repeated_failures_pause_sign_ins(team):
    local = team["local"]
    with pytest.raises(LoginFailed, match="wrong account name or password"):
        local.login("Rita", "not her password")
    with pytest.raises(LoginFailed, match="wrong account name or password"):
        local.login("Nobody", REVIEWER_PW)  # an unknown name gets the same answer
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        with pytest.raises(LoginFailed):
            local.login("Rita", "guess")
    with pytest.raises(LoginFailed, match="wrong account name or password"):
        local.login("Rita", REVIEWER_PW)  # even the right password, while paused
    later = Ledger(local.engine, clock=lambda: NOW + accounts.FIRST_PAUSE + timedelta(seconds=1))
    token, actor = later.login("Rita", REVIEWER_PW)
    assert actor.name == "Rita" and actor.role == Role.reviewer and token


def test_sessions_expire_and_end_on_logout_or_password_change(team, monkeypatch):
    local = team["local"]
    monkeypatch.setenv("TRACKER_SESSION_HOURS", "2")
    token, _ = local.login("Rita", REVIEWER_PW)
    assert local.session_actor(token).name == "Rita"
    in_90_minutes = Ledger(local.engine, clock=lambda: NOW + timedelta(minutes=90))
    assert in_90_minutes.session_actor(token).role == Role.reviewer
    in_3_hours = Ledger(local.engine, clock=lambda: NOW + timedelta(hours=3))
    with pytest.raises(LoginFailed, match="session expired"):
        in_3_hours.session_actor(token)
    with pytest.raises(LoginFailed, match="not known"):
        local.session_actor("made-up-token")
    token, _ = local.login("Rita", REVIEWER_PW)
    local.logout(token)
    with pytest.raises(LoginFailed, match="has ended"):
        local.session_actor(token)
    token, _ = local.login("Rita", REVIEWER_PW)
    team["reviewer"].set_password("Rita", "a brand new secret", current_password=REVIEWER_PW)
    with pytest.raises(LoginFailed, match="has ended"):
        local.session_actor(token)
    with pytest.raises(LoginFailed):
        local.login("Rita", REVIEWER_PW)
    assert local.login("Rita", "a brand new secret")[1].name == "Rita"


def test_changing_your_own_password_needs_the_current_one(team):
    with pytest.raises(LoginFailed, match="current password is wrong"):
        team["analyst"].set_password("Andy", "something else entirely", current_password="wrong")
    with pytest.raises(PermissionDenied):
        team["analyst"].set_password("Rita", "something else entirely")
    team["admin"].set_password("Andy", "reset by the admin!")  # an admin resets anyone's
    assert team["local"].authenticate("Andy", "reset by the admin!").name == "Andy"


def test_passwords_are_never_stored_logged_or_shown_in_clear(team, db_path, caplog, monkeypatch, capsys):
    caplog.set_level(logging.DEBUG)
    local = team["local"]
    token, _ = local.login("Rita", REVIEWER_PW)
    with pytest.raises(LoginFailed) as wrong:
        local.login("Rita", "a mistyped secret")
    team["admin"].set_password("Andy", "the new analyst secret")
    monkeypatch.setenv("TRACKER_PASSWORD", ADMIN_PW)
    cli = CliRunner().invoke(main, ["--db", str(db_path), "--as", "Ada", "user", "add", "Cleo", "--role", "analyst",
                                    "--password-stdin"], input="cleo's long password\n")
    assert cli.exit_code == 0, cli.output
    local.engine.dispose()
    secrets = [ADMIN_PW, REVIEWER_PW, ANALYST_PW, "a mistyped secret", "the new analyst secret",
               "cleo's long password", token]
    stored = b"".join(path.read_bytes() for path in db_path.parent.iterdir() if path.is_file())
    shown = caplog.text + cli.output + str(wrong.value) + capsys.readouterr().out
    for secret in secrets:
        assert secret.encode() not in stored
        assert secret not in shown
    with local.session() as s:
        hashes = s.exec(select(Account.password_hash)).all()
        assert all(h.startswith("$argon2id$") for h in hashes)
        assert len(set(hashes)) == len(hashes)  # salted
        assert s.exec(select(LoginSession.token_hash)).first() == accounts.token_hash(token)
        for event in s.exec(select(AuditEvent).where(AuditEvent.entity == "account")).all():
            assert "argon2" not in (event.after or "") and "argon2" not in (event.before or "")


def test_account_changes_are_in_the_history(team):
    team["admin"].set_role("Andy", "reviewer")
    team["admin"].set_disabled("Andy", True)
    changes = team["local"].history(action="account")
    assert [(c.action, c.actor) for c in changes] == [
        ("account.disable", "Ada"), ("account.role", "Ada"), ("account.create", "Ada"),
        ("account.create", "Ada"), ("account.create", "local")]
    assert changes[1].before == {"role": "analyst"} and changes[1].after == {"role": "reviewer"}


def test_the_command_line_needs_a_password_for_as(team, db_path):
    result = CliRunner().invoke(main, ["--db", str(db_path), "--as", "Rita", "claims", "outcome", "1", "true",
                                       "--at", "2016-12-30"])
    assert result.exit_code == 1 and "TRACKER_PASSWORD" in result.output
    result = CliRunner().invoke(main, ["--db", str(db_path), "claims", "outcome", "1", "true", "--at", "2016-12-30"])
    assert result.exit_code == 1 and "--as NAME" in result.output
    result = CliRunner().invoke(main, ["--db", str(db_path), "user"])
    assert result.exit_code == 0 and "Rita" in result.output and "argon2" not in result.output


def test_concurrent_wrong_passwords_all_count(any_ledger):
    import threading

    any_ledger.add_account("Ada", "admin", ADMIN_PW)
    gate = threading.Barrier(4)
    refused = []

    def attempt():
        gate.wait()
        try:
            any_ledger.login("Ada", "not the password")
        except LoginFailed:
            refused.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refused) == 4
    with any_ledger.session() as s:
        assert s.exec(select(Account.failed_logins)).one() == 4  # none lost to another


def test_an_admin_changing_their_own_password_gives_the_current_one(team):
    with pytest.raises(LoginFailed, match="needs your current password"):
        team["admin"].set_password("Ada", "a new admin secret")
    with pytest.raises(LoginFailed, match="current password is wrong"):
        team["admin"].set_password("Ada", "a new admin secret", current_password="guess")
    team["admin"].set_password("Ada", "a new admin secret", current_password=ADMIN_PW)
    assert team["local"].authenticate("Ada", "a new admin secret").name == "Ada"


def test_a_disabled_accounts_session_says_so(team):
    token, _ = team["local"].login("Rita", REVIEWER_PW)
    team["admin"].set_disabled("Rita", True)
    with pytest.raises(LoginFailed, match="'Rita' is disabled"):
        team["local"].session_actor(token)


def test_single_sign_on_admits_only_enabled_accounts_an_admin_made(team):
    team["admin"].add_account("rita@example.org", "reviewer", "unused but required")
    token, actor = team["local"].login_verified("Rita@Example.org", email_verified=True)
    assert actor.name == "rita@example.org" and actor.role == Role.reviewer
    assert team["local"].session_actor(token).name == "rita@example.org"
    with pytest.raises(LoginFailed, match="no account called 'eve@example.org'"):
        team["local"].login_verified("eve@example.org", email_verified=True)
    team["admin"].set_disabled("rita@example.org", True)
    with pytest.raises(LoginFailed, match="disabled"):
        team["local"].login_verified("rita@example.org", email_verified=True)
    assert not any(a["name"] == "eve@example.org" for a in team["local"].list_accounts())


# -- the lockout, passwords and single sign-on (issue 11) -------------------------------------------

def _counting_checks(monkeypatch, password_hash: str) -> list[int]:
    """Count the password checks made against `password_hash` (the real check still runs)."""
    checks: list[int] = []
    real = accounts.verify_password

    def counted(stored: str, password: str) -> bool:
        if stored == password_hash:
            checks.append(1)
        return real(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counted)
    return checks


def test_parallel_sign_ins_are_counted_before_their_password_is_checked(any_ledger, monkeypatch):
    import threading

    any_ledger.add_account("Ada", "admin", ADMIN_PW)
    with any_ledger.session() as s:
        checks = _counting_checks(monkeypatch, s.exec(select(Account.password_hash)).one())
    attempts = 12
    gate = threading.Barrier(attempts)
    answers = []

    def attempt(n: int) -> None:
        gate.wait()
        try:
            any_ledger.login("Ada", f"guess number {n}")
            answers.append("in")
        except LoginFailed as exc:
            answers.append(str(exc))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) == accounts.MAX_FAILED_LOGINS  # not one per attempt
    assert answers == [accounts.SIGN_IN_REFUSED] * attempts
    with pytest.raises(LoginFailed):
        any_ledger.login("Ada", ADMIN_PW)  # paused: even the right password waits, unchecked
    assert len(checks) == accounts.MAX_FAILED_LOGINS


def test_refusals_do_not_say_whether_an_account_is_paused_or_disabled(team):
    local, admin = team["local"], team["admin"]
    admin.add_account("Dora", "analyst", "dora's own passphrase")
    admin.set_disabled("Dora", True)
    answers = set()
    for name, password in (("Nobody", "whatever it is"), ("Rita", "not her password"), ("Dora", "not hers")):
        with pytest.raises(LoginFailed) as refused:
            local.login(name, password)
        answers.add(str(refused.value))
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(LoginFailed):
            local.login("Rita", "guess")
    with pytest.raises(LoginFailed) as paused:
        local.login("Rita", REVIEWER_PW)
    answers.add(str(paused.value))
    assert answers == {accounts.SIGN_IN_REFUSED}
    assert "locked" not in accounts.SIGN_IN_REFUSED and "disabled" not in accounts.SIGN_IN_REFUSED
    with pytest.raises(LoginFailed, match="is disabled"):
        local.login("Dora", "dora's own passphrase")  # only the right password learns it


def test_pauses_grow_but_end_and_the_command_line_is_not_paused(team):
    local = team["local"]
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(LoginFailed):
            local.login("Ada", "someone else guessing")
    after_first = Ledger(local.engine, clock=lambda: NOW + accounts.FIRST_PAUSE + timedelta(seconds=1))
    with pytest.raises(LoginFailed):
        after_first.login("Ada", "one more guess")  # checked, and starts a pause twice as long
    with pytest.raises(LoginFailed):
        Ledger(local.engine, clock=lambda: NOW + 2 * accounts.FIRST_PAUSE + timedelta(seconds=2)).login(
            "Ada", ADMIN_PW)
    assert accounts.pause_after(1000) == accounts.LOCKOUT  # never longer than LOCKOUT
    # the only admin, paused on the dashboard by someone else's guesses, signs in on the command line
    assert local.authenticate("Ada", ADMIN_PW).name == "Ada"
    assert local.login("Ada", ADMIN_PW)[1].name == "Ada"  # that cleared the count and the pause


@pytest.mark.parametrize(("password", "why"), [
    (" " * 10, "only spaces"),
    (" " * 14, "only spaces"),
    ("password12", "shorter than 12"),
    ("Password1234!", "most common"),
    ("qwertyuiop123", "most common"),
    ("aaaaaaaaaaaaaa", "most common"),
    ("a  b  c  d  e  f", "shorter than 12"),  # runs of spaces count as one
])
def test_passwords_follow_asvs_length_and_common_password_rules(team, password, why):
    with pytest.raises(ValidationError, match=why):
        team["admin"].add_account("Cleo", "analyst", password)
    assert team["admin"].add_account("Cleo", "analyst", "cleo's lantern at dusk").name == "Cleo"


def test_single_sign_on_needs_a_verified_email_address(team):
    team["admin"].add_account("rita@example.org", "reviewer", "unused but required")
    for verified in (False, None, "true"):
        with pytest.raises(LoginFailed, match="has not verified the e-mail address"):
            team["local"].login_verified("rita@example.org", email_verified=verified)
    assert team["local"].login_verified("rita@example.org", email_verified=True)[1].name == "rita@example.org"
