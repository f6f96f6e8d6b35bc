"""erp-bootstrap: seed the RBAC roles and create the first admin.

  erp-bootstrap --seed-rbac
  erp-bootstrap --bootstrap-admin --username U --email E --password P

Exit 0 on success, 1 on refusal or error (database errors propagate with their message), 2 on usage errors.
"""
import argparse
import hashlib
import os
import secrets
import sys

from sqlalchemy import text

from erp_cli.db import make_engine

ROLES = (("admin", "Full access"), ("user", "Regular user"))
PBKDF2_ITERATIONS = 260000


class Refused(Exception):
    pass


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), PBKDF2_ITERATIONS).hex()
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt}${digest}"


def env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def seed_rbac(conn) -> None:
    for name, description in ROLES:
        conn.execute(
            text("INSERT INTO roles (name, description) VALUES (:n, :d) ON CONFLICT (name) DO NOTHING"),
            {"n": name, "d": description},
        )
    print("RBAC roles present: " + ", ".join(name for name, _ in ROLES))


def bootstrap_admin(conn, username: str, email: str, password: str) -> None:
    if conn.execute(text("SELECT 1 FROM users WHERE username = :u"), {"u": username}).first():
        raise Refused(f"Error: user '{username}' already exists")
    if conn.execute(text("SELECT 1 FROM users LIMIT 1")).first() and not env_true("ALLOW_BOOTSTRAP_WHEN_USERS_EXIST"):
        raise Refused("Error: users already exist; bootstrap is disabled (ALLOW_BOOTSTRAP_WHEN_USERS_EXIST=False)")
    user_id = conn.execute(
        text("INSERT INTO users (username, email, password_hash, is_admin) VALUES (:u, :e, :p, true) RETURNING id"),
        {"u": username, "e": email, "p": hash_password(password)},
    ).scalar_one()
    role_id = conn.execute(text("SELECT id FROM roles WHERE name = 'admin'")).scalar()
    if role_id is not None:
        conn.execute(text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"), {"u": user_id, "r": role_id})
    conn.execute(
        text("INSERT INTO audit_log (action, detail) VALUES ('bootstrap-admin', :d)"),
        {"d": f"admin user {username} created"},
    )
    print(f"Admin user '{username}' created" + ("" if role_id is not None else " (no 'admin' role yet: run --seed-rbac)"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="erp-bootstrap", description="Seed RBAC roles and create the first admin user.")
    parser.add_argument("--seed-rbac", action="store_true", help="insert the roles admin and user if absent (idempotent)")
    parser.add_argument("--bootstrap-admin", action="store_true", help="create the first admin user")
    parser.add_argument("--username")
    parser.add_argument("--email")
    parser.add_argument("--password")
    args = parser.parse_args(argv)
    if not (args.seed_rbac or args.bootstrap_admin):
        parser.error("nothing to do: give --seed-rbac and/or --bootstrap-admin")
    if args.bootstrap_admin and not (args.username and args.email and args.password):
        parser.error("--bootstrap-admin needs --username, --email and --password")

    engine = make_engine()
    try:
        if args.seed_rbac:
            with engine.begin() as conn:
                seed_rbac(conn)
        if args.bootstrap_admin:
            with engine.begin() as conn:
                bootstrap_admin(conn, args.username, args.email, args.password)
    except Refused as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
