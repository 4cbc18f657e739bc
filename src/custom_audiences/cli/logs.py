"""Process logging for ``serve`` and ``worker``: the service's own loggers at INFO on stderr."""

from __future__ import annotations

import copy
import logging
from typing import Any

#: Parent of every logger in the package (worker events, API errors, rate-limit fallbacks).
PACKAGE_LOGGER = "custom_audiences"


def serve_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with the service's loggers on its stderr handler.

    The access log keeps uvicorn's format (client, request line, status): request headers,
    and so bearer tokens, never appear in it.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"][PACKAGE_LOGGER] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def configure_worker_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(message)s"))
    package = logging.getLogger(PACKAGE_LOGGER)
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    package.propagate = False
