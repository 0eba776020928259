"""URLs of the stage and playbook settings (included by tokui/pipeline/urls.py, ``pipeline:…``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.pipeline import views_stages as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("settings/stages/", views.stage_settings, name="stage_settings"),
    path("settings/stages/<int:stage_id>/", views.stage_edit, name="stage_edit"),
    path("settings/stages/<int:stage_id>/move/", views.stage_move, name="stage_move"),
    path("settings/stages/<int:stage_id>/active/", views.stage_active, name="stage_active"),
    path("settings/stages/<int:stage_id>/steps/", views.step_add, name="stage_step_add"),
    path("settings/stages/steps/<int:step_id>/", views.step_edit, name="stage_step_edit"),
    path("settings/stages/steps/<int:step_id>/move/", views.step_move, name="stage_step_move"),
    path(
        "settings/stages/steps/<int:step_id>/delete/",
        views.step_delete,
        name="stage_step_delete",
    ),
]
