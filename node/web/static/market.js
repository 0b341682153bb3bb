// Marketplace pages: search and browse listings, a listing, a shop, the arbiters.

import { loadAssets, rpc } from "./api.js";
import {
  accountLink, amount, badge, bps, decimalsOf, el, fields, formatUnits, heading, link, notice, replace, stars, table, time,
} from "./format.js";
import { failure, href, route } from "./router.js";

const PAGE_SIZE = 12;
const SORTS = [["newest", "Newest first"], ["price_asc", "Price: low to high"], ["price_desc", "Price: high to low"], ["rating", "Best rated"]];
const TYPES = [["", "Any type"], ["physical", "Physical goods"], ["digital", "Digital goods"], ["service", "Services"]];

export const listingId = (item) => item.id ?? item.listing ?? item.listing_id;

// "12.5" in units of `asset` -> smallest units as a decimal string ("" when blank or invalid).
function toSmallest(text, asset) {
  const match = String(text || "").trim().match(/^(\d+)(?:[.,](\d*))?$/);
  if (!match) return "";
  const decimals = decimalsOf(asset);
  const fraction = (match[2] || "").slice(0, decimals).padEnd(decimals, "0");
  return (BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction || "0")).toString();
}

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
  const form = el("form", { class: "search-form", role: "search", "aria-label": "Search listings" },
    el("div", { class: "field grow" }, el("label", { for: "f-q" }, "Search listings"),
      el("input", { id: "f-q", name: "q", type: "search", value: query.get("q") ?? "", placeholder: "title, description or tag", autocomplete: "off" })),
    el("details", { class: "filters", open: ["category", "type", "asset", "min", "max", "in_stock"].some((k) => query.get(k)) || undefined },
      el("summary", {}, "Filters"),
      el("div", { class: "filter-grid" },
        input("category", "Category", query.get("category"), { placeholder: "e.g. art" }),
        select("type", "Type", TYPES, query.get("type") ?? ""),
        input("asset", "Asset", query.get("asset"), { placeholder: "e.g. USDX", autocapitalize: "characters" }),
        input("min", "Min price", query.get("min"), { inputmode: "decimal" }),
        input("max", "Max price", query.get("max"), { inputmode: "decimal" }),
        el("div", { class: "field check" }, el("input", { id: "f-in_stock", type: "checkbox", name: "in_stock", value: "1", checked: query.get("in_stock") === "1" }),
          el("label", { for: "f-in_stock" }, "In stock only")))),
    select("sort", "Sort by", SORTS, query.get("sort") ?? "newest"),
    el("button", { type: "submit", class: "primary" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    location.hash = href("/search", { ...data, cursor: undefined });
  });
  return form;
}

function searchParams(query) {
  const asset = query.get("asset")?.trim().toUpperCase() || undefined;
  const [sort, order] = (query.get("sort") || "newest").split("_");
  return {
    query: query.get("q")?.trim(), category: query.get("category")?.trim(), type: query.get("type"), asset,
    min_price: asset ? toSmallest(query.get("min"), asset) : undefined,
    max_price: asset ? toSmallest(query.get("max"), asset) : undefined,
    in_stock: query.get("in_stock") === "1" ? true : undefined,
    sort, order: order || undefined, limit: PAGE_SIZE, cursor: query.get("cursor"),
  };
}

export function listingCard(item) {
  const id = listingId(item);
  return el("li", { class: "card listing-card" },
    el("h3", {}, link(`#/listing/${id}`, item.title || `Listing ${id}`)),
    el("p", { class: "price" }, amount(item.price, item.asset)),
    el("p", { class: "meta" },
      item.category ? badge(item.category) : null,
      item.type ? badge(item.type, "type") : null,
      item.certificate ? badge("certified", "ok") : null,
      item.record ? badge("provenance", "ok") : null,
      stockBadge(item.stock)),
    el("p", { class: "meta" }, stars(item.rating?.average ?? item.rating_avg ?? item.rating), item.shop ? [" · ", link(`#/shop/${item.shop}`, item.shop_name || `shop ${item.shop}`)] : null));
}

function stockBadge(stock) {
  if (stock === undefined || stock === null) return null;
  return Number(stock) > 0 ? badge(`${stock} in stock`, "stock") : badge("sold out", "warn");
}

async function searchPage(page) {
  await loadAssets();
  const results = el("section", { "aria-labelledby": "results-title", "aria-live": "polite" });
  replace(page.main, heading("Marketplace"), searchForm(page.query), results);
  const params = searchParams(page.query);
  let answer;
  try {
    answer = await rpc("listing_search", params);
  } catch (error) {
    replace(results, el("h2", { id: "results-title" }, "Listings"), failure(error));
    return;
  }
  if (!page.current) return;
  const items = answer.items ?? [];
  const what = params.query ? `Results for “${params.query}”` : "Listings";
  const next = answer.next_cursor;
  replace(results,
    el("h2", { id: "results-title" }, what, " ", el("span", { class: "muted count" }, `(${items.length}${next ? "+" : ""})`)),
    items.length ? el("ul", { class: "cards" }, items.map(listingCard)) : notice("No listings match. Try fewer filters or other words."),
    el("nav", { class: "pager", "aria-label": "Result pages" },
      page.query.get("cursor") ? link(href("/search", { ...Object.fromEntries(page.query), cursor: undefined }), "« First page", { class: "btn" }) : null,
      next ? link(href("/search", { ...Object.fromEntries(page.query), cursor: next }), "Next page »", { class: "btn", rel: "next" }) : null));
}

function ratingSummary(reviews) {
  const overall = reviews.map((r) => Number(r.ratings?.overall ?? r.rating)).filter((n) => n > 0);
  if (!overall.length) return null;
  return overall.reduce((a, b) => a + b, 0) / overall.length;
}

function reviewItem(review) {
  const ratings = review.ratings || {};
  return el("li", { class: "card review" },
    el("p", {}, stars(ratings.overall ?? review.rating), " by ", accountLink(review.buyer ?? review.author), " · ", time(review.time_ms ?? review.created_ms)),
    el("p", { class: "meta" }, Object.entries(ratings).filter(([k]) => k !== "overall").map(([k, v]) => `${k} ${v}/5`).join(" · ")),
    review.order ? el("p", { class: "meta" }, link(`#/order/${review.order}`, `order ${review.order}`)) : null,
    review.reply_hash || review.reply ? el("p", { class: "meta" }, "The seller replied.") : null);
}

async function reviewsSection(params, title = "Ratings and reviews") {
  const section = el("section", { "aria-labelledby": "reviews-title" }, el("h2", { id: "reviews-title" }, title));
  try {
    const answer = await rpc("review_list", { ...params, limit: 20 });
    const items = answer.items ?? [];
    const average = ratingSummary(items);
    section.append(
      el("p", {}, average === null ? "No reviews yet." : [stars(average), ` from ${items.length}${answer.next_cursor ? "+" : ""} review(s)`]),
      items.length ? el("ul", { class: "cards reviews" }, items.map(reviewItem)) : "");
  } catch (error) {
    section.append(failure(error));
  }
  return section;
}

async function certificateBadge(certId) {
  try {
    const check = await rpc("cert_verify", { id: certId });
    const valid = check.valid ?? (check.status === "valid");
    return link(`#/cert/${certId}`, badge(valid ? "✓ certificate valid" : `✗ certificate ${check.status || "invalid"}`, valid ? "ok" : "warn"));
  } catch {
    return link(`#/cert/${certId}`, badge(`certificate ${certId}`, "ok"));
  }
}

async function listingPage(page) {
  await loadAssets();
  const id = page.params.id;
  const item = await rpc("listing_get", { id: Number(id) });
  if (!page.current) return;
  const badges = el("p", { class: "badges" },
    item.active === false ? badge("delisted", "warn") : badge("active", "ok"),
    stockBadge(item.stock),
    item.record ? link(`#/record/${encodeURIComponent(item.record)}`, badge("provenance record", "ok")) : null,
    item.certificate ? await certificateBadge(item.certificate) : null);
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/", "Marketplace"), " › ", item.category ? link(href("/search", { category: item.category }), item.category) : "listing"),
    heading(item.title || `Listing ${id}`),
    el("p", { class: "price big" }, amount(item.price, item.asset), el("span", { class: "muted" }, " per unit")),
    badges,
    item.description ? el("p", { class: "description" }, item.description) : null,
    fields([
      ["Listing", `#${listingId(item) ?? id}`],
      ["Seller", accountLink(item.seller)],
      ["Shop", item.shop ? link(`#/shop/${item.shop}`, item.shop_name || `Shop ${item.shop}`) : "—"],
      ["Type", item.type],
      ["Category", item.category],
      ["Tags", (item.tags || []).map((t) => link(href("/search", { q: t }), badge(t)))],
      ["Ships to", item.regions?.length ? item.regions.join(", ") : "anywhere"],
      ["Stock", item.stock ?? "—"],
      ["Listed", time(item.created_ms)],
    ]),
    el("p", { class: "hint" }, "To buy, place an order from a wallet: ", el("code", {}, `marketnode order place --listing ${id}`)),
    await reviewsSection({ listing: Number(id) }));
}

async function shopPage(page) {
  await loadAssets();
  const id = Number(page.params.id);
  const shop = await rpc("shop_get", { id });
  if (!page.current) return;
  const listings = el("section", { "aria-labelledby": "shop-listings" }, el("h2", { id: "shop-listings" }, "Listings"));
  try {
    const answer = await rpc("listing_search", { shop: id, limit: 50 });
    listings.append((answer.items ?? []).length ? el("ul", { class: "cards" }, answer.items.map(listingCard)) : notice("No listings yet."));
  } catch (error) {
    listings.append(failure(error));
  }
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/", "Marketplace"), " › shop"),
    heading(shop.name || `Shop ${id}`, " ", shop.open === false ? badge("closed", "warn") : badge("open", "ok")),
    shop.description ? el("p", { class: "description" }, shop.description) : null,
    fields([
      ["Owner", accountLink(shop.owner)],
      ["Region", shop.region],
      ["Accepts", (shop.accepted_assets || []).join(", ")],
      ["Arbiters", (shop.arbiters || []).length ? el("ul", { class: "plain" }, shop.arbiters.map((a) => el("li", {}, accountLink(a)))) : "none (no disputes possible)"],
      ["Opened", time(shop.created_ms)],
    ]),
    listings,
    await reviewsSection({ seller: shop.owner }, "Reviews of this seller"));
}

async function arbitersPage(page) {
  const answer = await rpc("arbiter_list", { limit: 100 });
  if (!page.current) return;
  const items = answer.items ?? [];
  replace(page.main, heading("Arbiters"),
    el("p", {}, "A buyer may name one of the shop's arbiters when ordering. If the order is disputed, the arbiter splits the escrow after its fee: a fixed part in the order's asset plus a share of the escrow."),
    items.length ? table(["Arbiter", "Fixed fee", "Share of escrow", "Status", "Terms"], items.map((a) => [
      accountLink(a.address ?? a.account), formatUnits(a.fee_fixed ?? 0, 0) + " units", bps(a.fee_bps ?? 0),
      a.active === false ? badge("inactive", "warn") : badge("active", "ok"), a.description || "—",
    ]), "Registered arbiters and their fees") : notice("No arbiters are registered yet."));
}

route("/", searchPage);
route("/search", searchPage);
route("/listing/:id", listingPage);
route("/shop/:id", shopPage);
route("/arbiters", arbitersPage);
