"""Keys and addresses: deterministic from the seed, typos caught, secrets written owner-only."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.core.errors import ConfigError, ValidationError
from marketnode.core.hashing import digest
from marketnode.core.keys import (
    PrivateKey,
    address_from_pubkey,
    check_chain_id,
    curve25519_public,
    pubkey_from_address,
    verify,
    write_secret_file,
)

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
KEY = PrivateKey(bytes([1]) * 32)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_address_round_trips_for_any_public_key(public_key):
    address = address_from_pubkey(public_key)
    assert len(address) == 61 and address.startswith("mn1")
    assert pubkey_from_address(address) == public_key


def test_address_is_prefix_and_base32_of_key_and_checksum():
    import base64

    checksum = digest("address", b"mn" + KEY.public_key)[:4]
    body = base64.b32encode(KEY.public_key + checksum).decode().lower().rstrip("=")
    assert KEY.address == "mn1" + body


def test_every_single_character_typo_in_an_address_is_caught():
    address = KEY.address
    for position in range(3, len(address)):
        for char in BASE32:
            if char == address[position]:
                continue
            typo = address[:position] + char + address[position + 1:]
            with pytest.raises(ValidationError):
                pubkey_from_address(typo)


@pytest.mark.parametrize(
    "bad",
    [lambda a: a.upper(), lambda a: a[:-1], lambda a: a + "a", lambda a: "mx1" + a[3:], lambda a: a[:10] + "1" + a[11:],
     lambda a: a + "\n", lambda a: " " + a, lambda a: ""],
    ids=["upper", "short", "long", "prefix", "not-base32", "trailing-newline", "leading-space", "empty"],
)
def test_malformed_addresses_are_refused(bad):
    with pytest.raises(ValidationError):
        pubkey_from_address(bad(KEY.address))


def test_a_non_string_address_is_refused():
    with pytest.raises(ValidationError):
        pubkey_from_address(KEY.public_key)  # type: ignore[arg-type]


def test_address_needs_a_32_byte_key():
    with pytest.raises(ValidationError):
        address_from_pubkey(bytes(31))


def test_key_is_determined_by_its_seed():
    again = PrivateKey(KEY.seed)
    assert (again.public_key, again.address) == (KEY.public_key, KEY.address)
    assert again.sign(b"m") == KEY.sign(b"m")


def test_seed_must_be_32_bytes():
    with pytest.raises(ValidationError):
        PrivateKey(bytes(31))


def test_generated_keys_differ_and_sign():
    a, b = PrivateKey.generate(), PrivateKey.generate()
    assert a.seed != b.seed
    assert verify(a.public_key, b"m", a.sign(b"m"))


def test_verify_is_false_for_wrong_sizes_instead_of_raising():
    sig = KEY.sign(b"m")
    assert not verify(KEY.public_key[:31], b"m", sig)
    assert not verify(KEY.public_key, b"m", sig[:63])


def test_saved_key_is_owner_only_and_loads_back(tmp_path):
    path = tmp_path / "keys" / "node.key"
    KEY.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PrivateKey.load(path).seed == KEY.seed


def test_saving_over_a_stale_readable_temp_file_still_writes_mode_0600(tmp_path):
    path = tmp_path / "node.key"
    stale = tmp_path / "node.key.tmp"
    stale.write_text("left by a crash")
    os.chmod(stale, 0o644)
    KEY.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_saving_replaces_an_existing_readable_key_file_with_an_owner_only_one(tmp_path):
    path = tmp_path / "node.key"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_secret_file(path, b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == b"new"


def test_loading_a_missing_key_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        PrivateKey.load(tmp_path / "absent.key")


@pytest.mark.parametrize("content", ["not hex", "00" * 31, ""], ids=["not-hex", "short", "empty"])
def test_loading_a_key_file_without_a_hex_seed_is_a_config_error(tmp_path, content):
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(ConfigError):
        PrivateKey.load(path)


def test_x25519_keys_derived_from_one_ed25519_key_match():
    from nacl.public import PrivateKey as BoxKey

    assert bytes(BoxKey(KEY.curve25519_private()).public_key) == curve25519_public(KEY.public_key)


@pytest.mark.parametrize("chain_id", ["a", "marketnode-testnet-1", "0" * 64])
def test_valid_chain_ids(chain_id):
    assert check_chain_id(chain_id) == chain_id


@pytest.mark.parametrize("chain_id", ["", "-a", "A", "a_b", "a\n", "a" * 65, 5])
def test_invalid_chain_ids(chain_id):
    with pytest.raises(ValidationError):
        check_chain_id(chain_id)
