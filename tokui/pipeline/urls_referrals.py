"""URLs of the referral pages (included by tokui/pipeline/urls.py, names ``pipeline:…``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.pipeline import views_referrals as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("referrals/", views.referral_index, name="referral_index"),
    path(
        "accounts/<int:account_id>/referrals/new/",
        views.referral_create,
        name="referral_create",
    ),
    path("referrals/<int:referral_id>/edit/", views.referral_edit, name="referral_edit"),
    path("referrals/<int:referral_id>/delete/", views.referral_delete, name="referral_delete"),
    path("referrals/rewards/<int:reward_id>/paid/", views.reward_paid, name="referral_reward_paid"),
    path(
        "referrals/rewards/<int:reward_id>/cancel/",
        views.reward_cancel,
        name="referral_reward_cancel",
    ),
    path("referrals/rules/", views.rule_index, name="referral_rule_index"),
    path("referrals/rules/new/", views.rule_create, name="referral_rule_create"),
    path("referrals/rules/<int:rule_id>/edit/", views.rule_edit, name="referral_rule_edit"),
    path(
        "referrals/rules/<int:rule_id>/active/",
        views.rule_activate,
        name="referral_rule_activate",
    ),
]
