"""The web pages every node serves: a no-build single-page app over the node's own JSON-RPC.

``routes.add_web_routes(app)`` mounts ``GET /`` (the app shell) and
``GET /static/...`` (ES modules, CSS) on the RPC app; everything the pages
show comes from JSON-RPC and the ``/ws`` subscriptions, never from here.
"""

from node.web.routes import STATIC_DIR, add_web_routes

__all__ = ["STATIC_DIR", "add_web_routes"]
