"""Who is asking: Telegram's signed initData, and signed, expiring photo links.

Telegram hands a Mini App `initData`, a query string signed by the bot's token:
`hash` = HMAC-SHA256(key = HMAC-SHA256(key="WebAppData", msg=token), msg=data-check-string),
where the data-check-string is every other field as `key=value`, sorted, joined by newlines.
Data older than `MAX_AGE` is refused, so a copied link stops working within a day.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

MAX_AGE = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=5)  # an auth_date this far in the future is still accepted
PHOTO_LINK_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class WebUser:
    telegram_id: int
    auth_date: datetime


def _secret(token: str) -> bytes:
    return hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()


def sign_init_data(fields: dict[str, str], token: str) -> str:
    """initData as Telegram would write it (tests and the demo use this)."""
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    digest = hmac.new(_secret(token), check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def init_data_for(telegram_id: int, token: str, auth_date: datetime, **user: str) -> str:
    """Signed initData for a Telegram user (tests and the demo)."""
    fields = {
        "auth_date": str(int(auth_date.timestamp())),
        "query_id": "AAE-demo",
        "user": json.dumps({"id": telegram_id, "first_name": "Staff", **user}),
    }
    return sign_init_data(fields, token)


def check_init_data(init_data: str, token: str, now: datetime) -> WebUser | None:
    """The Telegram user initData vouches for, or None when it is malformed, not signed with
    this bot's token, older than a day, or names no user."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a field twice: ambiguous, refuse
        return None
    received = fields.pop("hash", "")
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    expected = hmac.new(_secret(token), check.encode(), hashlib.sha256).hexdigest()
    if not received or not hmac.compare_digest(expected, received):
        return None
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), tz=now.tzinfo)
        user_id = int(json.loads(fields["user"])["id"])
    except (KeyError, ValueError, TypeError):
        return None
    if not now - MAX_AGE <= auth_date <= now + CLOCK_SKEW:
        return None
    return WebUser(user_id, auth_date)


def _link_key(token: str) -> bytes:
    """A key of its own for photo links, derived from the token (never the token itself)."""
    return hmac.new(token.encode(), b"hoctap photo links", hashlib.sha256).digest()


def link_signature(path: str, expires: int, token: str) -> str:
    message = f"{path}\n{expires}".encode()
    return hmac.new(_link_key(token), message, hashlib.sha256).hexdigest()[:32]


def sign_link(path: str, token: str, now: datetime) -> str:
    """`path?exp=…&sig=…`, valid for PHOTO_LINK_LIFETIME."""
    expires = int((now + PHOTO_LINK_LIFETIME).timestamp())
    return f"{path}?{urlencode({'exp': expires, 'sig': link_signature(path, expires, token)})}"


def link_valid(path: str, expires: str, signature: str, token: str, now: datetime) -> bool:
    try:
        moment = int(expires)
    except ValueError:
        return False
    if moment < now.timestamp():
        return False
    return hmac.compare_digest(link_signature(path, moment, token), signature)
