"""Registries API."""

from ninja import Router

router = Router(tags=["registries"])
