"""The boundary between the Node and what serves it (issue 18.2): typed, explicit, and free of import circles.

What serves the node reads it through node/boundary.py's Protocols (mypy checks the Node against them);
these tests keep the three faults the issue found from coming back: a node parameter typed Any, attributes
bolted onto a Node handed in, and imports hidden inside functions to dodge a circle. The services get
what they publish on (the subscription hub) and serve from (the faucet) as arguments, so they are tested
with their own.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_mailbox import BUYER, NOW, SELLER, chain_state, envelope

from marketnode.core.errors import RpcError
from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.node.api.faucet import FAUCET_KEY_FILE, FaucetSource
from marketnode.node.config import MailboxSection
from marketnode.node.mailbox.service import MailboxService
from marketnode.node.rpc.subscriptions import SubscriptionHub

ROOT = Path(__file__).parents[2]
PACKAGES = ("core", "market", "consensus", "p2p", "node", "wallet", "cli", "tools")


def modules(*packages: str) -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for package in packages for path in sorted((ROOT / package).rglob("*.py"))]


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_function_takes_the_node_untyped() -> None:
    untyped = []
    for path, tree in modules(*PACKAGES):
        for fn in functions(tree):
            for arg in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
                annotation = ast.unparse(arg.annotation) if arg.annotation is not None else None
                if arg.arg == "node" and annotation in ("Any", "object", "typing.Any"):
                    untyped.append(f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}({arg.arg}: {annotation})")
    assert untyped == [], "type these with a Protocol of node/boundary.py:\n" + "\n".join(untyped)


def test_nothing_sets_or_probes_attributes_of_a_node_it_was_handed() -> None:
    bolted = []
    for path, tree in modules("node", "cli", "tools"):
        for fn in functions(tree):
            params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
            if "node" not in params:
                continue
            for sub in ast.walk(fn):
                targets = sub.targets if isinstance(sub, ast.Assign) else \
                    [sub.target] if isinstance(sub, (ast.AnnAssign, ast.AugAssign)) else []
                for target in targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                            and target.value.id == "node":
                        bolted.append(f"{path.relative_to(ROOT)}:{sub.lineno} node.{target.attr} = ...")
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) \
                        and sub.func.id in ("getattr", "setattr", "hasattr") and sub.args \
                        and isinstance(sub.args[0], ast.Name) and sub.args[0].id == "node":
                    bolted.append(f"{path.relative_to(ROOT)}:{sub.lineno} {sub.func.id}(node, ...)")
    assert bolted == [], "create it where it belongs and pass it in:\n" + "\n".join(sorted(set(bolted)))


def test_node_imports_marketnode_only_at_module_level() -> None:
    """A function-level import hides an import circle; a type-only one goes under ``if TYPE_CHECKING:``."""
    hidden = []
    for path, tree in modules("node"):
        for fn in functions(tree):
            for sub in ast.walk(fn):
                names = [a.name for a in sub.names] if isinstance(sub, ast.Import) else \
                    [sub.module or ""] if isinstance(sub, ast.ImportFrom) else []
                hidden += [f"{path.relative_to(ROOT)}:{sub.lineno} {n}" for n in names if n.startswith("marketnode")]
    assert hidden == [], "\n".join(sorted(set(hidden)))  # a nested function is walked in its outer one too


def test_the_faucet_source_says_why_it_cannot_serve_and_loads_its_key_once(tmp_path: Path) -> None:
    with pytest.raises(RpcError) as off:
        FaucetSource(enabled=False).get()
    assert off.value.code == -32601 and off.value.data == {"reason": "disabled"}
    source = FaucetSource(enabled=True, key_path=tmp_path / FAUCET_KEY_FILE)
    with pytest.raises(RpcError) as missing:
        source.get()
    assert missing.value.code == -32601 and missing.value.data == {"reason": "no_key"}
    key = PrivateKey.generate()
    key.save(tmp_path / FAUCET_KEY_FILE)  # written after the node started: served from the next call on
    faucet = source.get()
    assert faucet.key.public_key == key.public_key
    assert source.get() is faucet  # one faucet per server: its nonce and rate windows carry over between calls


class Connection:
    """A websocket connection as the hub sees it, keeping what it was sent."""

    def __init__(self) -> None:
        self.conn_id, self.client, self.is_admin = "ws-test", "127.0.0.1", False
        self.sent: list[dict] = []

    def deliver(self, text: str) -> bool:
        self.sent.append(json.loads(text))
        return True

    def drop(self, reason: str) -> None:
        raise AssertionError(f"dropped: {reason}")


class Peers:
    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None:
        pass


def test_the_mailbox_notifies_on_the_hub_it_was_given(tmp_path: Path) -> None:
    state = chain_state()
    node = SimpleNamespace(cfg=SimpleNamespace(mailbox=MailboxSection(), data_path=tmp_path), chain_id="test-chain",
                           store=SimpleNamespace(state_reader=lambda: state), p2p=Peers())
    hub, seller = SubscriptionHub(), Connection()
    subscription = hub.subscribe(seller, "messages", {"address": address_from_pubkey(SELLER.public_key)})
    service = MailboxService(node, lambda: NOW, hub)
    try:
        accepted = service.submit(envelope(sender=BUYER, to=(SELLER,)))
    finally:
        service.close()
    assert accepted.new
    assert [(m["params"]["subscription"], m["params"]["result"]["event"], m["params"]["result"]["id"])
            for m in seller.sent] == [(subscription, "message", accepted.message.id.hex())]
