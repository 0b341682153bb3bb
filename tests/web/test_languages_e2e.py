# ruff: noqa: RUF001, F811  (Chinese punctuation in the expected texts is the point; the fixtures are imported)
"""Issue 15.13 in headless Chromium on a real testnet full of demo data: every page, and the main flows (search,
explore, buy, wallet, inbox), in English and in Chinese (zh-CN), chosen as a user would (remembered in
localStorage). In zh-CN the page shows its Chinese texts and leaks no English one: no text node or label attribute
is an English catalog text, and no heading, label, button, table header, field name or notice holds an English word
(names, codes and amounts aside). In English no Chinese appears in the page.
"""

from __future__ import annotations

import json

import pytest
from browser import Browser
from demo_data import ASSET, Market
from test_content_pages import browser, world  # noqa: F401  (the same fixtures: Chromium, a testnet with the demo story)

from marketnode.core.keys import pubkey_from_address

pytestmark = pytest.mark.integration

LANGS = ("en", "zh-CN")
# Words a Chinese page may hold: the product's name, assets, protocol and format names, the demo's data.
ALLOWED = ["marketnode", "USDX", "MKT", "COMMIT", "WebCrypto", "Merkle", "SHA", "sha", "RPC", "API", "JSON", "KYC",
           "PBKDF", "JPEG", "PNG", "WebP", "MiB", "ed", "mn", "Alice", "Atelier", "Bob", "Carol", "Dave", "Frank", "validator"]

LEAKS_JS = """
(async (allowed) => {
  const { EN } = await import('/static/messages-en.js');
  const { ZH_CN } = await import('/static/messages-zh.js');
  const english = new Set(Object.keys(EN).filter((k) => ZH_CN[k] !== EN[k] && /[A-Za-z]{2}/.test(EN[k]))
    .map((k) => EN[k].trim()));
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (english.has(n.textContent.trim())) found.push(n.textContent.trim());
  for (const e of document.body.querySelectorAll('[aria-label], [placeholder], [data-label]')) {
    for (const name of ['aria-label', 'placeholder', 'data-label']) {
      const value = e.getAttribute(name);
      if (value && english.has(value.trim())) found.push(`${name}="${value}"`);
    }
  }
  const own = (e) => {  // the element's own words: without codes, addresses, amounts, times, names and titles
    const copy = e.cloneNode(true);
    copy.querySelectorAll('code, .mono, abbr, time, .amount, a[href^="#/account/"], a[href^="#/shop/"], a[href^="#/search"]').forEach((c) => c.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  };
  const selector = 'nav.site a, h2, th, caption, label, button, dt, summary, .notice, .hint, .crumbs, .form-status';
  for (const e of document.body.querySelectorAll(selector)) {
    const words = (own(e).match(/[A-Za-z]{2,}/g) || []).filter((w) => !allowed.includes(w));
    if (words.length) found.push(`<${e.tagName.toLowerCase()}> ${own(e)}`);
  }
  return found;
})(%s)
"""


def speak(b: Browser, url: str, lang: str, route: str, ready: str, forget_wallet: bool = False) -> None:
    """Open ``route`` in a new document in ``lang`` (remembered as the switch does) and wait until it settled."""
    b.goto(f"{url}#/")
    if forget_wallet:
        b.call("eval", expr="localStorage.removeItem('marketnode.wallet')")
    b.call("eval", expr=f"localStorage.setItem('marketnode.lang', {json.dumps(lang)})")
    b.goto(f"{url}?lang={lang}#{route}")
    b.call("waitFor", selector=ready)
    b.call("settle")
    assert b.call("eval", expr="document.documentElement.lang") == lang
    assert b.call("eval", expr="document.querySelector('#lang').value") == lang


def check_language(b: Browser, lang: str, expected: list[str], extra_allowed: tuple[str, ...] = ()) -> None:
    """The page shows ``expected`` and, in zh-CN, no English; in en, no Chinese."""
    page = b.call("eval", expr="document.body.innerText")
    missing = [text for text in expected if text not in page]
    assert missing == [], f"not on the page: {missing}\n{b.describe()}"
    if lang == "zh-CN":
        assert b.call("eval", expr=LEAKS_JS % json.dumps(ALLOWED + list(extra_allowed))) == []
    else:
        main = b.call("eval", expr="document.getElementById('main').innerText")
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in main), main
    assert b.call("errors") == []


# (name, route from the demo ids, selector that means loaded, {lang: texts that must appear})
PAGES = [
    ("market home", lambda i: "/", "#main .cards", {"en": ["Marketplace", "Search listings", "in stock"],
                                                    "zh-CN": ["市场", "搜索商品", "库存"]}),
    ("search", lambda i: "/search?q=ceramics", "#main .cards", {"en": ["Results for “ceramics”"],
                                                                "zh-CN": ["“ceramics”的搜索结果"]}),
    ("listing", lambda i: f"/listing/{i['listing']}", "#reviews-title",
     {"en": ["Ships to", "per unit", "Ratings and reviews", "provenance: "], "zh-CN": ["配送至", "每件", "评分与评价", "溯源："]}),
    ("listing with reviews", lambda i: f"/listing/{i['vase']}", ".review", {"en": ["Seller's reply:", "quality 5/5"],
                                                                           "zh-CN": ["卖家回复：", "质量 5/5"]}),
    ("shop", lambda i: f"/shop/{i['shop']}", "#shop-listings + ul", {"en": ["Active listings", "Reviews of this seller"],
                                                                   "zh-CN": ["在售商品", "对该卖家的评价"]}),
    ("shops", lambda i: "/shops", "#main table", {"en": ["Open shops, newest first"], "zh-CN": ["营业中的店铺，最新的在前"]}),
    ("arbiters", lambda i: "/arbiters", "#main table", {"en": ["Fixed fee", "1.00 USDX"], "zh-CN": ["固定费用", "1.00 USDX"]}),
    ("explorer", lambda i: "/explorer", "#txs-body tr", {"en": ["Latest blocks", "Height"], "zh-CN": ["最新区块", "高度"]}),
    ("block", lambda i: f"/block/{i['height']}", "#cert-title + p", {"en": ["Commit certificate", "validators signed COMMIT"],
                                                                   "zh-CN": ["提交证书", "个验证者中有"]}),
    ("tx", lambda i: f"/tx/{i['tx']}", '#main section[data-verified="true"]',
     {"en": ["Inclusion proof", "The Merkle path leads"], "zh-CN": ["包含证明", "Merkle 路径从此交易哈希"]}),
    ("account", lambda i: f"/account/{i['buyer']}", "#acct-rec + *", {"en": ["Balances", "Seller rating"],
                                                                      "zh-CN": ["余额", "卖家评分"]}),
    ("order shipped", lambda i: f"/order/{i['order_shipped']}", "#escrow-timeline",
     {"en": ["Escrow timeline", "shipped", "the buyer to confirm receipt"], "zh-CN": ["托管时间线", "已发货", "买家确认收货"]}),
    ("order disputed", lambda i: f"/order/{i['order_resolved']}", "#dispute .evidence",
     {"en": ["Dispute", "Ruling:", "resolved"], "zh-CN": ["争议", "裁决：", "已裁决"]}),
    ("network", lambda i: "/network", "#net-height", {"en": ["Validators", "Connected peers"],
                                                      "zh-CN": ["验证者", "已连接的对等节点"]}),
    ("record", lambda i: f"/record/{i['record']}", "#record-timeline", {"en": ["Provenance timeline", "Custodian"],
                                                                         "zh-CN": ["溯源时间线", "保管方"]}),
    ("certificate", lambda i: f"/cert/{i['fingerprint']}", "#cert-result .cert-list",
     {"en": ["This item holds a valid certificate"], "zh-CN": ["此物品持有有效证书"]}),
    ("wallet", lambda i: "/wallet", "#wallet-create", {"en": ["New key", "Import a key file"], "zh-CN": ["新密钥", "导入密钥文件"]}),
    ("inbox", lambda i: "/inbox", "#main .notice", {"en": ["unlock your wallet"], "zh-CN": ["解锁钱包"]}),
    ("no such page", lambda i: "/nowhere", "#main h1", {"en": ["Page not found"], "zh-CN": ["找不到页面"]}),
    ("keys", lambda i: f"/keys/{i['buyer']}", "#key-list li", {"en": ["Signatures needed", "the address key alone"],
                                                               "zh-CN": ["所需签名", "仅地址本身的密钥"]}),
]
# Data a page shows as it is (the demo's texts): allowed in a Chinese page.
DATA_WORDS = ("ceramics", "Harbour", "dawn", "original", "oil", "painting", "Blue", "glazed", "vase", "artwork",
              "artist", "medium", "size", "cm", "condition", "location", "carry", "Hamburg", "DE", "AT", "CH")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("name", "route", "ready", "texts"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_speaks_the_chosen_language(browser, world, lang, name, route, ready, texts):
    net, ids = world
    speak(browser, net.url("validator-0"), lang, route(ids), ready, forget_wallet=True)
    check_language(browser, lang, texts[lang], DATA_WORDS)


BUYING = ("Risograph", "print", "Elbe", "bridges", "Newcomer")
FLOW = {
    "en": {"unlocked": "unlocked", "received": "Received", "placed": "placed", "inbox": "No messages yet",
           "block": "Block #"},
    "zh-CN": {"unlocked": "已解锁", "received": "已收到", "placed": "已下单", "inbox": "还没有消息", "block": "区块 #"},
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_explorer_search_goes_to_a_block_in_the_chosen_language(browser, world, lang):
    net, ids = world
    speak(browser, net.url("validator-0"), lang, "/explorer", "#blocks-body tr[data-height]")
    browser.call("fill", selector="#explore-q", value=str(ids["height"]))
    browser.call("press", selector="#explore-q", key="Enter")
    browser.wait_text("#main h1", f"{FLOW[lang]['block']}{ids['height']}")
    browser.call("waitFor", selector="#cert-title + p")
    browser.call("settle")
    check_language(browser, lang, [FLOW[lang]["block"]])


@pytest.mark.parametrize("lang", LANGS)
def test_wallet_faucet_buy_and_inbox_in_the_chosen_language(browser, world, lang):
    """A new user's path: make a key, get testnet funds, register, buy, see the order, open the inbox."""
    net, ids = world
    url = net.url("validator-0")
    speak(browser, url, lang, "/wallet", "#wallet-create", forget_wallet=True)
    browser.call("fill", selector="#new-pass", value="a new user's passphrase")
    browser.call("click", selector="#wallet-create button[type=submit]")
    browser.call("waitFor", selector='#main[data-wallet="unlocked"] #wallet-faucet')
    browser.wait_text("#main h1", FLOW[lang]["unlocked"])
    check_language(browser, lang, [FLOW[lang]["unlocked"]])
    browser.call("click", selector="#wallet-faucet button[type=submit]")
    browser.wait_text("#wallet-faucet", FLOW[lang]["received"], timeout_ms=30000)
    browser.call("fill", selector="#reg-name", value=f"Newcomer {lang}")
    browser.call("click", selector="#wallet-register button[type=submit]")
    browser.wait_text("#main .fields", f"Newcomer {lang}", timeout_ms=30000)  # registered: the page shows the name
    address = browser.call("eval", expr="JSON.parse(localStorage.getItem('marketnode.wallet')).address")
    Market(net).one("alice", "transfer", to=pubkey_from_address(address), asset=ASSET, amount=100_00)
    # buy a print (physical: the address is agreed), in the same document so the key stays unlocked
    browser.call("eval", expr=f"location.hash = '#/listing/{ids['print']}'")
    browser.call("waitFor", selector="#buy-form")
    browser.call("settle")
    check_language(browser, lang, [], (*DATA_WORDS, *BUYING))
    browser.call("click", selector="#buy-address-agreed")
    browser.call("click", selector="#buy-form button[type=submit]")
    browser.call("waitFor", selector='#order-status[data-status="placed"]', timeout_ms=30000)
    browser.wait_text("#order-status", FLOW[lang]["placed"])
    browser.call("waitFor", selector="#order-actions")
    browser.call("settle")
    check_language(browser, lang, [FLOW[lang]["placed"]], (*DATA_WORDS, *BUYING))
    browser.call("eval", expr="location.hash = '#/inbox'")
    browser.call("waitFor", selector="#inbox-unread-count")
    browser.call("settle")
    check_language(browser, lang, [FLOW[lang]["inbox"]])
    browser.call("eval", expr="localStorage.clear()")
