"""The studio: a local web page over the library, for training, exploring, glyphs and films.

`app.py` holds what the page can ask for (a client of `reelgan.explore`, `reelgan.glyphs` and of `reelgan
train`/`reelgan film` run as background jobs); `server.py` serves it over HTTP on 127.0.0.1; `static/` is the
page itself.
"""

from .app import Studio
from .server import make_server, serve_in_thread, studio_for, url_of

__all__ = ["Studio", "make_server", "serve_in_thread", "studio_for", "url_of"]
