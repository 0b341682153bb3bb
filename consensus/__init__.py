"""consensus: PBFT ordering of blocks as a sans-IO state machine (no asyncio, sockets, clock or randomness).

Layout: ``messages`` (wire types and their canonical bytes), ``actions``
(what the replica asks the node to do), ``records`` (Head, LastSigned: the
durable inputs), ``app`` (the Application protocol the node implements),
``replica`` (the Replica state machine, assembled from ``normal_case``,
``view_change`` and ``catch_up`` over ``replica_base``; ``state`` holds
ReplicaConfig and the round). The protocol and
the node's contract are in docs/CONSENSUS.md.
"""

from marketnode.core.namespace import require_namespace

require_namespace(__name__)

from marketnode.consensus.actions import (
    Action,
    Broadcast,
    CancelTimer,
    CommitBlock,
    PersistLastSigned,
    RecordEvidence,
    RequestBlocks,
    SendTo,
    SetTimer,
)
from marketnode.consensus.app import Application
from marketnode.consensus.messages import (
    Commit,
    CommitNotice,
    Message,
    NewView,
    Prepare,
    PreparedCert,
    PrePrepare,
    ViewChange,
    decode_message,
    encode_message,
)
from marketnode.consensus.records import Head, LastSigned
from marketnode.consensus.replica import TIMER_SYNC, TIMER_VIEW, Rejected, Replica, ReplicaConfig

__all__ = [
    "TIMER_SYNC", "TIMER_VIEW", "Action", "Application", "Broadcast", "CancelTimer", "Commit", "CommitBlock",
    "CommitNotice", "Head", "LastSigned", "Message", "NewView", "PersistLastSigned", "PrePrepare", "Prepare",
    "PreparedCert", "RecordEvidence", "Rejected", "Replica", "ReplicaConfig", "RequestBlocks", "SendTo",
    "SetTimer", "ViewChange", "decode_message", "encode_message",
]
