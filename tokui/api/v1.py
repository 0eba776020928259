"""The REST API, version 1, at /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from ninja import NinjaAPI

from tokui.api.accounts import router as accounts_router
from tokui.api.agreements import router as agreements_router
from tokui.api.appointments import router as appointments_router
from tokui.api.approvals import router as approvals_router
from tokui.api.auth import API_AUTH
from tokui.api.deals import router as deals_router
from tokui.api.duplicates import router as duplicates_router
from tokui.api.errors import install_error_handlers
from tokui.api.imports import router as imports_router
from tokui.api.interactions import router as interactions_router
from tokui.api.invoices import router as invoices_router
from tokui.api.orders import router as orders_router
from tokui.api.prices import router as prices_router
from tokui.api.pricing_rules import router as pricing_rules_router
from tokui.api.products import router as products_router
from tokui.api.quotes import router as quotes_router
from tokui.api.referrals import router as referrals_router
from tokui.api.reports import router as reports_router
from tokui.api.screening import router as screening_router
from tokui.api.search import router as search_router
from tokui.api.segments import router as segments_router
from tokui.api.tasks import router as tasks_router
from tokui.api.telephony import router as telephony_router

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
api.add_router("/", search_router)
api.add_router("/", screening_router)
api.add_router("/", duplicates_router)
api.add_router("/", segments_router)
api.add_router("/", imports_router)
api.add_router("/", interactions_router)
api.add_router("/", appointments_router)
api.add_router("/", tasks_router)
api.add_router("/", telephony_router)
api.add_router("/", reports_router)
api.add_router("/", products_router)
api.add_router("/", prices_router)
api.add_router("/", agreements_router)
api.add_router("/", pricing_rules_router)
api.add_router("/", approvals_router)
api.add_router("/", deals_router)
api.add_router("/", quotes_router)
api.add_router("/", invoices_router)
api.add_router("/", orders_router)
api.add_router("/", referrals_router)
