"""Structure-aware fuzzing of message envelopes and read markers: valid ones with one field replaced.

Whatever a wallet or a peer sends, the node's door (Mailbox.accept) answers with a MailboxRefused naming
a reason, and a reader's ``open`` with a ValidationError: never another exception, never a stored forgery.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from test_structured_decoders import _replace_somewhere, paths, values

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, ValidationError
from marketnode.core.message import Envelope, ReadMarker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from test_mailbox import BUYER, NOW, SELLER, envelope, make_mailbox

from marketnode.node.mailbox.rules import MailboxRefused

FUZZ = settings(max_examples=int(os.environ.get("MARKETNODE_FUZZ_EXAMPLES", "400")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
VALID = envelope(text="fuzz me")
MARKER = ReadMarker("test-chain", SELLER.public_key, (Envelope.decode(VALID).id,), NOW).sign(SELLER).encode()


@FUZZ
@given(paths, values)
def test_a_changed_envelope_is_refused_with_a_reason_or_is_the_original(path, new):
    raw = encode(_replace_somewhere(decode(VALID), path, new))
    box, _ = make_mailbox()
    try:
        accepted = box.accept(raw)
    except MailboxRefused as exc:
        assert exc.reason in {"malformed", "signature", "invalid", "too_large", "clock", "expired", "unauthorised",
                              "rate", "pair_full", "busy"}
        return
    assert raw == VALID and accepted.message.envelope.open(SELLER) == "fuzz me"


@FUZZ
@given(paths, values)
def test_opening_a_changed_envelope_gives_the_text_or_a_validation_error(path, new):
    raw = encode(_replace_somewhere(decode(VALID), path, new))
    try:
        env = Envelope.decode(raw)
    except DecodeError:
        return
    try:
        text = env.open(BUYER)
    except ValidationError:
        return
    assert text == "fuzz me"


@FUZZ
@given(paths, values)
def test_a_changed_read_marker_is_refused_or_marks_nothing_new(path, new):
    box, _ = make_mailbox()
    box.accept(VALID)
    raw = encode(_replace_somewhere(decode(MARKER), path, new))
    try:
        fresh = box.mark_read(raw)
    except MailboxRefused:
        return
    assert raw == MARKER and len(fresh) == 1
