"""Generate wallet/kinds.py from market/schema.py: one builder per tx kind.

The wallet may not import market/, so the schema's names, requiredness, wire
types, choices and docs are rendered into a plain module the wallet owns.
``test_builders.py`` fails when the file is stale; regenerate with::

    .venv/bin/python tests/wallet/kinds_gen.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from marketnode.market import fields as mf
from marketnode.market.schema import KINDS

TARGET = Path(__file__).resolve().parents[2] / "wallet" / "kinds.py"

HINTS = {
    "uint": "int", "int": "int", "str": "str", "bool": "bool", "bytes": "bytes", "account": "Account", "hash": "Hash",
    "scalar": "Scalar", "map": "Mapping[str, Scalar]",
}


def wire_of(kind: mf.FieldType) -> str:
    """The wallet's type tag for a market field type (accounts and hashes by identity: both are 32 bytes)."""
    if kind is mf.ACCOUNT:
        return "account"
    if kind is mf.HASH:
        return "hash"
    if isinstance(kind, mf.ListOf):
        return "list:" + wire_of(kind.item)
    simple = {mf.UInt: "uint", mf.Int: "int", mf.Text: "str", mf.OneOf: "str", mf.Flag: "bool", mf.Raw: "bytes",
              mf.Scalar: "scalar", mf.MapOf: "map", mf.Struct: "struct"}
    return simple[type(kind)]


def hint_of_kind(kind: mf.FieldType) -> str:
    """The Python hint of a field type; a struct's values are the union of its members' hints (a variant's
    ``choice`` is a list of strings, its ``stock`` an int)."""
    if isinstance(kind, mf.ListOf):
        return f"Sequence[{hint_of_kind(kind.item)}]"
    if isinstance(kind, mf.Struct):
        return f"Mapping[str, {' | '.join(dict.fromkeys(hint_of_kind(k) for _, k in kind.members))}]"
    return hint_of(wire_of(kind))


def hint_of(wire: str) -> str:
    if wire.startswith("list:"):
        return f"Sequence[{hint_of(wire[5:])}]"
    return HINTS[wire]


def q(text: str) -> str:
    """A Python string literal in the repo's double-quote style."""
    return json.dumps(text, ensure_ascii=False)


def tup(items: list[str]) -> str:
    """A tuple literal of strings (a one-item tuple keeps its comma)."""
    return "(" + ", ".join(q(i) for i in items) + ("," if len(items) == 1 else "") + ")"


def _field_spec(field: mf.Field) -> str:
    extra = ""
    if isinstance(field.kind, mf.OneOf):
        extra = ", " + tup(list(field.kind.choices))
    if isinstance(field.kind, mf.Struct):
        extra = ", members=" + tup([name for name, _ in field.kind.members])
    return f"FieldSpec({q(field.name)}, {q(wire_of(field.kind))}, {not field.optional}, {q(field.doc)}{extra})"


def _function(name: str) -> list[str]:
    spec = KINDS[name]
    ordered = [f for f in spec.fields if not f.optional] + [f for f in spec.fields if f.optional]
    params = []
    for field in ordered:
        hint = hint_of_kind(field.kind)
        params.append(f"{field.name}: {hint}" if not field.optional else f"{field.name}: {hint} | None = None")
    lines = [f"def {name}(", "    *,", *(f"    {p}," for p in params), ") -> dict[str, Any]:"]
    lines.append(f'    """{spec.summary[0].upper() + spec.summary[1:]}.')
    lines.append("")
    for field in ordered:
        lines.append(f"    ``{field.name}``{'' if not field.optional else ' (optional)'}: {field.doc}")
    lines.append('    """')
    lines.append(f"    return make_body(KINDS[{q(name)}], {{")
    lines += [f"        {q(f.name)}: {f.name}," for f in spec.fields]
    lines.append("    })")
    return lines


def render() -> str:
    out = [
        '"""One builder per market tx kind, and the table they check against. GENERATED: do not edit.',
        "",
        "Rendered from market/schema.py by tests/wallet/kinds_gen.py (the wallet may not",
        "import market/); tests/wallet/test_builders.py fails when this file is stale.",
        "Each builder returns the wire body for ``wallet.builders.build_tx``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping, Sequence",
        "from typing import Any",
        "",
        "from marketnode.wallet.bodies import Account, FieldSpec, Hash, KindSpec, Scalar, make_body",
        "",
        "KINDS: dict[str, KindSpec] = {",
    ]
    for spec in KINDS.values():
        out.append(f"    {q(spec.name)}: KindSpec(")
        out.append(f"        {q(spec.name)}, {q(spec.summary)}, (")
        out += [f"            {_field_spec(field)}," for field in spec.fields]
        out.append("        ),")
        out.append("    ),")
    out.append("}")
    for name in KINDS:
        out += ["", "", *_function(name)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    sys.stdout.write(f"wrote {TARGET}\n")
