"""`citewise serve`: uvicorn around `create_app`, with one model for all workers and a clean shutdown.

One worker: the app's lifespan starts the embedded model in-process and closes it on SIGTERM/Ctrl-C (uvicorn
turns both into a graceful shutdown). Several workers: this (supervisor) process starts the embedded model once
and the workers use it as an external OpenAI-compatible server, so N workers never load N models.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from service.config import Settings, export_to_workers, get_settings
from service.engine import Engine
from service.errors import CitewiseError
from service.http.app import create_app
from service.watching import watched_folders, watching_in_background

log = logging.getLogger("citewise.server")

GRACEFUL_SHUTDOWN_S = 10


def configure_logging(level: int = logging.INFO) -> None:
    """citewise's own log lines (request ids and timings) next to uvicorn's."""
    logger = logging.getLogger("citewise")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # the MCP SDK puts a handler on the root logger: without this every line shows twice
    for chatty in ("httpx", "httpx2", "watchfiles"):  # a line per model call ("HTTP Request: …") or file event
        logging.getLogger(chatty).setLevel(logging.WARNING)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_exposed(settings: Settings, host: str) -> bool:
    """Log a warning when the API is reachable from other machines without a key; True if it warned."""
    if settings.api_key is None and not is_loopback(host):
        log.warning(
            "binding %s without CITEWISE_API_KEY: anyone who can reach this machine can read and change the index",
            host,
        )
        return True
    return False


def app_from_environment() -> FastAPI:
    """The app factory uvicorn's worker processes call (each reads Settings from the environment)."""
    configure_logging()
    return create_app(get_settings())


def check_port_free(host: str, port: int) -> None:
    """Fail at once, in one line, when the address is taken or cannot be bound (before the index and the model
    load, which take seconds). Bound the way uvicorn binds it (SO_REUSEADDR), then released."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            why = "is already in use" if e.errno == errno.EADDRINUSE else f"cannot be bound ({e.strerror})"
            raise CitewiseError(f"{host}:{port} {why}: choose another with --port") from None


def run_server(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, watch: Sequence[Path] = ()
) -> None:
    """Serve the API until SIGTERM/Ctrl-C; with `watch`, keep the index in sync with those folders meanwhile."""
    folders = watched_folders(watch)
    check_port_free(host, port)
    configure_logging()
    warn_if_exposed(settings, host)
    # access_log off: the request middleware logs each request once, with its id and timings
    common = dict(
        host=host, port=port, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, log_level="info", access_log=False
    )
    if workers <= 1:
        uvicorn.run(create_app(settings, watch=folders), **common)  # type: ignore[arg-type]
        return
    # Create the index's tables once here: N workers opening a fresh embedded Chroma at once race on its schema.
    # This process keeps that engine for the watched folders: one watcher, whatever the number of workers.
    indexer = Engine(settings)
    indexer.open_index()
    shared_model = None
    try:
        if settings.uses_embedded_llm:
            from service.llm import embedded_alias, start_embedded_server

            shared_model = start_embedded_server(settings)
            url = f"{shared_model.listening_address}/v1"
            export_to_workers(llm_base_url=url, llm_model=embedded_alias(settings))
            log.info("embedded model shared by %d workers at %s", workers, url)
        with watching_in_background(folders, ingest=indexer.ingest, ignore=[settings.home]):
            uvicorn.run("service.http.server:app_from_environment", factory=True, workers=workers, **common)  # type: ignore[arg-type]
    finally:
        indexer.close()
        del shared_model  # stops the embedded server
