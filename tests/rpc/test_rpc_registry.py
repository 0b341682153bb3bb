"""Method declarations: validation tables, startup checks against drift, OpenRPC and docs/RPC.md."""

from __future__ import annotations

from typing import Any

import pytest
from rpc_helpers import demo_registry

from marketnode.core.errors import RpcError
from marketnode.node.rpc import CallContext, Method, Param, Registry
from marketnode.node.rpc.docs import main as docs_main
from marketnode.node.rpc.docs import render_markdown


async def _handler(ctx: CallContext, **params: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("param", "value", "ok"),
    [
        (Param("n", "integer", "n", minimum=0, maximum=10), 10, True),
        (Param("n", "integer", "n", minimum=0, maximum=10), 11, False),
        (Param("n", "integer", "n"), True, False),
        (Param("s", "string", "s", max_length=3), "abc", True),
        (Param("s", "string", "s", max_length=3), "abcd", False),
        (Param("s", "string", "s", enum=("newest", "price")), "price", True),
        (Param("s", "string", "s", enum=("newest", "price")), "cheapest", False),
        (Param("a", "array", "a", items="integer", max_length=2), [1, 2], True),
        (Param("a", "array", "a", items="integer", max_length=2), [1, "2"], False),
        (Param("a", "array", "a", items="hash"), ["00" * 32], True),
        (Param("o", "object", "o"), [], False),
        (Param("x", ("null", "integer"), "x"), None, True),
        (Param("h", "hex", "h", max_length=2), "abcd", True),
        (Param("h", "hex", "h", max_length=2), "abcdef", False),
        (Param("h", "hex", "h"), "abc", False),
    ],
)
def test_param_check_table(param: Param, value: Any, ok: bool) -> None:
    if ok:
        param.check(value)
    else:
        with pytest.raises(RpcError) as info:
            param.check(value)
        assert info.value.code == -32602 and repr(param.name) in info.value.message


def test_array_of_hashes_arrives_as_bytes() -> None:
    assert Param("a", "array", "a", items="hash").check(["01" * 32]) == [b"\x01" * 32]


def test_handler_that_drifted_from_its_declaration_is_refused_at_startup() -> None:
    async def takes_a(ctx: CallContext, a: int) -> int:
        return a

    with pytest.raises(TypeError, match="does not accept declared params"):
        Method("x_y", "s", takes_a, params=(Param("b", "integer", "b"),))
    with pytest.raises(TypeError, match="requires undeclared params"):
        Method("x_y", "s", takes_a)


def test_sync_handler_and_bad_names_are_refused() -> None:
    def sync(ctx: CallContext) -> None:
        return None

    with pytest.raises(TypeError):
        Method("x_y", "s", sync)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Method("rpc.reserved", "s", _handler)
    with pytest.raises(ValueError):
        Param("p", "float", "no floats")
    with pytest.raises(ValueError):
        Param("p", "integer", "p", required=True, default=1)


def test_a_method_name_is_registered_once() -> None:
    registry = Registry()
    registry.add(Method("x_y", "s", _handler))
    with pytest.raises(ValueError, match="already registered"):
        registry.add(Method("x_y", "s", _handler))


def test_optional_param_without_default_is_left_to_the_handler() -> None:
    method = Method("x_y", "s", _handler, params=(Param("p", "integer", "p", required=False),))
    assert method.bind({}) == {}
    assert method.bind(None) == {}
    assert method.bind([5]) == {"p": 5}
    assert method.bind({"p": None}) == {}  # null for an optional param counts as absent


def test_null_for_a_required_param_is_invalid() -> None:
    method = Method("x_y", "s", _handler, params=(Param("p", "integer", "p"),))
    with pytest.raises(RpcError):
        method.bind({"p": None})


def test_openrpc_document_lists_every_method_sorted_with_error_table() -> None:
    doc = demo_registry().openrpc(servers=[{"name": "local", "url": "http://127.0.0.1:26657/"}])
    names = [m["name"] for m in doc["methods"]]
    assert names == sorted(names)
    assert doc["servers"][0]["url"].startswith("http://127.0.0.1")
    assert {int(c) for c in doc["components"]["errors"]} >= {-32700, -32600, -32601, -32602, -32603,
                                                            -32000, -32001, -32002, -32003, -32005}
    formats = next(m for m in doc["methods"] if m["name"] == "demo_formats")
    ref = next(p for p in formats["params"] if p["name"] == "ref")
    assert [s["type"] for s in ref["schema"]["oneOf"]] == ["integer", "string"]


def test_markdown_mentions_every_method_and_param() -> None:
    registry = demo_registry()
    text = render_markdown(registry.openrpc())
    for method in registry:
        assert f"### `{method.name}`" in text
        for p in method.params:
            assert f"`{p.name}`" in text
    assert "| -32003 |" in text


def test_docs_script_writes_then_checks(tmp_path, monkeypatch) -> None:
    import rpc_helpers

    monkeypatch.setattr(rpc_helpers, "REGISTRY", demo_registry(), raising=False)
    out = tmp_path / "RPC.md"
    assert docs_main(["--registry", "rpc_helpers:REGISTRY", "--out", str(out)]) == 0
    assert "demo_add" in out.read_text()
    assert docs_main(["--registry", "rpc_helpers:demo_registry", "--out", str(out), "--check"]) == 0
    out.write_text("stale")
    assert docs_main(["--registry", "rpc_helpers:demo_registry", "--out", str(out), "--check"]) == 1
