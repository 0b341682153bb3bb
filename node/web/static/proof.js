// Checks done in the browser, trusting nothing but the validator set: a tx's Merkle inclusion
// proof against its block header (docs/PROTOCOL.md §7), the header's hash against the commit
// certificate, and the certificate's ed25519 COMMIT signatures (§6.3) where WebCrypto has Ed25519.

import { canonical, concat } from "./canonical.js";

const encoder = new TextEncoder();

export function fromHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
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

const HEADER_BYTES = new Set(["parent_hash", "proposer", "tx_root", "state_root", "last_cert_hash", "evidence_root"]);

export async function headerHash(header) {
  const entries = Object.fromEntries(Object.entries(header).map(([k, v]) => [k, HEADER_BYTES.has(k) ? fromHex(v) : v]));
  return toHex(await digest("header", canonical(entries)));
}

// The public key inside an mn1 address; throws on a typo (bad alphabet, length or checksum).
export async function publicKeyOf(address) {
  const body = String(address).trim().toLowerCase();
  if (!/^mn1[a-z2-7]{58}$/.test(body)) throw new Error(`${address} is not a marketnode address (mn1 + 58 base32 characters)`);
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of body.slice(3)) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  const key = toHex(Uint8Array.from(bytes.slice(0, 32)));
  if ((await addressOf(key)) !== body) throw new Error(`${address} has a bad checksum (mistyped?)`);
  return fromHex(key);
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
  const unsigned = canonical({
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
