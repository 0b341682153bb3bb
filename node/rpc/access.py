"""Which web pages may use this node's RPC: the Content-Type, Host and Origin rules against CSRF and DNS rebinding.

A browser lets any page POST ``text/plain``, forms and multipart to any
address without asking the server first (no CORS preflight), and lets any
page open a websocket; a page served from a name that resolves to 127.0.0.1
(DNS rebinding) even counts as same-origin. So: a JSON-RPC POST must be
``Content-Type: application/json`` (a foreign page can send that only after a
preflight this node does not grant); a Host that is a *name* must be on the
allow-list (an IP literal cannot be rebound); a request that carries an
Origin must come from the node's own pages (Origin host:port == Host) or an
allowed origin. Wallets, the CLI and curl send no Origin and are unaffected.
Pure functions of header values: no aiohttp here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

JSON_CONTENT_TYPES = ("application/json", "application/json-rpc", "application/jsonrequest")
LOOPBACK_NAMES = ("localhost",)
ANY = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def content_type_problem(content_type: str) -> str | None:
    """Why a POST with this (parameter-free, lower-case) media type is not JSON-RPC, or None."""
    if content_type in JSON_CONTENT_TYPES:
        return None
    sent = content_type or "none"
    return f"send JSON-RPC with Content-Type: application/json (this request has {sent})"


def _host_port(authority: str, scheme: str = "http") -> tuple[str, int] | None:
    """(lower-case host without brackets, port) of ``host[:port]``; None when it does not parse."""
    try:
        parts = urlsplit(f"//{authority}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.username is not None or parts.path or parts.query:
        return None
    return host, port if port is not None else _DEFAULT_PORTS.get(scheme, 80)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """``allowed_hosts``: host names (no port) accepted in Host besides IP literals and localhost;
    ``allowed_origins``: origins (``https://wallet.example``) allowed besides the node's own pages.
    ``"*"`` in either allows any."""

    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, section: Any) -> AccessPolicy:
        """From an object with same-named attributes (node.config.RpcSection)."""
        hosts = tuple(h.strip().lower() for h in getattr(section, "allowed_hosts", ()))
        origins = tuple(o.strip().rstrip("/").lower() for o in getattr(section, "allowed_origins", ()))
        return cls(hosts, origins)

    def host_problem(self, host_header: str | None) -> str | None:
        """Why this Host header is refused (DNS rebinding), or None. No Host (not a browser): allowed."""
        if host_header is None or ANY in self.allowed_hosts:
            return None
        parsed = _host_port(host_header)
        if parsed is None:
            return f"Host {host_header[:100]!r} does not parse"
        host = parsed[0]
        if _is_ip(host) or host in LOOPBACK_NAMES or host.endswith(".localhost") or host in self.allowed_hosts:
            return None
        return f"Host {host!r} is not allowed: reach the node by IP address or localhost, or add it to rpc.allowed_hosts"

    def origin_allowed_by_list(self, origin: str) -> bool:
        return ANY in self.allowed_origins or origin.rstrip("/").lower() in self.allowed_origins

    def origin_problem(self, origin: str | None, host_header: str | None) -> str | None:
        """Why a request from a page at ``origin`` is refused (CSRF), or None. No Origin: allowed."""
        if origin is None or self.origin_allowed_by_list(origin):
            return None
        if host_header is not None and same_origin(origin, host_header):
            return None
        return f"origin {origin[:100]!r} is not allowed: only this node's own pages, or rpc.allowed_origins"


def same_origin(origin: str, host_header: str) -> bool:
    """True when a page at ``origin`` was served from the host:port the request was sent to."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    page = _host_port(parts.netloc, parts.scheme)
    target = _host_port(host_header, parts.scheme)
    return page is not None and page == target
