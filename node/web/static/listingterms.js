// A listing's variants, shipping options and returns: shown on its page, chosen in the buy form.
// Kept apart from market.js and walletui.js, which call termsSection / termsFields / termsOrder.

import { amount, el, table } from "./format.js";
import { t } from "./i18n.js";
import { rpc } from "./api.js";
import { discounted, optionsFor, orderTotal } from "./termsrules.js";

const DAY_MS = 86_400_000;
const PROBLEMS = {
  variant: () => t("Choose one of the listing's variants."), shipping: () => t("Choose a shipping option."),
  region: () => t("That shipping option does not serve your region."),
  coupon: () => t("That coupon is revoked, expired or used up."),
  "coupon-asset": () => t("That coupon is for listings in another asset."),
};

// The terms beyond one price, or null for a plain listing.
export function termsSection(listing) {
  const variants = listing.variants ?? [];
  const shipping = listing.shipping ?? [];
  const days = Number(listing.return_window_ms ?? 0) / DAY_MS;
  if (!variants.length && !shipping.length && !days) return null;
  const options = listing.options ?? [];
  return el("section", { id: "listing-terms", "aria-labelledby": "terms-title" },
    el("h2", { id: "terms-title" }, t("Variants and shipping")),
    variants.length ? table([...options.map((o) => o.name), t("SKU"), t("Price"), t("Stock")], variants.map((v) => [
      ...v.choice, v.sku, amount((BigInt(listing.price) + BigInt(v.price_delta)).toString(), listing.asset), String(v.stock),
    ])) : null,
    shipping.length ? table([t("Shipping"), t("Regions"), t("Price"), t("Delivery")], shipping.map((o) => [
      o.service, o.regions.length ? o.regions.join(", ") : t("anywhere"), amount(o.price, listing.asset),
      t("{min}-{max} days", { min: o.min_days, max: o.max_days }),
    ])) : null,
    el("p", {}, days ? t("Returns within {n} days of receipt.", { n: Math.floor(days) }) : t("No returns.")));
}

// Selects for the buy form: the variant, the shipping option, and a region when the listing names none.
export function termsFields(listing) {
  const parts = [];
  if ((listing.variants ?? []).length) {
    parts.push(el("div", { class: "field" }, el("label", { for: "buy-variant" }, t("Variant")),
      el("select", { id: "buy-variant", name: "variant", required: true }, el("option", { value: "" }, t("choose…")),
        listing.variants.map((v) => el("option", { value: v.sku, disabled: Number(v.stock) <= 0 }, `${v.choice.join(" / ")} (${v.sku})`)))));
  }
  if ((listing.shipping ?? []).length) {
    if (!(listing.regions ?? []).length) {
      parts.push(el("div", { class: "field" }, el("label", { for: "buy-region" }, t("Your region (e.g. DE)")),
        el("input", { id: "buy-region", name: "region", required: true, pattern: "[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?" })));
    }
    parts.push(el("div", { class: "field" }, el("label", { for: "buy-shipping" }, t("Shipping")),
      el("select", { id: "buy-shipping", name: "shipping", required: true }, el("option", { value: "" }, t("choose…")),
        optionsFor(listing).map((o) => el("option", { value: o.service }, `${o.service} (${o.regions.join(", ") || t("anywhere")})`)))));
  }
  parts.push(el("div", { class: "field" }, el("label", { for: "buy-coupon" }, t("Coupon code (optional)")),
    el("input", { id: "buy-coupon", name: "coupon", autocomplete: "off", pattern: "[A-Za-z0-9][A-Za-z0-9\\-]{0,15}" })));
  return parts;
}

// The order_place fields the terms add, with max_total; throws the reason when the rules would refuse it.
export async function termsOrder(listing, form, quantity) {
  const sku = form.elements.variant?.value || undefined;
  const service = form.elements.shipping?.value || undefined;
  const region = form.elements.region?.value ? form.elements.region.value.toUpperCase() : undefined;
  const code = form.elements.coupon?.value ? form.elements.coupon.value.trim().toUpperCase() : undefined;
  const quote = orderTotal(listing, { sku, service, region, quantity });
  if (quote.problem) throw new Error(PROBLEMS[quote.problem]());
  let total = quote.total;
  if (code) {
    const after = discounted(quote.goods, await rpc("coupon_get", { shop: listing.shop, coupon: code }), listing.asset);
    if (after.problem) throw new Error(PROBLEMS[after.problem]());
    total = quote.total - quote.goods + after.goods;
  }
  return { variant: sku, shipping: service, region, coupon: code, max_total: total };
}
