from django.urls import path

from tokui.catalog import views

app_name = "catalog"
urlpatterns = [
    path("products/", views.product_index, name="product_index"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
    path(
        "products/<int:product_id>/attachments/",
        views.attachment_upload,
        name="attachment_upload",
    ),
    path(
        "products/attachments/<int:attachment_id>/download/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "products/attachments/<int:attachment_id>/image/",
        views.attachment_image,
        name="attachment_image",
    ),
    path(
        "products/attachments/<int:attachment_id>/delete/",
        views.attachment_delete,
        name="attachment_delete",
    ),
    path("products/competitors/", views.competitor_index, name="competitor_index"),
    path("products/competitors/new/", views.competitor_form, name="competitor_create"),
    path(
        "products/competitors/<int:competitor_product_id>/",
        views.competitor_detail,
        name="competitor_detail",
    ),
    path(
        "products/competitors/<int:competitor_product_id>/edit/",
        views.competitor_form,
        name="competitor_edit",
    ),
    path("products/lines/", views.line_index, name="line_index"),
    path("products/lines/new/", views.line_form, name="line_create"),
    path("products/lines/<int:line_id>/edit/", views.line_form, name="line_edit"),
    path("price-lists/", views.price_list_index, name="price_list_index"),
    path("price-lists/new/", views.price_list_form, name="price_list_create"),
    path("price-lists/<int:price_list_id>/", views.price_list_detail, name="price_list_detail"),
    path("price-lists/<int:price_list_id>/edit/", views.price_list_form, name="price_list_edit"),
    path("price-lists/<int:price_list_id>/items/", views.price_list_items, name="price_list_items"),
]
