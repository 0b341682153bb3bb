// What a buyer must settle before an order is placed: pure functions, no DOM, tested under Node.js
// (tests/web/test_js_buyrules.py).

import { t } from "./i18n.js";

// Why a physical order could not be delivered as asked (null when it can): no address agreed, or a region
// the listing does not ship to. The same rule as the command line's `order place` (cli/order_cmds.py).
export function deliveryProblem(listing, { region, addressAgreed }) {
  if (listing.type !== "physical") return null;
  if (!addressAgreed) return t("Physical goods need a shipping address: agree it with the seller first.");
  const regions = listing.regions ?? [];
  if (regions.length && !regions.some((r) => r.toLowerCase() === String(region ?? "").toLowerCase())) {
    return t("This listing ships to {regions} only.", { regions: regions.join(", ") });
  }
  return null;
}
