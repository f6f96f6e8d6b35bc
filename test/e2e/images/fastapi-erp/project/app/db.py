"""The database connection, from DATABASE_URL or DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD."""
import os
import re
from urllib.parse import quote

from sqlalchemy import create_engine


def database_url() -> str:
    """A synchronous (psycopg2) SQLAlchemy URL: postgres://, postgresql:// and postgresql+asyncpg:// are accepted."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        missing = [k for k in ("DB_HOST", "DB_NAME", "DB_USER") if not os.environ.get(k)]
        if missing:
            raise RuntimeError(
                "No database configured: set DATABASE_URL, or DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASSWORD "
                f"(missing: {', '.join(missing)})"
            )
        url = "postgresql://%s:%s@%s:%s/%s" % (
            quote(os.environ["DB_USER"], safe=""),
            quote(os.environ.get("DB_PASSWORD", ""), safe=""),
            os.environ["DB_HOST"],
            os.environ.get("DB_PORT") or "5432",
            quote(os.environ["DB_NAME"], safe=""),
        )
    new, n = re.subn(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg2://", url)
    if not n:
        raise RuntimeError("DATABASE_URL must be a postgresql:// URL (postgresql+asyncpg:// is also accepted)")
    return new


engine = create_engine(database_url(), pool_pre_ping=True, future=True, connect_args={"connect_timeout": 5})
