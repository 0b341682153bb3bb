// The words the chain uses for states, roles and kinds ("shipped", "buyer", "physical"), as a person reads them in
// the chosen language. The chain's word stays the value (tests, data attributes, RPC); only what is shown changes.
// Each label is a literal t() key, so the catalog check (tests/web/test_js_i18n.py) sees it.

import { t } from "./i18n.js";

const ORDER_STATUS = {
  placed: t("placed"), accepted: t("accepted"), shipped: t("shipped"), completed: t("completed"), disputed: t("disputed"),
  resolved: t("resolved"), declined: t("declined"), cancelled: t("cancelled"), refunded: t("refunded"),
};
const TX_STATUS = { committed: t("committed"), failed: t("failed"), pending: t("pending"), unknown: t("unknown") };
const ROLE = {
  buyer: t("buyer"), seller: t("seller"), arbiter: t("arbiter"), validator: t("validator"), certifier: t("certifier"), owner: t("owner"),
  custodian: t("custodian"),
};
const LISTING_TYPE = { physical: t("physical"), digital: t("digital"), service: t("service") };
const RATING = { overall: t("overall"), quality: t("quality"), accuracy: t("accuracy"), delivery: t("delivery"), service: t("service") };
// A provenance record's history events (market/provenance.py): made, reported on, handed to a new owner,
// custodian or reporter, finalized.
const RECORD_EVENT = {
  created: t("created"), reported: t("reported"), owner: t("new owner"), custodian: t("new custodian"), reporter: t("new reporter"),
  finalized: t("finalized"),
};
const WHO = { buyer: t("the buyer"), seller: t("the seller"), arbiter: t("the arbiter") };

const from = (table) => (word) => table[word] ?? String(word ?? "");

export const orderStatus = from(ORDER_STATUS);
export const txStatus = from(TX_STATUS);
export const role = from(ROLE);
export const listingType = from(LISTING_TYPE);
export const ratingName = from(RATING);
export const recordEvent = (word) => RECORD_EVENT[word] ?? String(word ?? t("event")).replaceAll("_", " ");

// "buyer or seller" (a deadline's claimable_by) -> "the buyer or the seller", in the chosen language.
export function parties(words) {
  const list = Array.isArray(words) ? words : String(words ?? "").split(/\s*(?:,|\bor\b)\s*/).filter(Boolean);
  return list.map((w) => WHO[w] ?? w).join(t(" or "));
}
