// A listing's terms in the web wallet: the unit price of a variant, which shipping options serve a region,
// and the total an order will move into escrow. Pure functions, no DOM (tests/web/test_js_terms.py); the
// same rules as market/terms.py and the command line's `order place`.

// Does a list of declared regions cover `region`? Empty: anywhere; "US" covers "US-CA".
export function shipsTo(declared, region) {
  const code = String(region ?? "").toUpperCase();
  return !declared?.length || declared.some((d) => code === d || code.startsWith(`${d}-`));
}

// The variant's unit price (price + price_delta) as a BigInt, or null when `sku` is not one of its variants.
export function unitPrice(listing, sku) {
  const variants = listing.variants ?? [];
  if (!variants.length) return sku ? null : BigInt(listing.price);
  const variant = variants.find((v) => v.sku === sku);
  return variant ? BigInt(listing.price) + BigInt(variant.price_delta) : null;
}

// The shipping options that serve `region` (all of them when no region is given yet).
export function optionsFor(listing, region) {
  return (listing.shipping ?? []).filter((o) => !region || (shipsTo(listing.regions, region) && shipsTo(o.regions, region)));
}

// { total, problem }: what the order costs (BigInt), or why the rules would refuse it ("variant", "shipping",
// "region"; listingterms.js says it in words).
export function orderTotal(listing, { sku, service, region, quantity }) {
  const unit = unitPrice(listing, sku);
  if (unit === null) return { total: null, problem: "variant" };
  let shipping = 0n;
  if ((listing.shipping ?? []).length) {
    const option = listing.shipping.find((o) => o.service === service);
    if (!option) return { total: null, problem: "shipping" };
    if (!region || !shipsTo(option.regions, region) || !shipsTo(listing.regions, region)) {
      return { total: null, problem: "region" };
    }
    shipping = BigInt(option.price);
  }
  return { total: unit * BigInt(quantity) + shipping, goods: unit * BigInt(quantity), problem: null };
}

// The goods' price after a coupon as coupon_get shows it, by the chain's rule (market/coupons.py): a percent
// coupon's discount rounds down; a fixed one takes at most the goods and only in its own asset. Returns
// { goods, problem } with problem "coupon" (not valid now) or "coupon-asset".
export function discounted(goods, coupon, asset) {
  if (!coupon.valid) return { goods: null, problem: "coupon" };
  if (coupon.percent_bps !== null && coupon.percent_bps !== undefined) {
    return { goods: goods - (goods * BigInt(coupon.percent_bps)) / 10000n, problem: null };
  }
  if (coupon.asset !== asset) return { goods: null, problem: "coupon-asset" };
  const off = BigInt(coupon.amount) < goods ? BigInt(coupon.amount) : goods;
  return { goods: goods - off, problem: null };
}
