#!/usr/bin/env python
"""Production health check: the database answers and the application's tables exist. Exit 0 healthy, 1 not."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from sqlalchemy import inspect, text  # noqa: E402

REQUIRED_TABLES = ("alembic_version", "users", "roles", "user_roles")


def main() -> int:
    try:
        from app.db import engine

        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            present = set(inspect(conn).get_table_names())
    except Exception as exc:
        print(f"health check FAILED: database unavailable: {exc}", file=sys.stderr)
        return 1
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        print(f"health check FAILED: missing tables: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"health check OK: database reachable, tables present: {', '.join(REQUIRED_TABLES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
