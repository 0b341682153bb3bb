"""Key files shared by the CLI and the browser wallet (issue 15.8): sealed in Python, opened by the browser's
keyfile.js under Node.js, and the other way round; altered files and wrong passphrases are refused."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from marketnode.core.keys import PrivateKey
from marketnode.node.web import STATIC_DIR
from marketnode.wallet.webkeystore import KeyFileError, open_keyfile, seal_keyfile

KEY = PrivateKey(bytes(range(32)))
FAST = 100_000  # the lowest count a file may ask for: keeps the tests quick


def test_a_sealed_key_file_opens_with_its_passphrase_only():
    doc = seal_keyfile(KEY, "correct horse", iterations=FAST)
    assert open_keyfile(doc, "correct horse").seed == KEY.seed
    assert KEY.seed.hex() not in json.dumps(doc)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        open_keyfile(doc, "wrong horse")


@pytest.mark.parametrize("field", ["ciphertext", "mac", "address"])
def test_an_altered_key_file_is_refused(field):
    doc = seal_keyfile(KEY, "pw-pw-pw-pw", iterations=FAST)
    doc[field] = ("00" * 32) if field != "address" else PrivateKey(bytes([9]) * 32).address
    with pytest.raises(KeyFileError):
        open_keyfile(doc, "pw-pw-pw-pw")


def test_a_file_asking_for_absurd_work_or_malformed_is_refused_before_any_work():
    doc = seal_keyfile(KEY, "pw-pw-pw-pw", iterations=FAST)
    with pytest.raises(KeyFileError, match="iterations"):
        open_keyfile({**doc, "kdf": {**doc["kdf"], "iterations": 10**12}}, "pw-pw-pw-pw")
    for bad in ({}, {**doc, "format": "other"}, {**doc, "ciphertext": "zz"}, {**doc, "cipher": None}):
        with pytest.raises(KeyFileError):
            open_keyfile(bad, "pw-pw-pw-pw")


OPEN_SCRIPT = """
const kf = await import(process.argv[1] + "/keyfile.js");
const { toHex } = await import(process.argv[1] + "/proof.js");
const [mode, arg, pass] = [process.argv[2], process.argv[3], process.argv[4]];
if (mode === "open") {
  const { seed, address } = await kf.openKeyfile(JSON.parse(arg), pass);
  console.log(JSON.stringify({ seed: toHex(seed), address }));
} else {
  const [seedHex, address] = arg.split(" ");
  const seed = Uint8Array.from(seedHex.match(/../g).map((h) => parseInt(h, 16)));
  console.log(JSON.stringify(await kf.sealKeyfile(seed, address, pass, { iterations: 100000 })));
}
"""


def node_js(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["node", "--input-type=module", "-e", OPEN_SCRIPT, str(STATIC_DIR), *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_python_and_the_browser_read_each_others_key_files():
    doc = seal_keyfile(KEY, "pässphrase", iterations=FAST)  # NFC on both sides
    opened = node_js("open", json.dumps(doc), "pässphrase")
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout) == {"seed": KEY.seed.hex(), "address": KEY.address}
    wrong = node_js("open", json.dumps(doc), "nope")
    assert wrong.returncode != 0 and "wrong passphrase" in wrong.stderr
    sealed = node_js("seal", f"{KEY.seed.hex()} {KEY.address}", "from the browser")
    assert sealed.returncode == 0, sealed.stderr
    assert open_keyfile(json.loads(sealed.stdout), "from the browser").seed == KEY.seed


def test_a_key_file_that_is_json_but_not_an_object_is_refused_by_name(tmp_path):
    from marketnode.wallet.webkeystore import read_keyfile

    path = tmp_path / "key.json"
    path.write_text("[1, 2]")
    with pytest.raises(KeyFileError, match="not a key file"):
        read_keyfile(path)
