"""Tongban's settings with two benchmark-only changes (never used by the product).

- The URLconf adds the direct lookup the gateway is compared with (``bench.urls``).
- The gateway's per-client rate limit and the verification API's per-address
  limit are raised out of reach: every call is still counted in the database as
  in production, but none is refused, so the benchmark measures answered calls
  rather than the refusal path.
"""

from tongban.settings import *  # noqa: F403
from tongban.settings import RATE_LIMITS

ROOT_URLCONF = "bench.urls"
RATE_LIMITS = {**RATE_LIMITS, "exchange_call": (10**12, 60), "credential_verify": (10**12, 60)}
