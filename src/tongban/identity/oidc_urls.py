"""The OpenID Connect provider's routes, mounted at the site root.

The issuer is the site root, so its discovery document lives at
``/.well-known/openid-configuration`` (OpenID Connect Discovery) and its
authorization-server metadata at ``/.well-known/oauth-authorization-server``
(RFC 8414). DOT derives the issuer from these routes (unless
``OIDC_ISS_ENDPOINT`` is set), so the ``iss`` of ID tokens, the RFC 9207
``iss`` authorization-response parameter and both metadata documents agree.
The endpoints themselves stay under ``/o/``, where DOT keeps them; the
discovery document is served there too.

Only the endpoints a relying party needs are mounted: not DOT's application
management pages, which would let any signed-in account register clients
(department systems are registered by platform administrators, see
``identity.services.clients``), nor dynamic registration or the device flow.
"""

from django.urls import path, re_path
from oauth2_provider import views as dot

from tongban.identity.oidc import DiscoveryView

# DOT reverses its routes in this namespace.
app_name = "oauth2_provider"

urlpatterns = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        dot.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path("o/authorize/", dot.AuthorizationView.as_view(), name="authorize"),
    path("o/token/", dot.TokenView.as_view(), name="token"),
    path("o/revoke_token/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/userinfo/", dot.UserInfoView.as_view(), name="user-info"),
    path("o/.well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    re_path(
        r"^o/\.well-known/openid-configuration/?$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info-under-o",
    ),
]
