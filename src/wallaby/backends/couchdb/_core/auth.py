"""How a Server proves who it is: one small object per scheme, asked by ``Http``.

Rules kept here:

- An Auth object gives the headers of a request. Fixed ones (Basic, proxy,
  a JWT string) are merged once into ``Http``'s headers; per-request ones (a
  session cookie, a JWT from a callable) come from ``headers()``, which
  returns them with a stamp naming what was sent.
- A per-request Auth sees every response (``answered``: CouchDB renews a
  session cookie with ``Set-Cookie`` as it nears expiry) and every 401
  (``renew``: is there something new to send, so that the request is worth
  sending again?). ``Http`` decides whether a request may be sent again.
- A session cookie is reused until it expires: one ``POST /_session`` per
  session, shared by concurrent requests, never one per request. A 401 with
  a cookie is checked with ``GET /_session`` before logging in again: a user
  who is merely not allowed costs one cheap request, not a password hash.
- No credential appears in a repr, a message or a log line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from .checks import text
from .errors import CouchDBError, InvalidArgument, InvalidType, ProtocolError, error_from_response
from .json import JSON_TYPE, JSONDecodeError, dumps, loads
from .runtime import Response, Runtime, Timeouts, Waiter

__all__ = ["Auth", "BasicAuth", "BearerAuth", "CookieAuth", "ProxyAuth", "Sender", "make_auth"]

_COOKIE = "AuthSession"


class Sender(Protocol):
    """What an Auth sends its own requests with (a login): the runtime, the URL, the timeouts."""

    runtime: Runtime
    timeouts: Timeouts

    def url(self, path: str, query: str = "") -> str: ...


def _header_safe(value: str, what: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise InvalidArgument(f"{what} must not hold line breaks")
    return value


class Auth:
    """No per-request work: the headers of ``fixed_headers()`` go on every request."""

    __slots__ = ("user",)
    scheme = "none"
    dynamic = False

    def __init__(self, user: str | None = None) -> None:
        self.user = user

    def __repr__(self) -> str:
        who = f" {self.user!r}" if self.user else ""
        return f"<{type(self).__name__}{who}>"

    def fixed_headers(self) -> dict[str, str]:
        return {}

    def credentials(self) -> tuple[str, str] | None:
        """The user and password this Auth logs in with, if it has them (never shown)."""
        return None

    async def headers(self, http: Sender) -> tuple[Mapping[str, str], object]:
        """Per-request headers, and a stamp naming them for ``renew``."""
        return {}, None

    def answered(self, response: Response) -> None:
        """See a response (its ``Set-Cookie``)."""

    async def renew(self, http: Sender, stamp: object) -> bool:
        """After a 401 to headers ``stamp``: is there something new to send?"""
        return False


class BasicAuth(Auth):
    """HTTP Basic: the user and password on every request."""

    __slots__ = ("_header", "_password")
    scheme = "basic"

    def __init__(self, user: str, password: str | None) -> None:
        super().__init__(text(user, "user"))
        self._password = "" if password is None else text(password, "password")
        token = base64.b64encode(f"{user}:{self._password}".encode()).decode("ascii")
        self._header = f"Basic {token}"

    def fixed_headers(self) -> dict[str, str]:
        return {"Authorization": self._header}

    def credentials(self) -> tuple[str, str]:
        return self.user or "", self._password


class ProxyAuth(Auth):
    """CouchDB's proxy authentication: the user and roles named in headers.

    With a secret, ``X-Auth-CouchDB-Token`` is the hex HMAC-SHA1 of the user
    name keyed by it (CouchDB's ``chttpd_auth/secret``, checked when
    ``proxy_use_secret`` is on; SHA-1 is in the default ``hash_algorithms``).
    """

    __slots__ = ("_headers",)
    scheme = "proxy"

    def __init__(self, user: str, roles: Iterable[str] = (), secret: str | None = None) -> None:
        super().__init__(_header_safe(text(user, "proxy_user"), "proxy_user"))
        if isinstance(roles, (str, bytes)) or not isinstance(roles, Iterable):
            raise InvalidType(f"proxy_roles must be a list of str, not {type(roles).__name__}")
        roles = [_header_safe(text(role, "each proxy role"), "a proxy role") for role in roles]
        for role in roles:
            if "," in role or not role.strip():
                raise InvalidArgument(f"a proxy role must be non-empty and hold no comma, not {role!r}")
        self._headers = {"X-Auth-CouchDB-UserName": user}
        if roles:
            self._headers["X-Auth-CouchDB-Roles"] = ",".join(roles)
        if secret is not None:
            key = text(secret, "proxy_secret").encode()
            self._headers["X-Auth-CouchDB-Token"] = hmac.new(key, user.encode(), hashlib.sha1).hexdigest()

    def fixed_headers(self) -> dict[str, str]:
        return dict(self._headers)


class BearerAuth(Auth):
    """A JWT (``Authorization: Bearer``): a str, or a callable returning the current one.

    The callable (plain or returning an awaitable) is asked before every
    request, so it decides when to fetch a new token; after a 401 it is asked
    once more, and a different token is worth sending again.
    """

    __slots__ = ("_token", "dynamic")
    scheme = "bearer"

    def __init__(self, token: str | Callable[[], Any]) -> None:
        super().__init__(None)
        if isinstance(token, str):
            self._token: Any = _header_safe(self._check(token), "token")
            self.dynamic = False
        elif callable(token):
            self._token = token
            self.dynamic = True
        else:
            raise InvalidType(f"token must be a str or a callable returning one, not {type(token).__name__}")

    @staticmethod
    def _check(token: object) -> str:
        if not isinstance(token, str):
            raise InvalidType(f"the token must be a str, not {type(token).__name__}")
        if not token or any(c in token for c in " \r\n\0"):
            raise InvalidArgument("the token must be a non-empty str without spaces or line breaks")
        return token

    def fixed_headers(self) -> dict[str, str]:
        return {} if self.dynamic else {"Authorization": f"Bearer {self._token}"}

    async def _current(self, http: Sender) -> str:
        token = self._token()
        if http.runtime.is_awaitable(token):
            token = await token
        return self._check(token)

    async def headers(self, http: Sender) -> tuple[Mapping[str, str], object]:
        token = await self._current(http)
        return {"Authorization": f"Bearer {token}"}, token

    async def renew(self, http: Sender, stamp: object) -> bool:
        return await self._current(http) != stamp


def auth_session_cookie(set_cookie: str) -> tuple[str, float | None] | None:
    """``AuthSession=v; Max-Age=600; ...`` -> (``v``, 600.0); None for another cookie."""
    first, *attributes = set_cookie.split(";")
    name, equals, value = first.partition("=")
    if not equals or name.strip() != _COOKIE:
        return None
    max_age = None
    for attribute in attributes:
        key, _, number = attribute.partition("=")
        if key.strip().lower() == "max-age":
            try:
                max_age = float(number.strip())
            except ValueError:
                pass
    return value.strip().strip('"'), max_age


class CookieAuth(Auth):
    """A CouchDB session: ``POST /_session`` once, then the ``AuthSession`` cookie.

    The cookie is replaced whenever a response sets a new one (CouchDB does
    as the session nears its end); when its ``Max-Age`` has (nearly) run out,
    the next request logs in first. A 401 that ``GET /_session`` shows to be
    an ended session logs in again; ``Http`` then sends the request again if
    that is safe.
    """

    __slots__ = (
        "_password",
        "_cookie",
        "_expires",
        "_generation",
        "_attempts",
        "_busy",
        "_failure",
        "_clock",
        "logins",
    )
    scheme = "cookie"
    dynamic = True

    def __init__(self, user: str, password: str | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(text(user, "user"))
        self._password = "" if password is None else text(password, "password")
        self._cookie: str | None = None
        self._expires: float | None = None
        self._generation = 0  # counts logins: a request sent with an older cookie just retries
        self._attempts = 0  # counts renewals begun, so that waiters know whose failure to share
        self._busy: Waiter | None = None
        self._failure: tuple[int, CouchDBError] | None = None
        self._clock = clock
        self.logins = 0

    def credentials(self) -> tuple[str, str]:
        return self.user or "", self._password

    def _keep(self, value: str, max_age: float | None) -> None:
        if not value:  # CouchDB ends a session with an empty cookie
            self._cookie = self._expires = None
            return
        self._cookie = value
        if max_age is None:
            self._expires = None
        else:  # log in again a little early rather than send a cookie about to expire
            self._expires = self._clock() + max_age - min(max_age * 0.1, 30.0)

    def answered(self, response: Response) -> None:
        for header in response.header_values("Set-Cookie"):
            found = auth_session_cookie(header)
            if found is not None:
                self._keep(*found)

    async def headers(self, http: Sender) -> tuple[Mapping[str, str], object]:
        if self._cookie is None or (self._expires is not None and self._clock() >= self._expires):
            await self._once(http, self._generation, check=False)
        return {"Cookie": f"{_COOKIE}={self._cookie}"}, self._generation

    async def renew(self, http: Sender, stamp: object) -> bool:
        return await self._once(http, stamp, check=True)

    async def _once(self, http: Sender, generation: object, *, check: bool) -> bool:
        """Log in again unless another request did since ``generation``; one at a time."""
        waited = None
        while self._busy is not None:
            waited = self._attempts
            await self._busy.wait()
        if self._generation != generation and self._cookie is not None:
            return True
        if waited is not None and self._failure is not None and self._failure[0] == waited:
            fn, args = self._failure[1].__reduce__()[:2]  # the login this request waited for failed
            raise fn(*args)
        waiter = self._busy = http.runtime.new_waiter()
        self._attempts += 1
        try:
            if check and self._cookie is not None and await self._still_valid(http):
                return False
            try:
                await self.login(http)
            except CouchDBError as exc:
                self._failure = (self._attempts, exc)
                raise
            return True
        finally:
            self._busy = None
            waiter.fire()

    async def _still_valid(self, http: Sender) -> bool:
        """``GET /_session`` with the cookie: does CouchDB still know this user?"""
        headers = {"Accept": JSON_TYPE, "Cookie": f"{_COOKIE}={self._cookie}"}
        response = await http.runtime.request("GET", http.url("/_session"), headers, None, http.timeouts.read)
        self.answered(response)
        raw = await response.read()
        if response.status != 200:
            return False
        try:
            name = (loads(raw).get("userCtx") or {}).get("name")
        except (JSONDecodeError, AttributeError):
            return False
        return name == self.user

    async def login(self, http: Sender) -> dict[str, Any]:
        """``POST /_session`` with the name and password as JSON; keep the cookie."""
        url = http.url("/_session")
        headers = {"Accept": JSON_TYPE, "Content-Type": JSON_TYPE}
        body = dumps({"name": self.user, "password": self._password})
        response = await http.runtime.request("POST", url, headers, body, http.timeouts.read)
        raw = await response.read()
        try:
            answer = loads(raw) if raw else None
        except JSONDecodeError:
            answer = {"reason": raw.decode("utf-8", "replace").strip()[:300]}
        if response.status >= 400:
            raise error_from_response(response.status, answer, "POST", url)
        self._cookie = None
        self.answered(response)
        if self._cookie is None:
            raise ProtocolError(
                "the server answered without an AuthSession cookie: is cookie authentication on?",
                status=response.status,
                method="POST",
                url=url,
            )
        self._generation += 1
        self._failure = None
        self.logins += 1
        return answer if isinstance(answer, dict) else {}


def make_auth(
    user: str | None,
    password: str | None,
    *,
    auth: str | None = None,
    token: Any = None,
    proxy_user: str | None = None,
    proxy_roles: Iterable[str] = (),
    proxy_secret: str | None = None,
) -> Auth | None:
    """The Auth a Server's arguments ask for (None: anonymous), or InvalidArgument."""
    if auth not in (None, "basic", "cookie"):
        raise InvalidArgument(f"auth must be 'basic' or 'cookie', not {auth!r}")
    if token is not None:
        if user is not None or proxy_user is not None or auth is not None:
            raise InvalidArgument("a token replaces user/password, auth and proxy_user: give one way to authenticate")
        return BearerAuth(token)
    if proxy_user is not None:
        if user is not None or auth is not None:
            raise InvalidArgument("proxy_user replaces user/password and auth: give one way to authenticate")
        return ProxyAuth(proxy_user, proxy_roles, proxy_secret)
    if proxy_roles or proxy_secret is not None:
        raise InvalidArgument("proxy_roles and proxy_secret need proxy_user")
    if user is None:
        if auth is not None:
            raise InvalidArgument(f"auth={auth!r} needs a user and password")
        return None
    if auth == "cookie":
        return CookieAuth(user, password)
    return BasicAuth(user, password)
