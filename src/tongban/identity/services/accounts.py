"""Accounts, real-name binding, sign-in, second factors, officers and delegations."""

__all__: list[str] = []
