"""The encrypted keystore: round trip, wrong passphrase, mode 0600, tampering, hostile params."""

from __future__ import annotations

import json
import stat

import nacl.pwhash
import pytest

from marketnode.core.errors import ConfigError
from marketnode.core.keys import PrivateKey
from marketnode.wallet.keystore import (
    MAX_MEMLIMIT,
    KeystoreError,
    WrongPassphraseError,
    keystore_address,
    load_keystore,
    save_keystore,
    seal,
    unseal,
)

FAST = {"opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN, "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN}


@pytest.fixture
def key() -> PrivateKey:
    return PrivateKey(bytes(range(32)))


def test_round_trip_restores_the_same_key(tmp_path, key):
    path = tmp_path / "wallet" / "key.json"
    save_keystore(path, key, "correct horse", **FAST)
    assert load_keystore(path, "correct horse").seed == key.seed
    assert keystore_address(path) == key.address


def test_default_kdf_params_are_moderate_and_stored(key):
    doc = seal(key, "pw")
    assert doc["kdf"]["opslimit"] == nacl.pwhash.argon2id.OPSLIMIT_MODERATE
    assert doc["kdf"]["memlimit"] == nacl.pwhash.argon2id.MEMLIMIT_MODERATE
    assert unseal(doc, "pw").seed == key.seed


def test_file_is_owner_only_and_holds_no_seed(tmp_path, key):
    path = tmp_path / "key.json"
    save_keystore(path, key, "pw", **FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key.seed.hex() not in path.read_text()


def test_wrong_passphrase_is_a_clear_config_error(tmp_path, key):
    path = tmp_path / "key.json"
    save_keystore(path, key, "pw", **FAST)
    with pytest.raises(WrongPassphraseError, match="wrong passphrase") as info:
        load_keystore(path, "Pw")
    assert isinstance(info.value, ConfigError)
    assert key.address in str(info.value)


def test_unicode_passphrase_in_either_normal_form_opens_the_file(key):
    doc = seal(key, "caf\u00e9", **FAST)
    assert unseal(doc, "cafe\u0301").seed == key.seed


def test_existing_file_is_not_overwritten_by_accident(tmp_path, key):
    path = tmp_path / "key.json"
    save_keystore(path, key, "pw", **FAST)
    with pytest.raises(KeystoreError, match="already exists"):
        save_keystore(path, PrivateKey.generate(), "pw", **FAST)
    save_keystore(path, PrivateKey.generate(), "pw", overwrite=True, **FAST)


def test_empty_passphrase_is_refused(key):
    with pytest.raises(KeystoreError):
        seal(key, "", **FAST)


def _flip_hex(text: str) -> str:
    return ("0" if text[0] != "0" else "1") + text[1:]


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda d: d["cipher"].__setitem__("ciphertext", _flip_hex(d["cipher"]["ciphertext"])), WrongPassphraseError),
        (lambda d: d["cipher"].__setitem__("nonce", _flip_hex(d["cipher"]["nonce"])), WrongPassphraseError),
        (lambda d: d["kdf"].__setitem__("salt", _flip_hex(d["kdf"]["salt"])), WrongPassphraseError),
        (lambda d: d.__setitem__("address", PrivateKey(bytes(32)).address), KeystoreError),
        (lambda d: d["kdf"].__setitem__("memlimit", MAX_MEMLIMIT * 2), KeystoreError),
        (lambda d: d["kdf"].__setitem__("name", "scrypt"), KeystoreError),
        (lambda d: d.__setitem__("version", 2), KeystoreError),
        (lambda d: d["cipher"].__setitem__("ciphertext", "zz"), KeystoreError),
    ],
)
def test_tampered_file_is_refused(tmp_path, key, mutate, error):
    path = tmp_path / "key.json"
    save_keystore(path, key, "pw", **FAST)
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(error):
        load_keystore(path, "pw")


def test_missing_or_garbage_file_says_what_to_do(tmp_path):
    with pytest.raises(KeystoreError, match="marketnode wallet new"):
        load_keystore(tmp_path / "none.json", "pw")
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(KeystoreError, match="not JSON"):
        load_keystore(tmp_path / "junk.json", "pw")
