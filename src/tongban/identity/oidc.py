"""OpenID Connect provider customizations."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class TongbanOAuth2Validator(OAuth2Validator):
    """Issue pairwise subjects, names and assurance levels in ID tokens."""
