// Encrypted messages in the browser (docs/PROTOCOL.md §11), with WebCrypto only: X25519, HKDF-SHA256,
// AES-256-GCM, Ed25519. Envelopes are opened and sealed here; the node only ever sees ciphertext.
// The random inputs (ephemeral secret, content key, nonce) may be given, so the test vectors can be
// reproduced byte for byte (tests/web/test_js_messages.py).

import { canonical, concat } from "./canonical.js";
import { fromHex, toHex } from "./proof.js";
import { t } from "./i18n.js";

const encoder = new TextEncoder();
const subtle = () => globalThis.crypto.subtle;
const P = 2n ** 255n - 19n;
const PKCS8_X25519_PREFIX = fromHex("302e020100300506032b656e04220420");
export const MAX_TEXT_BYTES = 4096;
const PAD_BLOCK = 256;

// ISO/IEC 7816-4 padding to whole blocks (docs/PROTOCOL.md §11.1): text ‖ 0x80 ‖ 0x00…
function pad(text) {
  const out = new Uint8Array(Math.ceil((text.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  out.set(text);
  out[text.length] = 0x80;
  return out;
}

function unpad(padded) {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  if (end === 0 || padded[end - 1] !== 0x80 || padded.length % PAD_BLOCK) throw new Error(t("the message's padding is malformed"));
  return padded.subarray(0, end - 1);
}

// --- a canonical msgpack decoder (the subset envelopes use), checked by re-encoding -------------

export function decode(bytes) {
  let at = 0;
  const take = (n) => {
    if (at + n > bytes.length) throw new Error(t("truncated"));
    const part = bytes.subarray(at, at + n);
    at += n;
    return part;
  };
  const uint = (n) => take(n).reduce((acc, b) => acc * 256n + BigInt(b), 0n);
  const small = (n) => Number(uint(n));
  const value = () => {
    const tag = take(1)[0];
    if (tag <= 0x7f) return tag;
    if (tag >= 0x80 && tag <= 0x8f) return map(tag & 0x0f);
    if (tag >= 0x90 && tag <= 0x9f) return list(tag & 0x0f);
    if (tag >= 0xa0 && tag <= 0xbf) return str(tag & 0x1f);
    if (tag >= 0xe0) return tag - 256;
    switch (tag) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return take(small(1)).slice();
      case 0xc5: return take(small(2)).slice();
      case 0xc6: return take(small(4)).slice();
      case 0xcc: return small(1);
      case 0xcd: return small(2);
      case 0xce: return small(4);
      case 0xcf: { const v = uint(8); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
      case 0xd9: return str(small(1));
      case 0xda: return str(small(2));
      case 0xdc: return list(small(2));
      case 0xde: return map(small(2));
      default: throw new Error(t("msgpack tag 0x{tag} is not used by envelopes", { tag: tag.toString(16) }));
    }
  };
  const str = (n) => new TextDecoder("utf-8", { fatal: true }).decode(take(n));
  const list = (n) => Array.from({ length: n }, value);
  const map = (n) => {
    const out = {};
    for (let i = 0; i < n; i++) {
      const key = value();
      if (typeof key !== "string") throw new Error(t("map key is not a string"));
      out[key] = value();
    }
    return out;
  };
  const out = value();
  if (at !== bytes.length) throw new Error(t("trailing bytes"));
  if (toHex(canonical(out)) !== toHex(bytes)) throw new Error(t("not in canonical form"));
  return out;
}

// --- keys ------------------------------------------------------------------------------------

function littleEndian(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function modPow(base, exp) {
  let result = 1n;
  let b = base % P;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

// The X25519 public key for an ed25519 one: u = (1 + y) / (1 - y) mod p (RFC 7748 §4.1).
export function edToX25519(publicKey) {
  const y = littleEndian(publicKey) & ((1n << 255n) - 1n);
  const u = ((1n + y) * modPow((1n - y + P) % P, P - 2n)) % P;
  const out = new Uint8Array(32);
  let rest = u;
  for (let i = 0; i < 32; i++) { out[i] = Number(rest & 0xffn); rest >>= 8n; }
  return out;
}

async function x25519Private(scalar) {
  return subtle().importKey("pkcs8", concat(PKCS8_X25519_PREFIX, scalar), { name: "X25519" }, true, ["deriveBits"]);
}

// The account's X25519 secret: the first 32 bytes of SHA-512(seed) (clamped by X25519 itself).
export async function boxKeyFromSeed(seed) {
  const hash = new Uint8Array(await subtle().digest("SHA-512", seed));
  return x25519Private(hash.slice(0, 32));
}

async function x25519(privateKey, publicBytes) {
  const peer = await subtle().importKey("raw", publicBytes, { name: "X25519" }, false, []);
  const shared = new Uint8Array(await subtle().deriveBits({ name: "X25519", public: peer }, privateKey, 256));
  if (shared.every((b) => b === 0)) throw new Error(t("the ephemeral key gives an all-zero shared secret"));
  return shared;
}

async function publicOf(privateKey) {
  const jwk = await subtle().exportKey("jwk", privateKey);
  return Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

async function wrapKey(shared, ephemeral, reader, chainId) {
  const ikm = await subtle().importKey("raw", shared, "HKDF", false, ["deriveBits"]);
  const bits = await subtle().deriveBits({ name: "HKDF", hash: "SHA-256", salt: concat(ephemeral, reader),
    info: encoder.encode(`marketnode-msg-key:${chainId}`) }, ikm, 256);
  return subtle().importKey("raw", bits, "AES-GCM", false, ["encrypt", "decrypt"]);
}

async function aesKey(raw) {
  return subtle().importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

const gcm = (iv, additionalData) => ({ name: "AES-GCM", iv, additionalData, tagLength: 128 });

// --- envelopes ---------------------------------------------------------------------------------

function headerOf(env) {
  const { ciphertext, sig, ...header } = env;
  return header;
}

function signingMessage(tag, chainId, unsigned) {
  return concat(encoder.encode(`marketnode-sig:${tag}:${chainId}:`), canonical(unsigned));
}

export async function messageId(raw) {
  return toHex(new Uint8Array(await subtle().digest("SHA-256", concat(encoder.encode("marketnode:message:"), raw))));
}

// Check shape, chain and signature of an envelope's bytes; returns the decoded envelope or throws.
export async function verifyEnvelope(raw, chainId) {
  const env = decode(raw);
  const names = Object.keys(env).sort().join(",");
  if (names !== "about,chain_id,ciphertext,ephemeral,keys,nonce,sender,sent_ms,sig,to,v") throw new Error(t("not an envelope"));
  if (env.v !== 1 || env.chain_id !== chainId) throw new Error(t("an envelope of another version or chain"));
  const { sig, ...unsigned } = env;
  const key = await subtle().importKey("raw", env.sender, { name: "Ed25519" }, false, ["verify"]);
  if (!(await subtle().verify({ name: "Ed25519" }, key, sig, signingMessage("message", chainId, unsigned)))) {
    throw new Error(t("the signature does not verify against the sender"));
  }
  return env;
}

// Open with a reader's keys ({publicKey: Uint8Array, boxKey: CryptoKey}); returns {env, text}.
export async function openEnvelope(raw, reader, chainId) {
  const env = await verifyEnvelope(raw, chainId);
  const mine = toHex(reader.publicKey);
  const entry = env.keys.find(([account]) => toHex(account) === mine);
  if (!entry) throw new Error(t("this account is not a reader of the message"));
  try {
    const wrap = await wrapKey(await x25519(reader.boxKey, env.ephemeral), env.ephemeral, reader.publicKey, chainId);
    const contentKey = new Uint8Array(await subtle().decrypt(gcm(new Uint8Array(12), new Uint8Array(0)), wrap, entry[1]));
    const plain = new Uint8Array(await subtle().decrypt(gcm(env.nonce, canonical(headerOf(env))), await aesKey(contentKey), env.ciphertext));
    return { env, text: new TextDecoder("utf-8", { fatal: true }).decode(unpad(plain)) };
  } catch (error) {
    throw new Error(t("the message does not decrypt ({why})", { why: error.message || error.name }));
  }
}

function compare(a, b) {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

// Seal `text` from `sender` ({publicKey, signingKey}) to `to` (ed25519 keys) about ["order"|"listing", id].
// `fixed` = {ephemeralSecret, contentKey, nonce} only for test vectors.
export async function sealEnvelope(sender, chainId, to, about, text, sentMs, fixed = {}) {
  const plain = encoder.encode(text);
  if (plain.length > MAX_TEXT_BYTES) throw new Error(t("a message holds at most {n} bytes of text", { n: MAX_TEXT_BYTES }));
  const rand = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));
  const esk = await x25519Private(fixed.ephemeralSecret ?? rand(32));
  const ephemeral = await publicOf(esk);
  const contentKey = fixed.contentKey ?? rand(32);
  const nonce = fixed.nonce ?? rand(12);
  const unique = (list) => [...new Map(list.map((k) => [toHex(k), k])).values()].sort(compare);
  const recipients = unique(to);
  const readers = unique([...recipients, sender.publicKey]);
  const keys = [];
  for (const reader of readers) {
    const wrap = await wrapKey(await x25519(esk, edToX25519(reader)), ephemeral, reader, chainId);
    keys.push([reader, new Uint8Array(await subtle().encrypt(gcm(new Uint8Array(12), new Uint8Array(0)), wrap, contentKey))]);
  }
  const header = { about, chain_id: chainId, ephemeral, keys, nonce, sender: sender.publicKey, sent_ms: sentMs,
    to: recipients, v: 1 };
  const ciphertext = new Uint8Array(await subtle().encrypt(gcm(nonce, canonical(header)), await aesKey(contentKey), pad(plain)));
  const unsigned = { ...header, ciphertext };
  const sig = new Uint8Array(await subtle().sign({ name: "Ed25519" }, sender.signingKey, signingMessage("message", chainId, unsigned)));
  return canonical({ ...unsigned, sig });
}

// A signed read marker for message ids (hex), by `reader` ({publicKey, signingKey}).
export async function readMarker(reader, chainId, ids, timeMs) {
  const sorted = [...new Set(ids)].sort().slice(0, 256).map(fromHex);
  const unsigned = { chain_id: chainId, ids: sorted, reader: reader.publicKey, time_ms: timeMs, v: 1 };
  const sig = new Uint8Array(await subtle().sign({ name: "Ed25519" }, reader.signingKey, signingMessage("message-read", chainId, unsigned)));
  return canonical({ ...unsigned, sig });
}
