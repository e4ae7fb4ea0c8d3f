"""`python -m bot.ops.tracker_check`: exit 0 when Rasa's tracker database (GEHOOR_TRACKER_DB_URL)
is reachable and has Rasa's `events` table, else print why and exit 1.

Rasa starts even when it could not create its tracker tables, and then keeps conversations
in memory only. `gehoor run-prod` checks this before it reports ready; in Kubernetes this is
the Rasa pods' startup probe (deploy/k8s/rasa.yaml)."""
from __future__ import annotations

import os
import sys


def main() -> int:
    from bot.run_prod import tracker_table_exists

    url = os.environ.get("GEHOOR_TRACKER_DB_URL")
    if not url:
        print("GEHOOR_TRACKER_DB_URL is not set", file=sys.stderr)
        return 1
    reason = tracker_table_exists(url)
    if reason:
        print(reason, file=sys.stderr)
        return 1
    print("tracker store ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
