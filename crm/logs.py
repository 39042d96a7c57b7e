"""Structured logs: one JSON object per line (production), for the bureau's log collector."""
import json
import logging
import time

from flask import Flask, g, request
from flask_login import current_user


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    if app.config.get("LOG_FORMAT") == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        app.logger.handlers[:] = [handler]
        app.logger.setLevel(logging.INFO)
        app.logger.propagate = False

        @app.before_request
        def start_timer():
            g.started = time.perf_counter()

        @app.after_request
        def log_request(response):
            user = current_user.get_id() if current_user and current_user.is_authenticated else None
            app.logger.info("request", extra={"fields": {
                "method": request.method, "path": request.path, "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                "user": user.split(":")[0] if user else None, "ip": request.remote_addr}})
            return response
