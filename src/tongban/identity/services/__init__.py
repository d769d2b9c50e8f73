"""Every write of the identity block. Other blocks import from here only."""

from tongban.identity.services.accounts import *  # noqa: F403
from tongban.identity.services.clients import *  # noqa: F403
