"""The ERP API (FastAPI): uvicorn app.main:app"""
import logging
import os
from logging.handlers import RotatingFileHandler

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app.db import engine

# As the real app: a rotating file under /var/log/erp (the pod needs a writable volume there) and the console.
logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO"),
    format="%(asctime)s %(levelname)s %(name)s %(message)s",
    handlers=[
        RotatingFileHandler("/var/log/erp/app.log", maxBytes=10485760, backupCount=5),
        logging.StreamHandler(),
    ],
)
logger = logging.getLogger("erp")

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]

app = FastAPI(title="ERP API")
# No ALLOWED_HOSTS: every request is refused with 400 "Invalid host header".
app.add_middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS)


@app.get("/api/v1/core/health/")
def health():
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        logger.warning("health: database unavailable: %s", exc)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return {"status": "ok"}
