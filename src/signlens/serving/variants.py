"""Which served model answers a request: an explicit override, else the sticky A/B assignment.

The assignment hashes a client id (header `X-Client-Id`, else the `signlens_client` cookie, which
the server sets when missing), so a user keeps their variant while the weights stay the same.
`?model=` or the `X-Variant` header override it for debugging.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from starlette.requests import Request

from signlens.production.ab import Variant, assign

CLIENT_HEADER = "x-client-id"
VARIANT_HEADER = "x-variant"
COOKIE = "signlens_client"


@dataclass(frozen=True)
class Choice:
    variant: str
    new_client_id: str | None  # set as a cookie on the response when the client had none


class Traffic:
    """The live weights (replaced whole by PUT /v1/admin/traffic, so readers never see half an update)."""

    def __init__(self, weights: tuple[tuple[str, float], ...], default: str):
        self.default = default
        self.variants: list[Variant] = [Variant(n, w) for n, w in weights]

    def set(self, weights: tuple[tuple[str, float], ...]) -> None:
        self.variants = [Variant(n, w) for n, w in weights]

    def weights(self) -> dict[str, float]:
        return {v.name: v.weight for v in self.variants} or {self.default: 100.0}

    def choose(self, request: Request, override: str | None) -> Choice:
        override = override or request.headers.get(VARIANT_HEADER)
        client = request.headers.get(CLIENT_HEADER) or request.cookies.get(COOKIE)
        new = None if client else uuid.uuid4().hex
        if override:
            return Choice(override, new)
        variants = self.variants
        return Choice(assign(client or new or "", variants) if variants else self.default, new)
