from django.urls import path

from tokui.accounts import views

app_name = "accounts"
urlpatterns = [
    path("accounts/", views.account_index, name="index"),
    path("accounts/new/", views.account_create, name="create"),
    path("accounts/<int:account_id>/", views.account_detail, name="detail"),
    path("accounts/<int:account_id>/edit/", views.account_edit, name="edit"),
    path("accounts/<int:account_id>/archive/", views.account_archive, name="archive"),
    path("accounts/<int:account_id>/restore/", views.account_restore, name="restore"),
    path("accounts/<int:account_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/", views.contact_index, name="contact_index"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/archive/", views.contact_archive, name="contact_archive"),
]
