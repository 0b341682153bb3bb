"""Which tx fields name off-chain content: the one table nodes read to keep and fetch blobs.

A committed tx of one of these kinds references the sha256 hashes in these
fields; nodes keep those blobs and fetch them from peers when they lack them
(docs/MARKET.md "Content"). Pure: reads a checked body, nothing else.
"""

from __future__ import annotations

from typing import Any

IMAGE, TEXT, ANY = "image", "text", "any"

# kind → ((field, what the blob must be), ...); a list field names several blobs.
CONTENT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "listing_create": (("images", IMAGE),),
    "listing_update": (("images", IMAGE),),
    "review": (("text_hash", TEXT), ("photo", IMAGE)),
    "review_reply": (("text_hash", TEXT),),
    "order_dispute": (("reason_hash", TEXT), ("evidence", ANY)),
    "order_respond": (("response_hash", TEXT), ("evidence", ANY)),
    "order_resolve": (("ruling_hash", TEXT),),
    "return_request": (("reason_hash", TEXT),),
    "return_resolve": (("ruling_hash", TEXT),),
}


def content_refs(kind: str, body: dict[str, Any]) -> list[tuple[bytes, str]]:
    """The (hash, expected kind) pairs a tx body references, in field order, without repeats."""
    out: list[tuple[bytes, str]] = []
    for name, expected in CONTENT_FIELDS.get(kind, ()):
        value = body.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bytes) and len(item) == 32 and all(item != h for h, _ in out):
                out.append((item, expected))
    return out
