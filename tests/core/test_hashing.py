"""Domain-separated hashing: the tag is part of every digest, and only known tags are allowed."""

from __future__ import annotations

import hashlib

import pytest

from marketnode.core.hashing import TAGS, digest, signing_message


def test_digest_is_sha256_of_prefix_tag_and_data():
    assert digest("tx", b"abc") == hashlib.sha256(b"marketnode:tx:abc").digest()


def test_every_tag_gives_a_different_digest_of_the_same_data():
    digests = {digest(tag, b"same") for tag in TAGS}
    assert len(digests) == len(TAGS)


def test_tags_never_hold_the_separator():
    """Only then does the ':' after the tag keep ("a", "b:x") from hashing like ("a:b", "x")."""
    assert all(":" not in tag for tag in TAGS)


def test_unknown_tags_are_refused():
    with pytest.raises(ValueError, match="unknown hash tag"):
        digest("vote", b"")


def test_signing_message_layout():
    assert signing_message("vote", "c-1", b"\x80") == b"marketnode-sig:vote:c-1:\x80"


def test_a_bound_hasher_is_digest_under_its_tag_and_refuses_unknown_tags() -> None:
    import pytest

    from marketnode.core.hashing import digest, hasher

    for tag in ("smt-node", "tx"):
        assert hasher(tag)(b"abc") == digest(tag, b"abc")
    assert hasher("smt-node")(b"abc") != digest("smt-leaf", b"abc")
    with pytest.raises(ValueError):
        hasher("no-such-tag")
