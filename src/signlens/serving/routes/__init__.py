"""The HTTP endpoints, one module per resource. A new router is registered in `ROUTERS`, once."""

from __future__ import annotations

from signlens.serving.routes import admin, feedback, health, models, pages, predict, spell, teach

#: Every router the app includes, in OpenAPI order.
ROUTERS = (predict.router, spell.router, feedback.router, models.router, health.router, pages.router, admin.router, teach.router)
