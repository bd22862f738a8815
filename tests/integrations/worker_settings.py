"""Settings for real worker processes started by the concurrency tests.

The test settings, plus a lease short enough to watch a killed worker's claim expire.
"""

import os

from tests.settings import *  # noqa: F403

NOTIFICATION_LEASE_SECONDS = int(os.environ.get("NOTIFICATION_LEASE_SECONDS", "300"))
