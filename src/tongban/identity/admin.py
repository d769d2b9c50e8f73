"""Admin views of accounts, appointments, delegations and department systems.

They only show: accounts are created and changed through identity.services
(sign-up, officer creation, appointments), which validate and audit.
"""

from __future__ import annotations

from django.contrib import admin

from tongban.identity.models import Account, Appointment, Delegation, DepartmentSystem
from tongban.kernel.admin import ReadOnlyAdmin


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["username", "kind", "assurance_level", "is_active", "locked_until", "last_login"]
    list_filter = ["kind", "assurance_level", "is_active"]
    search_fields = ["username"]
    # Never the TOTP secret, the password hash or the person link's ID number.
    fields = ["username", "kind", "assurance_level", "real_name_verified_at", "is_active",
              "is_staff", "failed_sign_ins", "locked_until", "last_login", "date_joined"]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["account", "department", "role", "position", "appointed_at"]
    list_filter = ["role", "department__region"]
    list_select_related = ["account", "department", "position"]


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ["entity", "delegate", "granted_by", "valid_until", "revoked_at"]
    list_select_related = ["entity", "delegate", "granted_by"]
    fields = ["entity", "delegate", "granted_by", "valid_until", "revoked_at", "created_at"]


@admin.register(DepartmentSystem)
class DepartmentSystemAdmin(ReadOnlyAdmin):
    list_display = ["name", "department", "application", "created_at"]
    list_select_related = ["department", "application"]
