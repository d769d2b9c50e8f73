"""Read-only admin views of the CA, seals and seal keys (changed only through the services)."""

from __future__ import annotations

from django.contrib import admin

from tongban.credentials.models import CertificateAuthority, Seal, SealKey
from tongban.kernel.admin import ReadOnlyAdmin


@admin.register(CertificateAuthority)
class CertificateAuthorityAdmin(ReadOnlyAdmin):
    list_display = ["name", "serial", "algorithm", "not_before", "not_after", "retired_at"]
    # The key handle stays out of the admin: it is for the CryptoProvider only.
    fields = readonly_fields = ("name", "serial", "algorithm", "not_before", "not_after", "created_at",
                                "retired_at", "certificate_pem")


@admin.register(Seal)
class SealAdmin(ReadOnlyAdmin):
    list_display = ["name", "department", "created_at"]
    list_select_related = ["department"]
    fields = readonly_fields = ("name", "department", "created_at", "image_svg")


@admin.register(SealKey)
class SealKeyAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "seal", "use", "algorithm", "not_after", "retired_at"]
    list_filter = ["use", "algorithm"]
    list_select_related = ["seal"]
    fields = readonly_fields = ("seal", "use", "algorithm", "key_id", "serial", "issuer", "not_before",
                                "not_after", "created_at", "retired_at", "retire_reason", "certificate_pem")
