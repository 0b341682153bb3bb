// Checks done in the browser, trusting nothing but the validator set: a tx's Merkle inclusion
// proof against its block header (docs/PROTOCOL.md §7), the header's hash against the commit
// certificate, and the certificate's ed25519 COMMIT signatures (§6.3) where WebCrypto has Ed25519.

const encoder = new TextEncoder();

export function fromHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// digest(tag, data) = sha256("marketnode:" ‖ tag ‖ ":" ‖ data)
export function digest(tag, data) {
  return sha256(concat(encoder.encode(`marketnode:${tag}:`), data));
}

const leaf = (item) => digest("merkle-leaf", item);
const node = (left, right) => digest("merkle-node", concat(left, right));

// The proof verification of §7; `size` must come from the signed header's tx_count.
export async function verifyInclusion(rootHex, itemHex, proof, size) {
  const { index } = proof;
  if (proof.size !== size || !(index >= 0 && index < size)) return false;
  let hash = await leaf(fromHex(itemHex));
  let i = index;
  let width = size;
  const path = proof.path.map(fromHex);
  let step = 0;
  while (width > 1) {
    if ((i ^ 1) < width) {
      if (step >= path.length) return false;
      const sibling = path[step++];
      hash = i & 1 ? await node(sibling, hash) : await node(hash, sibling);
    }
    width = Math.ceil(width / 2);
    i = Math.floor(i / 2);
  }
  return step === path.length && toHex(hash) === rootHex;
}

// An account's mn1 address from its public key (core/keys.py): base32 of key ‖ 4-byte checksum.
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
export async function addressOf(publicKeyHex) {
  const key = fromHex(publicKeyHex);
  const checksum = (await digest("address", concat(encoder.encode("mn"), key))).slice(0, 4);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of concat(key, checksum)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return `mn1${out}`;
}

// --- canonical msgpack (§1), for the few value types headers and votes hold -------------------

function uint(n) {
  const value = BigInt(n);
  if (value < 0n) throw new Error("only unsigned integers are needed here");
  if (value < 128n) return Uint8Array.of(Number(value));
  for (const [limit, tag, size] of [[0xffn, 0xcc, 1], [0xffffn, 0xcd, 2], [0xffffffffn, 0xce, 4], [0xffffffffffffffffn, 0xcf, 8]]) {
    if (value <= limit) {
      const out = new Uint8Array(1 + size);
      out[0] = tag;
      for (let i = 0; i < size; i++) out[size - i] = Number((value >> BigInt(8 * i)) & 0xffn);
      return out;
    }
  }
  throw new Error("integer out of range");
}

function lengthPrefix(fix, fixMax, tags, length) {
  if (fix !== null && length <= fixMax) return Uint8Array.of(fix | length);
  const [tag8, tag16, tag32] = tags;
  if (tag8 !== null && length <= 0xff) return Uint8Array.of(tag8, length);
  if (length <= 0xffff) return Uint8Array.of(tag16, length >> 8, length & 0xff);
  return Uint8Array.of(tag32, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
}

// Encode a map whose values are {bytes: Uint8Array} | string | integer, keys sorted by UTF-8 bytes.
export function canonicalMap(entries) {
  const keys = Object.keys(entries).map((k) => [k, encoder.encode(k)]);
  keys.sort(([, a], [, b]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  const parts = [lengthPrefix(0x80, 15, [null, 0xde, 0xdf], keys.length)];
  for (const [key, keyBytes] of keys) {
    parts.push(lengthPrefix(0xa0, 31, [0xd9, 0xda, 0xdb], keyBytes.length), keyBytes);
    const value = entries[key];
    if (value instanceof Uint8Array) parts.push(lengthPrefix(null, -1, [0xc4, 0xc5, 0xc6], value.length), value);
    else if (typeof value === "string") {
      const text = encoder.encode(value);
      parts.push(lengthPrefix(0xa0, 31, [0xd9, 0xda, 0xdb], text.length), text);
    } else parts.push(uint(value));
  }
  return concat(...parts);
}

const HEADER_BYTES = new Set(["parent_hash", "proposer", "tx_root", "state_root", "last_cert_hash", "evidence_root"]);

export async function headerHash(header) {
  const entries = Object.fromEntries(Object.entries(header).map(([k, v]) => [k, HEADER_BYTES.has(k) ? fromHex(v) : v]));
  return toHex(await digest("header", canonicalMap(entries)));
}

// --- ed25519 certificate signatures -----------------------------------------------------------

let ed25519Support = null;
export function hasEd25519() {
  ed25519Support ??= (async () => {
    try {
      await crypto.subtle.importKey("raw", new Uint8Array(32).fill(1), { name: "Ed25519" }, false, ["verify"]);
      return true;
    } catch {
      return false;
    }
  })();
  return ed25519Support;
}

function voteMessage(cert, validatorHex) {
  const unsigned = canonicalMap({
    block_hash: fromHex(cert.block_hash), chain_id: cert.chain_id, height: cert.height, phase: 2,
    validator: fromHex(validatorHex), view: cert.view,
  });
  return concat(encoder.encode(`marketnode-sig:vote:${cert.chain_id}:`), unsigned);
}

// Per signer: {validator, valid: true | false | null (cannot check here)}, and whether a quorum signed.
export async function verifyCertificate(cert, validatorKeys) {
  const known = new Set(validatorKeys);
  const supported = await hasEd25519();
  const signers = [];
  for (const [validator, sig] of cert.signatures) {
    let valid = null;
    if (!known.has(validator)) valid = false;
    else if (supported) {
      try {
        const key = await crypto.subtle.importKey("raw", fromHex(validator), { name: "Ed25519" }, false, ["verify"]);
        valid = await crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(sig), voteMessage(cert, validator));
      } catch {
        valid = false;
      }
    }
    signers.push({ validator, valid });
  }
  const n = validatorKeys.length;
  const f = Math.floor((n - 1) / 3);
  const quorum = Math.floor((n + f) / 2) + 1;
  const distinct = new Set(signers.filter((s) => s.valid !== false).map((s) => s.validator)).size;
  return { supported, signers, quorum, quorumMet: distinct >= quorum && signers.every((s) => s.valid !== false) };
}
