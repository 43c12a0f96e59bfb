"""One worker of `session-store serve --workers N`: the app as the parent process would have built
it, from the same config file (SESSION_STORE_CONFIG) and the secret keys it found or made. The parent
ran the migrations before starting any worker."""

from __future__ import annotations

import gc
import os

from litestar import Litestar

from app.factory import create_app
from infrastructure.config.loader import load_config
from infrastructure.logging import configure_logging
from infrastructure.secret_key import platform_secret_keys, session_secret_keys


def build() -> Litestar:
    config = load_config(os.environ.get("SESSION_STORE_CONFIG") or None)
    configure_logging(config.logging)
    host = os.environ.get("HOST") or config.server.host
    keys, _ = session_secret_keys(os.environ, host)
    platform_keys = platform_secret_keys(os.environ, host)[0] if config.platform_service.database_url else None
    app = create_app(config, secret_keys=keys, platform_keys=platform_keys)
    gc.collect()
    gc.freeze()  # as a single process does: start-up's objects stay out of the collector's walks
    return app
