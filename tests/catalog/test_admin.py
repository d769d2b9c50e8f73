"""The admin shows the catalog read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from tongban.catalog.models import AccessRequest, CatalogResource, Grant
from tongban.identity.models import Account


@pytest.mark.parametrize("model", [CatalogResource, AccessRequest, Grant])
def test_the_admin_cannot_write_catalog_records(model):
    request = RequestFactory().get("/")
    request.user = Account(is_superuser=True, is_staff=True, is_active=True)
    model_admin = admin.site._registry[model]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
