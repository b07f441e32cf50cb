"""gunicorn for the Tianjie web app: `gunicorn -c deploy/gunicorn.conf.py config.wsgi:application`."""

import multiprocessing
import os

bind = os.environ.get("TIANJIE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TIANJIE_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("TIANJIE_WEB_THREADS", "4"))
keepalive = 30
timeout = 60
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500
control_socket_disable = True  # gunicorn 27 opens ~/.gunicorn otherwise (STACK.md pitfall 6)
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
errorlog = "-"
