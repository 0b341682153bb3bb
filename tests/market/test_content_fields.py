"""Every tx field that names off-chain text is one the nodes keep and fetch (market/content_refs.py)."""

from marketnode.market.content_refs import CONTENT_FIELDS
from marketnode.market.schema import KINDS


def test_every_field_documented_as_utf8_text_is_a_content_reference() -> None:
    missing = [(kind.name, field.name) for kind in KINDS.values() for field in kind.fields
               if "(UTF-8 text" in field.doc and field.name not in dict(CONTENT_FIELDS.get(kind.name, ()))]
    assert missing == [], f"text hashes nodes would never keep or fetch: {missing}"
