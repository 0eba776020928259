"""URLs of the activities app's mail pages (included by tokui.activities.urls)."""

from django.urls import URLPattern, path

from tokui.activities import views_mail as views

urlpatterns: list[URLPattern] = [
    path("contacts/<int:contact_id>/email/", views.email_compose, name="email_compose"),
    path("interactions/<int:interaction_id>/resend/", views.email_resend, name="email_resend"),
    path("mail/templates/", views.template_index, name="email_templates"),
    path("mail/templates/new/", views.template_create, name="email_template_create"),
    path(
        "mail/templates/<int:template_id>/edit/",
        views.template_edit,
        name="email_template_edit",
    ),
    path(
        "mail/templates/<int:template_id>/delete/",
        views.template_delete,
        name="email_template_delete",
    ),
    path("mail/mailboxes/", views.mailbox_index, name="mailboxes"),
]
