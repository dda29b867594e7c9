"""The synthetic AANS tenant: cafes and a period of their orders, calls, reviews and bookings.

`generate(conn, TenantSpec(...))` writes the app's source tables (DESIGN section 4) the way the app
would have filled them, with the patterns, edge cases and invalid rows the analytics must handle.
See docs/tenant.md.
"""

from aans_analytics.tenant.load import generate, is_empty
from aans_analytics.tenant.spec import TenantSpec

__all__ = ["TenantSpec", "generate", "is_empty"]
