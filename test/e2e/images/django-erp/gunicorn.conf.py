"""gunicorn --config /app/gunicorn.conf.py config.wsgi:application"""
bind = "0.0.0.0:8000"
workers = 2
worker_tmp_dir = "/tmp"   # the root file system is read-only; /tmp is an emptyDir
accesslog = "-"
errorlog = "-"
loglevel = "info"

METRICS_PORT = 8001


def when_ready(server):
    # Prometheus metrics of the gunicorn master (process and Python collectors) on :8001/metrics
    from prometheus_client import start_http_server

    start_http_server(METRICS_PORT)
    server.log.info("Prometheus metrics on 0.0.0.0:%d/metrics", METRICS_PORT)
