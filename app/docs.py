"""The API docs UIs, served from this process rather than a CDN, so they work offline.

Swagger UI's files come with the `swagger-ui-py` package. Scalar's single bundle is fetched by
`make install` (with npm) into the virtualenv; where npm was missing, Scalar falls back to its CDN.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

STATIC = "/schema/static"
SCALAR_BUNDLE = Path(sys.prefix) / "share" / "session-store" / "scalar"
_OWN_STATIC = Path(__file__).parent / "static"


def _swagger_files() -> Path | None:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if (folder / "swagger-ui-bundle.js").exists() else None


def docs_ui() -> tuple[list[OpenAPIRenderPlugin], list[Any]]:
    """The render plugins for /schema and the static routes their files need."""
    plugins: list[OpenAPIRenderPlugin] = []
    routes: list[Any] = [
        create_static_files_router(f"{STATIC}/own", directories=[_OWN_STATIC], include_in_schema=False)
    ]
    swagger = _swagger_files()
    if swagger is not None:
        routes.append(create_static_files_router(f"{STATIC}/swagger", directories=[swagger], include_in_schema=False))
        plugins.append(
            SwaggerRenderPlugin(
                js_url=f"{STATIC}/swagger/swagger-ui-bundle.js",
                css_url=f"{STATIC}/swagger/swagger-ui.css",
                standalone_preset_js_url=f"{STATIC}/swagger/swagger-ui-standalone-preset.js",
            )
        )
    else:
        plugins.append(SwaggerRenderPlugin())
    if (SCALAR_BUNDLE / "standalone.js").exists():
        routes.append(
            create_static_files_router(f"{STATIC}/scalar", directories=[SCALAR_BUNDLE], include_in_schema=False)
        )
        plugins.insert(
            0, ScalarRenderPlugin(js_url=f"{STATIC}/scalar/standalone.js", css_url=f"{STATIC}/own/scalar.css")
        )
    else:
        plugins.insert(0, ScalarRenderPlugin())
    return plugins, routes
