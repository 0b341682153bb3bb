// Key files shared with the command line (`marketnode wallet export` / `wallet import`): the 32-byte seed
// sealed with PBKDF2-HMAC-SHA256 and HMAC-SHA256, which both WebCrypto and Python's standard library have.
// The format and its reasons are in wallet/webkeystore.py and docs/WALLET.md; no DOM here (tested under Node.js).

import { concat } from "./canonical.js";
import { fromHex, toHex } from "./proof.js";
import { t } from "./i18n.js";

export const FORMAT = "marketnode-keyfile";
const VERSION = 1;
const ITERATIONS = 310_000;
const MIN_ITERATIONS = 100_000;
const MAX_ITERATIONS = 10_000_000;
const encoder = new TextEncoder();

async function keys(passphrase, salt, iterations) {
  if (!passphrase) throw new Error(t("enter the key file's passphrase"));
  const material = await crypto.subtle.importKey("raw", encoder.encode(passphrase.normalize("NFC")), "PBKDF2", false, ["deriveBits"]);
  const bits = new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 512));
  const hmacKey = (raw) => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return { enc: await hmacKey(bits.slice(0, 32)), mac: await hmacKey(bits.slice(32)) };
}

const hmac = async (key, data) => new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
const xor = (a, b) => a.map((byte, i) => byte ^ b[i]);
const macOf = (key, address, iv, ciphertext) => hmac(key, concat(encoder.encode(`${FORMAT}:v${VERSION}:${address}:`), iv, ciphertext));

// The key file document for `seed` (32 bytes) of `address`, sealed under `passphrase`.
export async function sealKeyfile(seed, address, passphrase, { iterations = ITERATIONS } = {}) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const { enc, mac } = await keys(passphrase, salt, iterations);
  const ciphertext = xor(seed, await hmac(enc, iv));
  return {
    format: FORMAT, version: VERSION, address,
    kdf: { name: "PBKDF2-HMAC-SHA256", iterations, salt: toHex(salt) },
    cipher: { name: "HMAC-SHA256-pad", iv: toHex(iv) },
    ciphertext: toHex(ciphertext), mac: toHex(await macOf(mac, address, iv, ciphertext)),
  };
}

// {seed, address} from a key file document; throws a readable Error when it is malformed, altered or the
// passphrase is wrong. The caller checks that the seed's address is `address`.
export async function openKeyfile(doc, passphrase) {
  if (!doc || doc.format !== FORMAT || doc.version !== VERSION) throw new Error(t("not a {format} file (export one with `marketnode wallet export`)", { format: FORMAT }));
  const iterations = Number(doc.kdf?.iterations);
  if (!(iterations >= MIN_ITERATIONS && iterations <= MAX_ITERATIONS)) throw new Error(t("the key file asks for an unreasonable PBKDF2 iteration count"));
  const hex = (value) => {
    if (typeof value !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) throw new Error(t("a malformed key file"));
    return fromHex(value.toLowerCase());
  };
  const [salt, iv, ciphertext, tag] = [doc.kdf?.salt, doc.cipher?.iv, doc.ciphertext, doc.mac].map(hex);
  if (salt.length !== 16 || iv.length !== 16 || ciphertext.length !== 32 || tag.length !== 32) throw new Error(t("a malformed key file"));
  const { enc, mac } = await keys(passphrase, salt, iterations);
  const expected = await macOf(mac, String(doc.address), iv, ciphertext);
  if (toHex(expected) !== toHex(tag)) throw new Error(t("wrong passphrase (or the key file was altered)"));
  return { seed: xor(ciphertext, await hmac(enc, iv)), address: String(doc.address) };
}
