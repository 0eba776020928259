"""URLs of the pricing app's rules pages (included by tokui/pricing/urls.py): discount rules,
bonus programmes and credit notes, and the price check."""

from django.urls import URLPattern, path

from tokui.pricing import views_rules as views

urlpatterns: list[URLPattern] = [
    path("pricing/rules/", views.rule_index, name="rule_index"),
    path("pricing/rules/new/", views.rule_create, name="rule_create"),
    path("pricing/rules/<int:rule_id>/edit/", views.rule_edit, name="rule_edit"),
    path("pricing/rules/<int:rule_id>/deactivate/", views.rule_deactivate, name="rule_deactivate"),
    path("prices/check/", views.price_check, name="price_check"),
    path("pricing/rebates/new/", views.rebate_create, name="rebate_create"),
    path("pricing/rebates/<int:programme_id>/", views.rebate_detail, name="rebate_detail"),
    path("pricing/rebates/<int:programme_id>/settle/", views.rebate_settle, name="rebate_settle"),
    path("pricing/rebates/<int:programme_id>/cancel/", views.rebate_cancel, name="rebate_cancel"),
    path(
        "pricing/credit-notes/<int:credit_note_id>/",
        views.credit_note_detail,
        name="credit_note_detail",
    ),
]
