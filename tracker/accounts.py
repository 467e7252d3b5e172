"""Who is acting: accounts, roles, passwords, login sessions and local mode.

A store with no accounts runs in *local mode*: one person on their own machine acts as the local
operator, who holds every role. The first account (it must be an admin) switches the store to
login-required for good; `TRACKER_REQUIRE_LOGIN=1` refuses local mode outright. Passwords are
hashed with argon2id (argon2-cffi's defaults); only the hash is stored, and no message, log line
or audit event carries either. A login session is a random token the browser keeps; the store
keeps its SHA-256 and an expiry (`TRACKER_SESSION_HOURS`, default 8).

Passwords follow OWASP ASVS 4.0 (2.1.1, 2.1.7, 2.1.9): at least 12 characters once runs of
spaces count as one, at most 1024, not only white space, not the account name, and not one of
the common passwords bundled in `common_passwords.txt` (also with digits and punctuation
stripped from its end, so `password12` is refused); no rule about character classes.

The lockout rule (`throttle`): every password sign-in is counted *before* its password is
checked, in one atomic write, so parallel attempts cannot outrun the count. After
MAX_FAILED_LOGINS attempts in a row without a success the account pauses password sign-ins for
FIRST_PAUSE; each further attempt after a pause starts a pause twice as long, up to LOCKOUT
(15 minutes). During a pause attempts are refused unchecked and do not lengthen it; a success
resets the count. The pause is never permanent, and it is only on the dashboard's sign-in: the
command line needs the store itself (the SQLite file or the database's password), and whoever
holds that can change the store without signing in, so `tracker --as NAME` is not throttled and
its success clears the count; an admin whose dashboard sign-in someone else keeps pausing signs
in there. Refusals never say whether an account exists, is paused or is disabled: only the right
password learns that the account is disabled.

The permission check itself (`require`) is called by the service layer (`tracker.ledger`) inside
every write transaction, with the actor's role as the store holds it at that moment.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib.resources import files

from tracker.errors import LedgerError, ValidationError
from tracker.vocabulary import Role

REQUIRE_LOGIN_ENV = "TRACKER_REQUIRE_LOGIN"
SESSION_HOURS_ENV = "TRACKER_SESSION_HOURS"
DEFAULT_SESSION_HOURS = 8.0
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_FAILED_LOGINS = 5
FIRST_PAUSE = timedelta(minutes=1)
LOCKOUT = timedelta(minutes=15)  # the longest pause
SIGN_IN_REFUSED = ("wrong account name or password (after several wrong ones an account pauses sign-ins for a few "
                   "minutes: wait and try again, or ask an admin)")
LOCAL_NAME = "local"

_RANK = {Role.analyst: 1, Role.reviewer: 2, Role.admin: 3}


@functools.cache
def _hasher():
    """argon2id with the library's recommended parameters, loaded at the first password (not at start-up)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


class PermissionDenied(LedgerError):
    """The acting user's role does not allow this change."""


class LoginRequired(LedgerError):
    """The store requires a named user and none (or a stale one) was given."""


class LoginFailed(LedgerError):
    """A wrong name or password, a disabled or locked account, or an expired session."""


@dataclass(frozen=True)
class Actor:
    """The person a change is made by: an account, or the local operator (account_id None)."""

    name: str
    role: Role
    account_id: int | None = None

    @property
    def is_local(self) -> bool:
        """True for the local operator of a store without accounts."""
        return self.account_id is None

    def may(self, role: Role | str) -> bool:
        """True when this actor's role includes `role`."""
        return _RANK[Role(self.role)] >= _RANK[Role(role)]


LOCAL_OPERATOR = Actor(LOCAL_NAME, Role.admin, None)


def require_login_forced() -> bool:
    """True when `TRACKER_REQUIRE_LOGIN` refuses local mode (server deployments)."""
    return os.environ.get(REQUIRE_LOGIN_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def session_length() -> timedelta:
    """How long a login session lasts (`TRACKER_SESSION_HOURS`, default 8 hours)."""
    raw = os.environ.get(SESSION_HOURS_ENV, "").strip()
    try:
        hours = float(raw) if raw else DEFAULT_SESSION_HOURS
    except ValueError as exc:
        raise ValidationError(f"{SESSION_HOURS_ENV}={raw!r} is not a number of hours") from exc
    if hours <= 0:
        raise ValidationError(f"{SESSION_HOURS_ENV} must be more than 0 hours")
    return timedelta(hours=hours)


# what each change needs, and how a refusal names it
NEEDS = {
    "source.create": (Role.analyst, "add a source"),
    "claim.create": (Role.analyst, "log a claim"),
    "report.create": (Role.analyst, "add a report"),
    "import": (Role.analyst, "import claims and reports"),
    "claim.edit": (Role.reviewer, "edit a claim"),
    "claim.retract": (Role.reviewer, "retract a claim"),
    "report.retract": (Role.reviewer, "retract a report"),
    "report.edit": (Role.reviewer, "change a report"),
    "claim.merge": (Role.reviewer, "merge claims"),
    "outcome.record": (Role.reviewer, "record or revise an outcome"),
    "outcome.credit": (Role.admin, "credit a verdict to someone else (leave the reviewer out, or name yourself)"),
    "source.edit": (Role.admin, "edit a source"),
    "source.rename": (Role.admin, "rename a source"),
    "source.alias": (Role.admin, "add an alias to a source"),
    "source.merge": (Role.admin, "merge sources"),
    "account.manage": (Role.admin, "manage accounts"),
}


def require(actor: Actor, action: str) -> None:
    """Refuse (PermissionDenied) when `actor`'s role does not allow `action` (a key of NEEDS)."""
    role, words = NEEDS[action]
    if not actor.may(role):
        article = "an" if actor.role == Role.analyst or actor.role == Role.admin else "a"
        raise PermissionDenied(
            f"{actor.name} is {article} {Role(actor.role).value} and may not {words}: that needs the "
            f"{role.value} role. Ask an admin to change your role, or ask a {role.value} to do it"
        )


def check_role(role) -> Role:
    """The Role named by `role`, or a ValidationError listing the roles."""
    try:
        return Role(str(getattr(role, "value", role)).strip().lower())
    except ValueError as exc:
        raise ValidationError(f"unknown role {role!r}; use one of: {', '.join(r.value for r in Role)}") from exc


def check_account_name(name: str | None) -> str:
    """An account name as stored (white space folded), or a ValidationError."""
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise ValidationError("the account name is empty; give the person a name to sign in with")
    if len(cleaned) > 200:
        raise ValidationError("the account name is longer than 200 characters")
    if cleaned.casefold() == LOCAL_NAME:
        raise ValidationError(f"{cleaned!r} is reserved for the local operator; choose another name")
    return cleaned


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower case) that `check_password` refuses."""
    text = files("tracker").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """True when `password` (any case), or it without trailing digits and punctuation, is a common one."""
    folded = password.strip().casefold()
    stem = re.sub(r"[\d\W_]+$", "", folded)
    return folded in common_passwords() or stem in common_passwords() or len(set(folded)) <= 2


def check_password(password: str | None, name: str) -> str:
    """The password if it is acceptable, or a ValidationError saying why (it is never echoed)."""
    if password is None or password == "":
        raise ValidationError("the password is empty; there are no default passwords, choose one")
    if not password.strip():
        raise ValidationError("the password is only spaces; choose one with words or other characters")
    if len(re.sub(" {2,}", " ", password)) < MIN_PASSWORD:
        raise ValidationError(f"the password is shorter than {MIN_PASSWORD} characters (runs of spaces count as "
                              "one); a few words make a good one")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"the password is longer than {MAX_PASSWORD} characters")
    if password.strip().casefold() == name.strip().casefold():
        raise ValidationError("the password is the account name; choose another")
    if is_common(password):
        raise ValidationError("the password is one of the most common ones, which are guessed first; choose another")
    return password


def pause_after(attempts: int) -> timedelta | None:
    """How long sign-ins pause after `attempts` counted attempts in a row (None: no pause yet)."""
    if attempts < MAX_FAILED_LOGINS:
        return None
    return min(FIRST_PAUSE * 2 ** min(attempts - MAX_FAILED_LOGINS, 16), LOCKOUT)


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (salted; an encoded string holding its parameters)."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches `password_hash`."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than this release uses."""
    from argon2.exceptions import InvalidHashError

    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def new_token() -> str:
    """A fresh, unguessable session token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a session token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
