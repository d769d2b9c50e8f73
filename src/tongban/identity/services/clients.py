"""Department systems as OAuth2 / OpenID Connect clients."""

__all__: list[str] = []
