#!/usr/bin/env python
"""Deletes audit_log rows older than the retention (365 days). Dry run unless --execute. Exit 0, or 1 on errors."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from sqlalchemy import text  # noqa: E402

RETENTION_DAYS = 365
WHERE = "created_at < now() - make_interval(days => :days)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--execute", action="store_true", help="delete (default: only report what would be deleted)")
    args = parser.parse_args(argv)
    try:
        from app.db import engine

        with engine.begin() as conn:
            count = conn.execute(text(f"SELECT count(*) FROM audit_log WHERE {WHERE}"), {"days": RETENTION_DAYS}).scalar_one()
            if not args.execute:
                print(f"dry run: would delete {count} audit_log rows older than {RETENTION_DAYS} days (use --execute)")
                return 0
            deleted = conn.execute(text(f"DELETE FROM audit_log WHERE {WHERE}"), {"days": RETENTION_DAYS}).rowcount
    except Exception as exc:
        print(f"cleanup FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"deleted {deleted} audit_log rows older than {RETENTION_DAYS} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
