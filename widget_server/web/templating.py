"""The Jinja2 environment: autoescaped templates, shared by every page."""

from __future__ import annotations

from starlette.templating import Jinja2Templates

from widget_server.settings import PACKAGE_ROOT

templates = Jinja2Templates(directory=str(PACKAGE_ROOT / "templates"))
templates.env.autoescape = True
