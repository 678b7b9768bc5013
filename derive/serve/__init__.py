"""`derive serve`: a local page where one types LaTeX and sees the derivation as one types.

The page (static/index.html, page.js) renders its maths with KaTeX vendored in static/katex,
so it works offline and loads nothing from elsewhere; the server (derive.serve.app) answers
its JSON requests from worker processes under a time limit (derive.serve.workers).
"""

from __future__ import annotations

from derive.serve.app import make_server, serve

__all__ = ["make_server", "serve"]
