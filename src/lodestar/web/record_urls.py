"""The record pages' addresses, included into the `web` namespace by `lodestar.web.urls`."""

from django.urls import path

from lodestar.web import records

urlpatterns = [
    path("deals/new/", records.deal_new, name="deal-new"),
    path("deals/new/accounts/", records.account_suggest, name="account-suggest"),
    path("accounts/", records.account_list, name="accounts"),
    path("accounts/new/", records.account_new, name="account-new"),
    path("accounts/<int:account_id>/", records.account_detail, name="account"),
    path("accounts/<int:account_id>/edit/", records.account_edit, name="account-edit"),
    path("accounts/<int:account_id>/contacts/new/", records.contact_new, name="contact-new"),
    path("contacts/<int:contact_id>/edit/", records.contact_edit, name="contact-edit"),
    path("search/", records.search, name="search"),
]
