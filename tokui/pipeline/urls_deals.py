"""URLs of the deal page and its forms (included by tokui/pipeline/urls.py, ``pipeline:…``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.pipeline import views_deal_orders
from tokui.pipeline import views_deals as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/stage/", views.deal_move, name="deal_move"),
    path("deals/<int:deal_id>/won/", views.deal_win, name="deal_win"),
    path("deals/<int:deal_id>/lost/", views.deal_lose, name="deal_lose"),
    path("deals/<int:deal_id>/steps/<int:step_id>/", views.deal_step, name="deal_step"),
    path("deals/<int:deal_id>/lines/", views.deal_lines, name="deal_lines"),
    path("deals/<int:deal_id>/needs/", views.deal_need_add, name="deal_need_add"),
    path(
        "deals/<int:deal_id>/needs/<int:need_id>/delete/",
        views.deal_need_delete,
        name="deal_need_delete",
    ),
    path("deals/<int:deal_id>/objections/", views.deal_objection_add, name="deal_objection_add"),
    path(
        "deals/<int:deal_id>/objections/<int:objection_id>/",
        views.deal_objection_answer,
        name="deal_objection_answer",
    ),
    path("deals/<int:deal_id>/book/", views.deal_book, name="deal_book"),
    path("deals/<int:deal_id>/meeting/", views.deal_meeting, name="deal_meeting"),
    path("deals/<int:deal_id>/quote/", views.deal_quote, name="deal_quote"),
    path("deals/<int:deal_id>/order/", views_deal_orders.deal_order, name="deal_order"),
]
