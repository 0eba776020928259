"""URLs of the pipeline board, the deal list and the forecast (names ``pipeline:…``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.pipeline import views_board as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("deals/", views.deals_root, name="deals"),
    path("deals/board/", views.board, name="board"),
    path("deals/board/column/<int:stage_id>/", views.board_column, name="board_column"),
    path("deals/board/move/", views.board_move, name="board_move"),
    path("deals/board/move/<int:deal_id>/", views.board_move_form, name="board_move_form"),
    path("deals/list/", views.deal_list, name="deal_list"),
    path("deals/forecast/", views.forecast, name="forecast"),
]
