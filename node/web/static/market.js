// Marketplace pages: search and browse listings, a listing, a shop, the arbiters.

import { loadAssets, rpc } from "./api.js";
import {
  accountLink, amount, badge, bps, el, fields, fixedFee, formatNumber, heading, link, notice, parseUnits, replace, stars, table, time,
} from "./format.js";
import { contentImage, contentText, contentThumb, gallery } from "./content.js";
import { t, tn } from "./i18n.js";
import { listingType, ratingName } from "./labels.js";
import { failure, href, navigate, route } from "./router.js";
import { buyForm } from "./walletui.js";

const PAGE_SIZE = 12;
const SORTS = () => [["", t("Best match / newest")], ["newest", t("Newest first")], ["price_asc", t("Price: low to high")], ["price_desc", t("Price: high to low")], ["rating", t("Best rated")]];
const REASONS = { also_bought: t("Buyers of the same items also bought this"), popular_in_category: t("Popular in a category you buy in"), popular: t("Popular now") };
const TYPES = () => [["", t("Any type")], ["physical", t("Physical goods")], ["digital", t("Digital goods")], ["service", t("Services")]];


function input(name, label, value, attrs = {}) {
  const id = `f-${name}`;
  return el("div", { class: "field" }, el("label", { for: id }, label), el("input", { id, name, value: value ?? "", ...attrs }));
}

function select(name, label, options, value) {
  const id = `f-${name}`;
  return el("div", { class: "field" }, el("label", { for: id }, label),
    el("select", { id, name }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text))));
}

function searchForm(query) {
  const form = el("form", { class: "search-form", role: "search", "aria-label": t("Search listings") },
    el("div", { class: "field grow" }, el("label", { for: "f-q" }, t("Search listings")),
      el("input", { id: "f-q", name: "q", type: "search", value: query.get("q") ?? "", placeholder: t("title, description or tag"), autocomplete: "off" })),
    el("details", { class: "filters", open: ["category", "type", "asset", "min", "max", "in_stock"].some((k) => query.get(k)) || undefined },
      el("summary", {}, t("Filters")),
      el("div", { class: "filter-grid" },
        input("category", t("Category"), query.get("category"), { placeholder: t("e.g. art") }),
        select("type", t("Type"), TYPES(), query.get("type") ?? ""),
        input("asset", t("Asset"), query.get("asset"), { placeholder: t("e.g. USDX"), autocapitalize: "characters" }),
        input("min", t("Min price"), query.get("min"), { inputmode: "decimal" }),
        input("max", t("Max price"), query.get("max"), { inputmode: "decimal" }),
        el("div", { class: "field check" }, el("input", { id: "f-in_stock", type: "checkbox", name: "in_stock", value: "1", checked: query.get("in_stock") === "1" }),
          el("label", { for: "f-in_stock" }, t("In stock only"))))),
    select("sort", t("Sort by"), SORTS(), query.get("sort") ?? ""),
    el("button", { type: "submit", class: "primary" }, t("Search")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    navigate(href("/search", { ...data, cursor: undefined }));
  });
  return form;
}

function searchParams(query) {
  const asset = query.get("asset")?.trim().toUpperCase() || undefined;
  return {
    q: query.get("q")?.trim(), category: query.get("category")?.trim(), type: query.get("type"), asset,
    min_price: asset ? parseUnits(query.get("min"), asset) : undefined,
    max_price: asset ? parseUnits(query.get("max"), asset) : undefined,
    in_stock: query.get("in_stock") === "1" ? true : undefined,
    sort: query.get("sort") || undefined, cursor: query.get("cursor"),
    limit: Math.min(100, Math.max(1, Number(query.get("limit")) || PAGE_SIZE)),
  };
}

// rating {count, overall_avg_x100} (search) or {count, avg_x100: {overall, ...}} (listing_get).
function averageOf(rating) {
  if (!rating?.count) return null;
  return Number(rating.overall_avg_x100 ?? rating.avg_x100?.overall) / 100;
}

export function listingCard(item) {
  const id = item.id;
  return el("li", { class: "card listing-card" },
    item.cover ? link(`#/listing/${id}`, contentThumb(item.cover, item.title || ""), { class: "card-thumb", tabindex: "-1", "aria-hidden": "true" }) : null,
    el("h3", {}, link(`#/listing/${id}`, item.title || t("Listing {id}", { id }))),
    el("p", { class: "price" }, amount(item.price, item.asset)),
    el("p", { class: "meta" },
      item.category ? badge(item.category) : null,
      item.type ? badge(listingType(item.type), "type") : null,
      item.certificate ? badge(t("certified"), "ok") : null,
      item.record ? badge(t("provenance"), "ok") : null,
      stockBadge(item.stock)),
    el("p", { class: "meta" }, stars(averageOf(item.rating)), item.rating?.count ? ` (${formatNumber(item.rating.count)})` : "",
      item.sales ? ` · ${t("{n} sold", { n: formatNumber(item.sales) })}` : "", item.shop ? [" · ", shopLink(item.shop)] : null),
    item.reason ? el("p", { class: "meta" }, REASONS[item.reason] ?? item.reason) : null);
}

// Shop names by id, asked once per page load: cards and order pages name the shop, not its number.
const shopNames = new Map();
export function shopName(id) {
  if (!shopNames.has(id)) shopNames.set(id, rpc("shop_get", { shop: id }).then((shop) => shop.name).catch(() => null));
  return shopNames.get(id);
}

// A link to a shop that shows its name once known ("shop 2" until then).
export function shopLink(id) {
  const node = link(`#/shop/${id}`, t("shop {id}", { id }));
  shopName(id).then((name) => { if (name) node.textContent = name; });
  return node;
}

function stockBadge(stock) {
  if (stock === undefined || stock === null) return null;
  return Number(stock) > 0 ? badge(t("{n} in stock", { n: formatNumber(stock) }), "stock") : badge(t("sold out"), "warn");
}

async function searchPage(page) {
  await loadAssets();
  const results = el("section", { "aria-labelledby": "results-title", "aria-live": "polite" });
  replace(page.main, heading(t("Marketplace")), searchForm(page.query), results,
    el("p", {}, link("#/shops", t("Browse all shops")), " · ", link("#/arbiters", t("Arbiters and their fees"))));
  const params = searchParams(page.query);
  if ((page.query.get("min") || page.query.get("max")) && !params.asset) {
    results.before(notice(t("A price range needs an asset (prices are compared in that asset's units); it was ignored."), "warn"));
  }
  let answer;
  try {
    answer = await rpc("listing_search", params);
  } catch (error) {
    replace(results, el("h2", { id: "results-title" }, t("Listings")), failure(error));
    return;
  }
  if (!page.current) return;
  const items = answer.items ?? [];
  const what = params.q ? t("Results for “{q}”", { q: params.q }) : t("Listings");
  const next = answer.next_cursor;
  replace(results,
    el("h2", { id: "results-title" }, what, " ", el("span", { class: "muted count" }, `(${formatNumber(items.length)}${next ? "+" : ""})`)),
    items.length ? el("ul", { class: "cards" }, items.map(listingCard)) : notice(t("No listings match. Try fewer filters or other words.")),
    el("nav", { class: "pager", "aria-label": t("Result pages") },
      page.query.get("cursor") ? link(href("/search", { ...Object.fromEntries(page.query), cursor: undefined }), t("« First page"), { class: "btn" }) : null,
      next ? link(href("/search", { ...Object.fromEntries(page.query), cursor: next }), t("Next page »"), { class: "btn", rel: "next" }) : null));
}

function reviewItem(review) {
  const ratings = review.ratings || {};
  return el("li", { class: "card review" },
    el("p", {}, stars(ratings.overall), " ", tn("by {reviewer}", { reviewer: accountLink(review.reviewer) }), " · ", time(review.time_ms)),
    el("p", { class: "meta" }, Object.entries(ratings).filter(([k]) => k !== "overall").map(([k, v]) => `${ratingName(k)} ${v}/5`).join(" · ")),
    el("p", { class: "meta" }, link(`#/order/${review.order}`, t("order #{id}", { id: review.order })),
      review.listing ? [" · ", link(`#/listing/${review.listing}`, t("listing #{id}", { id: review.listing }))] : null,
      review.reply_hash ? [" · ", t("the seller replied")] : null),
    review.text_hash ? contentText(review.text_hash, { what: t("review text") }) : null,
    review.photo ? contentImage(review.photo, { alt: t("The buyer's photo"), className: "content-image review-photo" }) : null,
    review.reply_hash ? contentText(review.reply_hash, { label: t("Seller's reply:"), what: t("reply") }) : null);
}

function ratingLine(rating) {
  const average = averageOf(rating);
  return average === null ? t("No ratings yet.") : [stars(average), " ", t("from {n} rating(s)", { n: formatNumber(rating.count) })];
}

async function reviewsSection(params, rating, title = t("Ratings and reviews")) {
  const section = el("section", { "aria-labelledby": "reviews-title" }, el("h2", { id: "reviews-title" }, title));
  if (rating) {
    section.append(el("p", {}, ratingLine(rating)));
    const parts = Object.entries(rating.avg_x100 || {}).filter(([k, v]) => k !== "overall" && v);
    if (rating.count && parts.length) section.append(el("p", { class: "meta" }, parts.map(([k, v]) => `${ratingName(k)} ${formatNumber(v / 100, { minimumFractionDigits: 1, maximumFractionDigits: 1 })}`).join(" · ")));
  }
  try {
    const answer = await rpc("review_list", { ...params, limit: 20 });
    const items = answer.items ?? [];
    section.append(items.length ? el("ul", { class: "cards reviews" }, items.map(reviewItem)) : notice(t("No reviews yet.")));
  } catch (error) {
    section.append(failure(error));
  }
  return section;
}

function provenanceBadges(provenance) {
  const record = provenance?.record;
  const cert = provenance?.certificate;
  return [
    record ? link(`#/record/${encodeURIComponent(record.id)}`, badge(record.final ? t("provenance: {n} event(s), final", { n: record.history_len }) : t("provenance: {n} event(s)", { n: record.history_len }), "ok")) : null,
    cert ? link(`#/cert/${cert.id}`, badge(cert.valid ? t("✓ certificate valid") : cert.revoked ? t("✗ certificate revoked") : t("✗ certificate not accredited"), cert.valid ? "ok" : "warn")) : null,
  ];
}

async function listingPage(page) {
  await loadAssets();
  const id = Number(page.params.id);
  const item = await rpc("listing_get", { listing: id });
  if (!page.current) return;
  const shop = item.shop_info;
  const seller = item.seller_profile || {};
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/", t("Marketplace")), " › ", item.category ? link(href("/search", { category: item.category }), item.category) : t("listing")),
    heading(item.title || t("Listing {id}", { id })),
    el("p", { class: "price big" }, amount(item.price, item.asset), el("span", { class: "muted" }, " ", t("per unit"))),
    el("p", { class: "badges" },
      item.available ? badge(t("available"), "ok") : badge(item.active === false ? t("delisted") : t("unavailable"), "warn"),
      stockBadge(item.stock), item.sales ? badge(t("{n} sold", { n: item.sales })) : null, provenanceBadges(item.provenance)),
    el("p", {}, stars(averageOf(item.rating)), item.rating?.count ? [" ", t("from {n} rating(s)", { n: item.rating.count })] : ""),
    gallery(item.images, item.title || t("Listing {id}", { id })),
    item.description ? el("p", { class: "description" }, item.description) : null,
    fields([
      [t("Listing"), `#${id}`],
      [t("Seller"), [accountLink(item.seller, seller.name), " ", seller.rating?.count ? stars(averageOf(seller.rating)) : null]],
      [t("Shop"), shop ? [link(`#/shop/${shop.id}`, shop.name), shop.open ? "" : [" ", badge(t("closed"), "warn")], ` · ${shop.region}`] : "—"],
      [t("Type"), listingType(item.type)],
      [t("Category"), item.category],
      [t("Tags"), (item.tags || []).map((tag) => link(href("/search", { q: tag }), badge(tag)))],
      [t("Ships to"), item.regions?.length ? item.regions.join(", ") : t("anywhere")],
      [t("Stock"), String(item.stock ?? "—")],
      [t("Listed"), time(item.created_ms)],
      shop ? [t("Arbiters"), shop.arbiters.length ? shop.arbiters.map((a) => accountLink(a)) : t("none (no disputes possible)")] : null,
    ]),
    el("section", { "aria-labelledby": "buy-title" }, el("h2", { id: "buy-title" }, t("Buy")),
      buyForm(item) ?? notice(t("Not available to buy right now.")),
      el("p", { class: "hint" }, tn("Or from the command line: {command}", { command: el("code", {}, `marketnode order place ${id} --quantity 1 --address "…" --key-file testnet/accounts/bob.key`) })),
      el("p", {}, link(href("/inbox", { about: "listing", id }), t("Ask the seller a question"), { id: "ask-seller" }),
        " ", t("(encrypted to the seller's key)"))),
    await reviewsSection({ listing: id }, item.rating));
}

async function shopPage(page) {
  await loadAssets();
  const id = Number(page.params.id);
  const shop = await rpc("shop_get", { shop: id });
  if (!page.current) return;
  const listings = el("section", { "aria-labelledby": "shop-listings" }, el("h2", { id: "shop-listings" }, t("Listings")));
  try {
    const answer = await rpc("listing_search", { shop: id, limit: 50 });
    listings.append((answer.items ?? []).length ? el("ul", { class: "cards" }, answer.items.map(listingCard)) : notice(t("No listings yet.")));
  } catch (error) {
    listings.append(failure(error));
  }
  let rating = null;
  try { rating = (await rpc("account_get", { address: shop.owner })).seller_rating; } catch { /* shown without */ }
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/", t("Marketplace")), " › ", t("shop")),
    heading(shop.name || t("Shop {id}", { id }), " ", shop.open === false ? badge(t("closed"), "warn") : badge(t("open"), "ok")),
    shop.description ? el("p", { class: "description" }, shop.description) : null,
    fields([
      [t("Owner"), accountLink(shop.owner)],
      [t("Region"), shop.region],
      [t("Accepts"), (shop.accepted_assets || []).join(", ")],
      [t("Arbiters"), (shop.arbiters || []).length ? el("ul", { class: "plain" }, shop.arbiters.map((a) => el("li", {}, accountLink(a)))) : t("none (no disputes possible)")],
      [t("Active listings"), String(shop.listing_count ?? "—")],
      [t("Opened"), time(shop.created_ms)],
    ]),
    listings,
    await reviewsSection({ seller: shop.owner }, rating, t("Reviews of this seller")));
}

async function shopsPage(page) {
  const answer = await rpc("shop_list", { limit: 50, cursor: page.query.get("cursor"), region: page.query.get("region")?.toUpperCase() });
  if (!page.current) return;
  const items = answer.items ?? [];
  replace(page.main, el("p", { class: "crumbs" }, link("#/", t("Marketplace")), " › ", t("shops")), heading(t("Shops")),
    items.length ? table([t("Shop"), t("Owner"), t("Region"), t("Opened")], items.map((shop) => [
      link(`#/shop/${shop.id}`, shop.name), accountLink(shop.owner), link(href("/shops", { region: shop.region }), shop.region), time(shop.created_ms),
    ]), t("Open shops, newest first")) : notice(t("No shops yet.")),
    el("nav", { class: "pager", "aria-label": t("Result pages") },
      answer.next_cursor ? link(href("/shops", { ...Object.fromEntries(page.query), cursor: answer.next_cursor }), t("Next page »"), { class: "btn", rel: "next" }) : null));
}

async function arbitersPage(page) {
  const answer = await rpc("arbiter_list", { limit: 100, include_inactive: true });
  if (!page.current) return;
  const items = answer.items ?? [];
  replace(page.main, heading(t("Arbiters")),
    el("p", {}, t("A buyer may name one of the shop's arbiters when ordering. If the order is disputed, the arbiter splits the escrow after its fee: a fixed part, in the disputed order's asset, plus a share of the escrow.")),
    items.length ? table([t("Arbiter"), t("Fixed fee"), t("Share of escrow"), t("Status"), t("Since"), t("Terms")], items.map((a) => [
      accountLink(a.address), fixedFee(a.fee_fixed ?? 0), bps(a.fee_bps ?? 0),
      a.active === false ? badge(t("inactive"), "warn") : badge(t("active"), "ok"), time(a.since_ms), a.description || "—",
    ]), t("Registered arbiters and their fees")) : notice(t("No arbiters are registered yet.")));
}

route("/", searchPage);
route("/search", searchPage);
route("/listing/:id", listingPage);
route("/shop/:id", shopPage);
route("/shops", shopsPage);
route("/arbiters", arbitersPage);
