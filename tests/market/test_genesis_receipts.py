"""Genesis JSON and receipts: round trips, hashes, and refusals of bad input."""

from __future__ import annotations

import json

import pytest
from market_harness import Chain, make_genesis

from marketnode.core.errors import ConfigError, DecodeError
from marketnode.market.genesis import Genesis
from marketnode.market.params import MAX_WINDOW_MS
from marketnode.market.receipts import Event, Receipt


def test_genesis_json_round_trip_keeps_the_hash() -> None:
    genesis = make_genesis()
    text = genesis.to_json()
    assert '"mn1' in text
    again = Genesis.from_json(text)
    assert again == genesis and again.hash == genesis.hash


def test_genesis_defaults_and_params_change_the_hash() -> None:
    assert make_genesis().hash != make_genesis(min_fee=2).hash


@pytest.mark.parametrize(
    "mutate",
    [
        lambda g: g.update(chain_id="Bad Chain"),
        lambda g: g.update(validators=[]),
        lambda g: g["accounts"][0]["balances"].update(XYZ=1),
        lambda g: g["accounts"][0].update(address="mn1notanaddress"),
        lambda g: g["params"].update(platform_fee_bps=10_001),
        lambda g: g["params"].update(confirm_window_ms=0),
        lambda g: g["params"].update(accept_window_ms=MAX_WINDOW_MS + 1),
        lambda g: g["params"].update(ruling_window_ms=2**64 - 1),  # a deadline would not fit in a u64
        lambda g: g["params"].update(no_such_param=1),
        lambda g: g["roles"].update(emperor=[]),
        lambda g: g["accounts"][0]["balances"].update(USD=2**64),
        lambda g: g.update(assets=[g["assets"][0], g["assets"][0]]),
        lambda g: g["validators"][0].update(name=""),
        lambda g: g["validators"][0].update(public_key="ab"),
        lambda g: g["assets"][0].update(decimals=-1),
        lambda g: g["assets"][0].update(asset="usd"),
        lambda g: g.update(accounts=[g["accounts"][0], g["accounts"][0]]),
        lambda g: g.update(genesis_time_ms=-5),
    ],
)
def test_bad_genesis_is_a_config_error(mutate) -> None:
    obj = json.loads(make_genesis().to_json())
    mutate(obj)
    with pytest.raises(ConfigError):
        Genesis.from_json(json.dumps(obj))


def test_the_longest_windows_give_deadlines_every_store_holds() -> None:
    windows = {name: MAX_WINDOW_MS for name in ("accept_window_ms", "ship_window_ms", "confirm_window_ms",
                                                "ruling_window_ms")}
    chain = Chain(make_genesis(**windows))
    _, listing = chain.market()
    order = chain.place("bob", listing)
    assert chain.order(order)["deadline_ms"] == chain.now_ms - 1_000 + MAX_WINDOW_MS < 2**53


def test_receipt_round_trip_and_hash() -> None:
    receipt = Receipt(b"\x01" * 32, True, "ok", "", 3, (Event("transfer", {"amount": 5, "to": b"\x02" * 32}),))
    assert Receipt.decode(receipt.encode()) == receipt
    failed = Receipt(b"\x01" * 32, False, "bad_nonce", "nonce 3, next is 2", 0)
    assert Receipt.decode(failed.encode()) == failed and failed.hash != receipt.hash


def test_receipt_decode_refuses_bad_fields() -> None:
    obj = Receipt(b"\x01" * 32, True, "ok", "", 3).to_obj()
    obj["ok"] = 1
    from marketnode.core.encoding import encode

    with pytest.raises(DecodeError):
        Receipt.decode(encode(obj))


def test_the_example_in_docs_genesis_md_loads() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "GENESIS.md").read_text()
    example = text.split("```json", 1)[1].split("```", 1)[0]
    assert Genesis.from_json(example).chain_id == "marketnode-testnet-1"
