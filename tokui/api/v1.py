"""The REST API, version 1, at /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from ninja import NinjaAPI

from tokui.api.accounts import router as accounts_router
from tokui.api.auth import API_AUTH
from tokui.api.errors import install_error_handlers

api = NinjaAPI(
    title="Tokui API",
    version="1",
    description="Key-account CRM. Authenticate with `Authorization: Bearer <token>`; create a "
    "token with `tokui token create --user NAME`. Errors share one shape: "
    '`{"error": {"code", "message", "fields"}}`.',
    auth=API_AUTH,
    urls_namespace="api-v1",
    docs_url=None,
)
install_error_handlers(api)
api.add_router("/", accounts_router)
