"""The web pages every node serves: a no-build single-page app over the node's own JSON-RPC.

``routes.add_web_routes(app)`` mounts ``GET /`` (the app shell) and
``GET /static/...`` on the RPC app; everything the pages show comes from
JSON-RPC and the ``/ws`` subscriptions, never from here. ``static/`` holds
one ES module per concern: api.js (JSON-RPC and websocket client), router.js
(hash routes), format.js (DOM, amounts, times), market.js, explorer.js,
provenance.js, network.js (the pages), proof.js and canonical.js (hashing,
Merkle and signature checks), wallet.js and walletui.js (the optional
in-browser wallet), app.js (entry point).
"""

from marketnode.node.web.routes import STATIC_DIR, add_web_routes

__all__ = ["STATIC_DIR", "add_web_routes"]
