// Signing a tx with one or several keys (docs/PROTOCOL.md §5 and §13): the sender's own key alone gives
// `sig`; any other signing (a rotated account's key, k of a multi-key account's keys) gives `sigs`, a list of
// [public key, signature] sorted by key. Every key signs the same message. No DOM (tested under Node.js).

import { canonical, concat } from "./canonical.js";
import { t } from "./i18n.js";

const encoder = new TextEncoder();

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const sameBytes = (a, b) => a.length === b.length && compareBytes(a, b) === 0;

// The bytes every signer signs for `unsigned` ({body, chain_id, fee, kind, nonce, sender}).
export function signingMessage(unsigned) {
  return concat(encoder.encode(`marketnode-sig:tx:${unsigned.chain_id}:`), canonical(unsigned));
}

// The signed tx's canonical bytes; `signers` are [{publicKey: Uint8Array, signingKey: CryptoKey}], one per key.
export async function signWith(unsigned, signers) {
  if (!signers.length) throw new Error(t("a tx needs at least one signature"));
  if (signers.length > 16) throw new Error(t("a tx carries at most 16 signatures"));
  const message = signingMessage(unsigned);
  const pairs = [];
  for (const { publicKey, signingKey } of signers) {
    if (pairs.some(([key]) => sameBytes(key, publicKey))) throw new Error(t("a key signs once"));
    pairs.push([publicKey, new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signingKey, message))]);
  }
  if (pairs.length === 1 && sameBytes(pairs[0][0], unsigned.sender)) return canonical({ ...unsigned, sig: pairs[0][1] });
  pairs.sort((a, b) => compareBytes(a[0], b[0]));
  return canonical({ ...unsigned, sigs: pairs });
}
