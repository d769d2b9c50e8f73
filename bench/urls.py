"""The product's routes plus ``/bench/direct/<resource>/<key>``: the gateway's lookup without the gateway.

The direct view does what the gateway does to find and shape the subject (the
same key check, the same blind-index lookup, the same fields and masking) and
nothing else: no token, no grant, no rate limit, no call log. The difference
between the two is what the gateway costs. It exists only in the benchmark's
URLconf (``bench.settings``), never in the product's.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path

from tongban.catalog import services as catalog
from tongban.registries import services as registries
from tongban.urls import handler404, handler500
from tongban.urls import urlpatterns as product_urlpatterns

# The masking the benchmark's grant asks for (bench.gateway.MASKING).
MASKING = {"name": "name"}


def direct_person(request: HttpRequest, resource_code: str, key: str) -> JsonResponse:
    number = registries.normalize_id_number(key)
    if registries.id_number_error(number):
        return JsonResponse({"detail": "not a valid citizen ID number"}, status=422)
    person = registries.find_person_by_id_number(number)
    if person is None:
        return JsonResponse({"detail": "no such person"}, status=404)
    values: dict[str, Any] = {
        "id_number": person.id_number, "name": person.name, "sex": person.sex,
        "birth_date": person.birth_date.isoformat(), "nationality": person.nationality,
        "address_region": person.address_region.code, "status": person.status,
    }
    fields = [name.strip() for name in request.GET.get("fields", "").split(",") if name.strip()]
    data = {
        name: catalog.apply_masking(MASKING[name], values.get(name)) if name in MASKING else values.get(name)
        for name in fields
    }
    return JsonResponse({"resource": resource_code, "data": data,
                         "masked": [name for name in fields if name in MASKING]})


urlpatterns = [
    path("bench/direct/<str:resource_code>/<str:key>", direct_person),
    *product_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
