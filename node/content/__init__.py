"""The content store: blobs addressed by sha256, kept while the chain references them, fetched from peers.

``kinds`` says what a blob is (sniffed from its bytes), ``blobs`` keeps the
bytes, ``store`` the metadata, quotas and retention, ``fetch`` the want list
of referenced blobs this node lacks, ``http`` serves ``GET /content/<hash>``.
"""
