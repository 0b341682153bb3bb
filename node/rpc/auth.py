"""The admin token gate: who may call methods declared ``admin=True``.

HTTP callers send ``Authorization: Bearer <token>``; websocket callers send the
same header on the upgrade request, or call ``rpc_authenticate`` (browsers
cannot set headers on a websocket). No token (None or "") → admin disabled; a token
shorter than 16 characters is refused at startup.
"""

from __future__ import annotations

import hmac


class AdminAuth:
    """Compares presented tokens with the configured one in constant time."""

    __slots__ = ("_token",)

    def __init__(self, token: str | None) -> None:
        token = token or None  # "" (the config default) means admin disabled
        if token is not None and len(token) < 16:
            raise ValueError("an admin token must be at least 16 characters")
        self._token = token

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def check(self, presented: str | None) -> bool:
        if self._token is None or not isinstance(presented, str):
            return False
        return hmac.compare_digest(presented.encode(), self._token.encode())

    def check_header(self, authorization: str | None) -> bool:
        """True for ``Authorization: Bearer <the token>``."""
        if not authorization:
            return False
        scheme, _, value = authorization.partition(" ")
        return scheme.lower() == "bearer" and self.check(value.strip())
