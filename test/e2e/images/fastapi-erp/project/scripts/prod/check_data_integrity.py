#!/usr/bin/env python
"""Data integrity: every user_roles row references an existing user and role; roles admin and user exist.
Exit 0 when consistent, 1 otherwise."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from sqlalchemy import text  # noqa: E402

CHECKS = {
    "user_roles rows without a user": "SELECT count(*) FROM user_roles ur LEFT JOIN users u ON u.id = ur.user_id WHERE u.id IS NULL",
    "user_roles rows without a role": "SELECT count(*) FROM user_roles ur LEFT JOIN roles r ON r.id = ur.role_id WHERE r.id IS NULL",
    "admin users without the admin role": (
        "SELECT count(*) FROM users u WHERE u.is_admin AND NOT EXISTS ("
        "SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = 'admin')"
    ),
}


def main() -> int:
    try:
        from app.db import engine

        with engine.connect() as conn:
            problems = {name: conn.execute(text(sql)).scalar_one() for name, sql in CHECKS.items()}
    except Exception as exc:
        print(f"integrity check FAILED: {exc}", file=sys.stderr)
        return 1
    bad = {k: v for k, v in problems.items() if v}
    for name, count in problems.items():
        print(f"{name}: {count}")
    if bad:
        print("integrity check FAILED", file=sys.stderr)
        return 1
    print("integrity check OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
