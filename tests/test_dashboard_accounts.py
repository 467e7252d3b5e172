"""The dashboard with accounts: local mode, signing in and out, sessions, roles on each page, safe
edits (EditConflict), retraction, History and Users; AppTest against a real SQLite store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_dashboard import aleppo, app, ok, store_env, table, texts  # noqa: F401 (fixtures)
from tracker import audit, queries
from tracker.dashboard import access, widgets
from tracker.dates import utcnow
from tracker.ledger import Ledger

PASSWORD = "correct horse battery"
TEAM = {"Ada": "admin", "Rita": "reviewer", "Andy": "analyst"}


@pytest.fixture
def team(aleppo) -> Ledger:  # noqa: F811
    """The Aleppo store with an admin (Ada, the first account), a reviewer (Rita) and an analyst (Andy)."""
    aleppo.add_account("Ada", "admin", PASSWORD)
    admin = aleppo.acting_as(aleppo.authenticate("Ada", PASSWORD))
    for name, role in TEAM.items():
        if name != "Ada":
            admin.add_account(name, role, PASSWORD)
    return aleppo


def as_user(ledger: Ledger, name: str) -> Ledger:
    """The ledger acting for `name` (whose password is PASSWORD)."""
    return ledger.acting_as(ledger.authenticate(name, PASSWORD))


def signed_in(ledger: Ledger, name: str, **query) -> AppTest:
    """The dashboard in a browser session already signed in as `name`, run once."""
    at = app(**query)
    at.session_state[access.TOKEN] = ledger.login(name, PASSWORD)[0]
    return ok(at.run())


def sign_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    """Fill in and submit the sign-in form."""
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    return ok(at.button(key="sign_in_submit").click().run())


def token_of(at: AppTest) -> str | None:
    """The login token this browser session holds (None when signed out)."""
    return at.session_state[access.TOKEN] if access.TOKEN in at.session_state else None


def keys(at: AppTest) -> set[str]:
    """The keys of every widget on the page (the sidebar's included)."""
    found = set()
    for kind in ("button", "text_input", "text_area", "selectbox", "number_input", "checkbox"):
        found |= {w.key for w in getattr(at, kind) if w.key}
    return found


def on_page(at: AppTest, page: str) -> AppTest:
    """Switch the running dashboard to app_pages/`page`.py."""
    return ok(at.switch_page(f"app_pages/{page}.py").run())


# -- local mode --------------------------------------------------------------------------------
def test_local_mode_shows_the_banner_on_every_page_and_no_sign_in(aleppo):  # noqa: F811
    at = ok(app().run())
    assert at.title[0].value == "Overview"
    for page in ("claims", "claim", "review", "history"):
        on_page(at, page)
        assert "Local mode" in at.sidebar.warning[0].value and "every role" in at.sidebar.warning[0].value
        assert "sign_in_name" not in keys(at) and "sign_out" not in keys(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        on_page(at, "users")  # no Users page without accounts


def test_local_mode_writes_are_the_local_operators(aleppo):  # noqa: F811
    at = ok(app(claim=13).run())
    at.selectbox(key="claim_outcome_verdict").select("true").run()
    at.text_input(key="claim_outcome_when").input("20 December 2016").run()
    ok(at.button(key="claim_outcome_record").click().run())
    assert aleppo.get_claim(13).outcome.verdict == "true"
    assert audit.history(aleppo.engine, claim_id=13, limit=1)[0].actor == "local"


def test_creating_the_first_admin_from_the_banner_ends_local_mode(aleppo):  # noqa: F811
    at = ok(app().run())
    at.text_input(key="first_admin_name").input("Ada")
    at.text_input(key="first_admin_password").input(PASSWORD)
    at.text_input(key="first_admin_again").input(PASSWORD)
    ok(at.button(key="first_admin_submit").click().run())
    assert "Created the admin account Ada and signed you in" in texts(at.success)
    assert "Signed in as **Ada** (admin)" in texts(at.sidebar.markdown)
    assert not at.sidebar.warning and "first_admin_password" not in keys(at)
    assert aleppo.has_accounts() and not aleppo.local_mode()
    assert [(a["name"], a["role"]) for a in aleppo.list_accounts()] == [("Ada", "admin")]
    # another browser is not signed in: it gets the sign-in page only
    assert ok(app().run()).title[0].value == "Sign in"


def test_the_first_admin_needs_the_same_password_twice(aleppo):  # noqa: F811
    at = ok(app().run())
    at.text_input(key="first_admin_name").input("Ada")
    at.text_input(key="first_admin_password").input(PASSWORD)
    at.text_input(key="first_admin_again").input(PASSWORD + "!")
    ok(at.button(key="first_admin_submit").click().run())
    assert "the two passwords differ" in texts(at.error)
    assert not aleppo.has_accounts() and "Local mode" in at.sidebar.warning[0].value


def test_sign_in_required_with_no_account_says_how_to_create_one(aleppo, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TRACKER_REQUIRE_LOGIN", "1")
    at = ok(app(claim=8).run())
    assert at.title[0].value == "No account yet"
    assert "tracker user add NAME --role admin" in at.code[0].value
    assert "first_admin_name" not in keys(at) and not at.sidebar.warning


# -- signing in and out ------------------------------------------------------------------------
def test_with_accounts_a_session_not_signed_in_sees_only_the_sign_in_page(team):
    at = ok(app().run())
    assert at.title[0].value == "Sign in" and not at.sidebar.markdown and not at.metric
    for page in ("claims", "claim", "review", "users", "history", "import_export"):
        assert on_page(at, page).title[0].value == "Sign in", page
    assert keys(at) == {"sign_in_name", "sign_in_password", "sign_in_submit"}


def test_a_page_asked_for_while_signed_out_opens_once_signed_in(team):
    at = ok(app().run())
    ok(at.switch_page("app_pages/review.py").run())
    assert at.title[0].value == "Sign in" and at.query_params["next"] == "review"
    at = ok(app(next="review").run())  # the address the browser is now at
    assert at.title[0].value == "Sign in"
    sign_in(at, "Rita")
    assert at.title[0].value == "Review queue"


def test_signing_in_opens_the_deep_link_and_shows_who_is_signed_in(team):
    at = ok(app(claim=8).run())
    assert at.title[0].value == "Sign in"
    sign_in(at, "rita")  # any case
    assert at.title[0].value == "Claim" and at.subheader[0].value.startswith("#8: ")
    assert "Signed in as **Rita** (reviewer)" in texts(at.sidebar.markdown)


def test_a_wrong_password_is_refused_and_nothing_else_happens(team):
    at = ok(app().run())
    sign_in(at, "Rita", "not the password")
    assert "wrong account name or password" in texts(at.error)
    assert at.title[0].value == "Sign in" and not token_of(at)
    assert at.text_input(key="sign_in_password").value == ""  # the password is not kept


def past_token(ledger: Ledger, name: str) -> str:
    """A session started nine hours ago: expired (sessions last 8 hours)."""
    then = utcnow() - timedelta(hours=9)
    return Ledger(ledger.engine, clock=lambda: then).login(name, PASSWORD)[0]


@pytest.mark.parametrize("how, reason", [
    ("expired", "your session expired"),
    ("signed out elsewhere", "this session has ended"),
    ("disabled", "is disabled; ask an admin"),  # disabling an account ends its sessions, and says why
])
def test_a_session_that_is_no_longer_good_drops_back_to_sign_in(team, how, reason):
    token = past_token(team, "Rita") if how == "expired" else team.login("Rita", PASSWORD)[0]
    at = app(claim=8)
    at.session_state[access.TOKEN] = token
    if how != "expired":
        assert ok(at.run()).title[0].value == "Claim"
        if how == "disabled":
            as_user(team, "Ada").set_disabled("Rita", True)
        else:
            team.logout(token)
    ok(at.run())
    assert at.title[0].value == "Sign in"
    assert reason in texts(at.warning)
    assert not token_of(at)
    if how == "disabled":
        assert "the account 'Rita' is disabled; ask an admin" in texts(sign_in(at, "Rita").error)


def test_signing_out(team):
    at = signed_in(team, "Andy")
    token = at.session_state[access.TOKEN]
    ok(at.button(key="sign_out").click().run())
    assert at.title[0].value == "Sign in" and "You signed out" in texts(at.info)
    with pytest.raises(Exception, match="has ended"):
        team.session_actor(token)


def test_changing_your_own_password_keeps_you_signed_in(team):
    at = signed_in(team, "Andy")
    at.text_input(key="own_password_current").input(PASSWORD)
    at.text_input(key="own_password_password").input("a brand new passphrase")
    at.text_input(key="own_password_again").input("a brand new passphrase")
    ok(at.button(key="own_password_submit").click().run())
    assert "Your password was changed" in texts(at.success)
    assert "Signed in as **Andy**" in texts(at.sidebar.markdown)
    assert team.authenticate("Andy", "a brand new passphrase").name == "Andy"
    assert all(not at.text_input(key=k).value for k in ("own_password_current", "own_password_password"))


def test_a_wrong_current_password_changes_nothing(team):
    at = signed_in(team, "Andy")
    at.text_input(key="own_password_current").input("a wrong guess at it")
    at.text_input(key="own_password_password").input("a brand new passphrase")
    at.text_input(key="own_password_again").input("a brand new passphrase")
    ok(at.button(key="own_password_submit").click().run())
    assert "the current password is wrong" in texts(at.error)
    assert team.authenticate("Andy", PASSWORD).name == "Andy"


# -- roles on the claim and review pages -------------------------------------------------------
OUTCOME_CONTROLS = {"claim_outcome_record", "claim_edit_save", "claim_retract_submit", "report_retract_submit"}


def test_an_analyst_sees_no_outcome_edit_or_retract_controls(team):
    at = signed_in(team, "Andy", claim=13)
    assert at.title[0].value == "Claim"
    assert not OUTCOME_CONTROLS & keys(at)
    assert "Only reviewers and admins record outcomes" in texts(at.caption)
    on_page(at, "review")
    assert list(at.dataframe[0].value["id"]) == [11, 13]  # the queue, read-only
    assert "review_record" not in keys(at) and "Only reviewers and admins record outcomes" in texts(at.caption)


def test_an_analyst_cannot_record_an_outcome_through_the_page(team):
    """Rita opens the form as a reviewer, is made an analyst meanwhile: the service layer refuses."""
    at = signed_in(team, "Rita", claim=13)
    at.selectbox(key="claim_outcome_verdict").select("true")
    at.text_input(key="claim_outcome_when").input("20 December 2016")
    as_user(team, "Ada").set_role("Rita", "analyst")
    before = queries.fingerprint(team)
    ok(at.button(key="claim_outcome_record").click().run())
    assert "Rita is an analyst and may not record or revise an outcome" in texts(at.error)
    assert queries.fingerprint(team) == before and team.get_claim(13).outcome is None
    assert "claim_outcome_record" not in keys(at)  # and the form is gone now


def test_a_reviewer_records_an_outcome_on_the_claim_page_and_the_review_queue(team):
    at = signed_in(team, "Rita", claim=13)
    at.selectbox(key="claim_outcome_verdict").select("false").run()
    at.text_input(key="claim_outcome_when").input("20 December 2016").run()
    ok(at.button(key="claim_outcome_record").click().run())
    assert "Claim #13 is now false" in at.success[0].value
    assert team.get_claim(13).outcome.reviewer == "Rita"
    on_page(at, "review")
    at.selectbox(key="review_verdict").select("true").run()
    at.text_input(key="review_when").input("21 December 2016").run()
    ok(at.button(key="review_record").click().run())
    assert "Claim #11 is now true" in at.success[0].value
    assert [c.actor for c in audit.history(team.engine, action="outcome.record", limit=2)] == ["Rita", "Rita"]


# -- safe edits ------------------------------------------------------------------------------
def test_an_edit_conflict_shows_what_changed_and_saves_nothing(team):
    first, second = signed_in(team, "Rita", claim=13), signed_in(team, "Ada", claim=13)
    first.text_area(key="claim_edit_statement").input("Russia demanded the commanders be handed over")
    first.text_input(key="claim_edit_reason").input("shorter")
    ok(first.button(key="claim_edit_save").click().run())
    assert "Saved the changes to claim #13" in first.success[0].value
    saved = team.get_claim(13).claim
    assert saved.statement == "Russia demanded the commanders be handed over"

    # the second page was rendered before that save: its save is refused and lists the change
    second.text_input(key="claim_edit_topics").input("aleppo; trials")
    ok(second.button(key="claim_edit_save").click().run())
    message = texts(second.error)
    assert "claim #13 was changed by someone else after you opened it" in message
    assert "Rita edited claim (claim #13)" in message and "nothing was saved" in message
    assert "Stored now: Russia demanded the commanders be handed over" in texts(second.caption)
    assert team.get_claim(13).claim.version == saved.version and team.get_claim(13).topics != ["aleppo", "trials"]
    # what the second person changed is still typed in; the rest now shows the claim as stored
    assert second.text_input(key="claim_edit_topics").value == "aleppo; trials"
    assert second.text_area(key="claim_edit_statement").value == saved.statement
    ok(second.button(key="claim_edit_save").click().run())  # saving again keeps the first person's change
    assert "Saved the changes to claim #13" in second.success[0].value
    assert team.get_claim(13).claim.statement == saved.statement
    assert team.get_claim(13).topics == ["aleppo", "trials"]


def test_an_outcome_saved_after_someone_else_changed_the_claim_is_refused(team):
    at = signed_in(team, "Rita", claim=13)
    as_user(team, "Ada").retract_report(team.get_claim(13).reports[0][0].id, "duplicate")
    at.selectbox(key="claim_outcome_verdict").select("true").run()
    at.text_input(key="claim_outcome_when").input("20 December 2016").run()
    ok(at.button(key="claim_outcome_record").click().run())
    assert "was changed by someone else" in texts(at.error) and team.get_claim(13).outcome is None


# -- retraction --------------------------------------------------------------------------------
def test_retracting_a_claim_removes_it_from_the_claims_list_and_flags_its_page(team):
    at = signed_in(team, "Rita", claim=13)
    ok(at.button(key="claim_retract_submit").click().run())
    assert "say why the claim is retracted" in texts(at.error) and not team.get_claim(13).retracted
    at.text_input(key="claim_retract_reason").input("Logged twice; see #11")
    ok(at.button(key="claim_retract_submit").click().run())
    assert "Retracted claim #13" in at.success[0].value
    notice = texts(at.error)
    assert "Retracted by Rita at " in notice and ": Logged twice; see #11" in notice
    assert not OUTCOME_CONTROLS & keys(at)
    assert "retracted claim" in set(table(at, "what")["what"].str.split(" \\(").str[0])
    on_page(at, "claims")
    assert 13 not in set(at.dataframe[0].value["id"]) and len(at.dataframe[0].value) == 12


def test_a_retracted_report_stays_listed_with_its_reason(team):
    at = signed_in(team, "Rita", claim=8)
    reports = team.get_claim(8).reports
    duran = next(r.id for r, source, _ in reports if source == "The Duran")
    at.selectbox(key="report_retract_report").select(duran)
    at.text_input(key="report_retract_reason").input("Misattributed <b>quote</b>")
    ok(at.button(key="report_retract_submit").click().run())
    assert f"Retracted report #{duran}" in at.success[0].value
    shown = table(at, "via").set_index("id")
    assert len(shown) == 5
    assert shown.loc[duran, "retracted"].startswith("Retracted by Rita at ")
    assert shown.loc[duran, "retracted"].endswith(": Misattributed <b>quote</b>")  # plain text in a table
    assert (shown.drop(index=duran)["retracted"] == "").all()
    assert {m.label: m.value for m in at.metric}["Reported status"] == "confirmed"  # The Duran's denial is gone


# -- sources -----------------------------------------------------------------------------------
def test_only_admins_edit_rename_and_merge_sources(team):
    reviewer = signed_in(team, "Rita", source=16)
    assert not {"source_rename_submit", "source_merge_submit", "source_details_submit"} & keys(reviewer)
    assert "Only admins rename, edit and merge sources" in texts(reviewer.caption)

    at = signed_in(team, "Ada", source=16)
    at.text_input(key="source_details_affiliation").input("Independent website")
    at.text_input(key="source_details_aliases").input("theduran.com")
    ok(at.button(key="source_details_submit").click().run())
    assert "Saved the details of The Duran" in texts(at.success)
    detail = queries.source_detail(team, 16)
    assert detail["affiliation"] == "Independent website" and "theduran.com" in detail["aliases"]
    at.text_input(key="source_rename_name").input("The Duran (website)")
    ok(at.button(key="source_rename_submit").click().run())
    assert at.subheader[0].value == widgets.md("The Duran (website)")
    assert "renamed source" in " ".join(table(at, "what")["what"])
    at.selectbox(key="source_merge_into").select("Jihadi sources")
    at.checkbox(key="source_merge_sure").check()
    ok(at.button(key="source_merge_submit").click().run())
    assert "was merged into Jihadi sources" in texts(at.info)
    kept = queries.source_id_by_name(team)["Jihadi sources"]
    link = at.get("page_link")[0].proto
    assert (link.page, link.query_string, link.label) == ("source", f"source={kept}", "Open Jihadi sources")
    assert "The Duran (website)" not in queries.source_id_by_name(team)
    assert "merged source" in " ".join(table(at, "what")["what"])


# -- history -----------------------------------------------------------------------------------
def test_history_lists_changes_newest_first_and_filters_by_user_and_claim(team):
    as_user(team, "Rita").record_outcome(13, "true", "20 December 2016")
    as_user(team, "Andy").add_report(11, "ICRC", "denied", "16 December 2016")
    as_user(team, "Rita").edit_claim(11, version=team.get_claim(11).claim.version, expected_by="30 December 2016",
                                     reason="the talks were extended")
    at = on_page(signed_in(team, "Andy"), "history")
    rows = at.dataframe[0].value
    assert list(rows["who"][:3]) == ["Rita", "Andy", "Rita"]
    assert rows["what"].iloc[0] == "edited claim" and rows["reason"].iloc[0] == "the talks were extended"
    assert rows["claim"].iloc[0].startswith("The evacuation deal broke down") and rows["claim"].iloc[0].endswith("(aleppo-11)")
    assert rows["changes"].iloc[0] == "expected_by: - → 2016-12-30"  # typed as a date: shown as one

    at.selectbox(key="history_user").select("Andy").run()
    assert set(ok(at).dataframe[0].value["who"]) == {"Andy"}
    at.selectbox(key="history_user").select("anyone").run()
    at.number_input(key="history_claim").set_value(13).run()
    shown = ok(at).dataframe[0].value
    assert set(shown["claim_id"]) == {13} and set(shown["claim"]) == {queries.claim_labels(team, [13])[13]}
    assert shown["what"].iloc[0] == "recorded outcome"
    assert len(shown) == audit.count(team.engine, claim_id=13)


def test_history_is_paginated_and_linked_from_the_claim_and_source_pages(team):
    andy = as_user(team, "Andy")
    for day in range(1, 31):
        andy.add_report(8, "ICRC", "confirmed", f"{day} January 2017")
    at = on_page(signed_in(team, "Andy"), "history")
    total = audit.count(team.engine)
    assert len(at.dataframe[0].value) == 25 and f"1-25 of {total} changes" in texts(at.caption)
    at.number_input(key="history_page").set_value(2).run()
    assert len(ok(at).dataframe[0].value) == min(25, total - 25)

    at = signed_in(team, "Andy", claim=8)  # the claim page's History section, and its link
    assert set(table(at, "what")["claim"]) == {queries.claim_labels(team, [8])[8]} and len(table(at, "what")) == 10
    on_page(at, "history")  # as its link opens it: ?claim=8
    assert at.number_input(key="history_claim").value == 8
    assert set(at.dataframe[0].value["claim_id"]) == {8}
    assert f"of {audit.count(team.engine, claim_id=8)} changes" in texts(at.caption)

    at = signed_in(team, "Andy", source=15)
    assert set(table(at, "what")["source"]) == {"ICRC"}


# -- users -------------------------------------------------------------------------------------
def test_the_users_page_is_for_admins_only(team):
    for name in ("Rita", "Andy"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            on_page(signed_in(team, name), "users")  # not in their navigation at all

    at = on_page(signed_in(team, "Ada"), "users")
    assert at.title[0].value == "Users"
    accounts = at.dataframe[0].value
    assert list(accounts["name"]) == ["Ada", "Andy", "Rita"]
    assert not any("hash" in column or "password" in column for column in accounts.columns)


def test_an_admin_adds_an_account_changes_a_role_resets_a_password_and_disables(team):
    at = on_page(signed_in(team, "Ada"), "users")
    at.text_input(key="user_add_name").input("Vera")
    at.selectbox(key="user_add_role").select("reviewer")
    at.text_input(key="user_add_password").input(PASSWORD)
    at.text_input(key="user_add_again").input(PASSWORD)
    ok(at.button(key="user_add_submit").click().run())
    assert "Added Vera as reviewer" in texts(at.success)

    at.selectbox(key="user_role_name").select("Andy")
    at.selectbox(key="user_role_role").select("reviewer")
    ok(at.button(key="user_role_submit").click().run())
    assert "Andy is now reviewer" in texts(at.success)

    at.selectbox(key="user_password_name").select("Vera")
    at.text_input(key="user_password_password").input("another long passphrase")
    at.text_input(key="user_password_again").input("another long passphrase")
    ok(at.button(key="user_password_submit").click().run())
    assert team.authenticate("Vera", "another long passphrase").name == "Vera"

    at.selectbox(key="user_state_name").select("Rita").run()
    ok(at.button(key="user_state_submit").click().run())
    assert "Disabled Rita" in texts(at.success)
    roles = {a["name"]: (a["role"], a["disabled"]) for a in team.list_accounts()}
    assert roles == {"Ada": ("admin", False), "Andy": ("reviewer", False), "Rita": ("reviewer", True),
                     "Vera": ("reviewer", False)}

    at.selectbox(key="user_role_name").select("Ada")
    at.selectbox(key="user_role_role").select("analyst")
    ok(at.button(key="user_role_submit").click().run())
    assert "Ada is the only admin" in texts(at.error)


# -- import -------------------------------------------------------------------------------------
VERDICTS_CSV = (
    "claim_ref,claim,source,stance,reported_at,outcome,outcome_at\n"
    "v-1,The bridge is open,Kremlin,confirmed,13 December 2016,true,14 December 2016\n"
    "v-2,The bridge is closed,ICRC,denied,13 December 2016,,\n"
)


def test_an_analyst_imports_reports_but_not_outcomes_and_the_import_is_in_history(team):
    before = queries.fingerprint(team)
    at = on_page(signed_in(team, "Andy"), "import_export")
    at.file_uploader(key="import_file").upload("verdicts.csv", VERDICTS_CSV.encode(), "text/csv").run()
    assert "1 problem in 1 row would be refused" in ok(at).error[0].value  # the preview, for the analyst's role
    ok(at.button(key="import_button").click().run())
    assert "verdicts.csv was not imported" in texts(at.error)
    assert list(table(at, "problem")["row"]) == ["row 2"] and queries.fingerprint(team) == before

    at = on_page(signed_in(team, "Rita"), "import_export")
    at.file_uploader(key="import_file").upload("verdicts.csv", VERDICTS_CSV.encode(), "text/csv").run()
    ok(at.button(key="import_button").click().run())
    assert "Imported verdicts.csv: 2 claim(s) created" in texts(at.success)
    event = audit.history(team.engine, action="import", limit=1)[0]
    assert event.actor == "Rita" and "verdicts.csv" in str(event.after)


@pytest.fixture
def single_sign_on(monkeypatch):
    """OpenID Connect as if set up, with the e-mail address the provider vouches for (no provider here)."""
    vouched = {"email": None, "verified": True}
    monkeypatch.setattr(access, "single_sign_on", lambda: "Example SSO")
    monkeypatch.setattr(access, "identity", lambda: vouched["email"])
    monkeypatch.setattr(access, "identity_verified", lambda: vouched["verified"])
    return vouched


def test_the_sign_in_page_offers_single_sign_on_when_set_up(team, single_sign_on):
    at = ok(app().run())
    assert at.title[0].value == "Sign in"
    assert "Sign in with Example SSO" in [b.label for b in at.button]


def test_single_sign_on_signs_in_the_account_named_by_the_address(team, single_sign_on):
    as_user(team, "Ada").add_account("rita@example.org", "reviewer", "a long unused secret")
    single_sign_on["email"] = "rita@example.org"
    at = ok(app(claim=8).run())
    assert at.title[0].value == "Claim"
    assert "Signed in as **rita@example.org** (reviewer)" in texts(at.sidebar.markdown)


def test_single_sign_on_with_an_unverified_address_stays_on_the_sign_in_page(team, single_sign_on):
    as_user(team, "Ada").add_account("rita@example.org", "reviewer", "a long unused secret")
    single_sign_on.update(email="rita@example.org", verified=False)
    at = ok(app().run())
    assert at.title[0].value == "Sign in" and not token_of(at)
    assert "has not verified the e-mail address rita@example.org" in texts(at.warning)


def test_single_sign_on_without_an_account_stays_on_the_sign_in_page(team, single_sign_on):
    single_sign_on["email"] = "eve@example.org"
    at = ok(app().run())
    assert at.title[0].value == "Sign in" and not token_of(at)
    assert "no account called 'eve@example.org'; ask an admin" in texts(at.warning)
    assert "eve@example.org" not in [a["name"] for a in team.list_accounts()]
