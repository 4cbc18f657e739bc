"""Types that handler signatures share: the plain request and the injected dependencies."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from custom_audiences.services.container import Services

#: Handlers take the plain request: no user, no auth object, the default state.
AnyRequest = Request[Any, Any, State]
#: The process's services, provided by ``create_app`` under the name ``services``.
ServicesDep = NamedDependency[Services]
#: The encoded OpenAPI document, provided under the name ``openapi_json``.
OpenApiJsonDep = NamedDependency[bytes]
