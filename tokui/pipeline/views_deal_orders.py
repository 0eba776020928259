"""The "Take order" action of a won deal's page (the service: tokui.pipeline.deal_orders)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tokui.core.exceptions import ApplicationError
from tokui.core.views import maps_service_errors
from tokui.pipeline import deal_orders, views_deals


@maps_service_errors
@require_POST
def deal_order(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Take the won deal's order (or open the one already taken) and show it."""
    deal = views_deals._get(request, deal_id)
    views_deals._require_editor(request)
    try:
        order = deal_orders.order_from_deal(actor=views_deals._viewer(request), deal=deal)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        return views_deals._action_error(request, deal, exc)
    return redirect("orders:order_detail", order.pk)
