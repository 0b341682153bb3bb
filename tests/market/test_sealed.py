"""core.sealed: what the wallet seals to an account only that account opens."""

from __future__ import annotations

import pytest

from marketnode.core.errors import ValidationError
from marketnode.core.keys import PrivateKey
from marketnode.core.sealed import SEAL_OVERHEAD, open_sealed, seal


def test_only_the_recipient_opens_a_sealed_box() -> None:
    alice, mallory = PrivateKey(b"\x01" * 32), PrivateKey(b"\x02" * 32)
    box = seal(alice.public_key, b"1 Main St")
    assert len(box) == len(b"1 Main St") + SEAL_OVERHEAD
    assert open_sealed(alice, box) == b"1 Main St"
    with pytest.raises(ValidationError):
        open_sealed(mallory, box)
    with pytest.raises(ValidationError):
        open_sealed(alice, box[:-1])
