"""The studio server: ``create_app(settings)`` and the ``motornet-studio serve`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

import motornet_core
from backend.app.api import experiment_ws, ws
from backend.app.api.openapi import install_openapi
from backend.app.api.routes import experiments, imports, meta, runs, saved, simulate, studies
from backend.app.core.config import Settings
from backend.app.core.db import init_db, make_engine
from backend.app.core.errors import install_error_handlers
from backend.app.core.logs import redact_tokens_in_server_logs
from backend.app.core.middleware import AccessTokenMiddleware, BodyLimitMiddleware, MethodNotAllowedMiddleware
from backend.app.streaming.hub import Hub
from backend.app.workers.job import run_job
from backend.app.workers.manager import WorkerManager

log = logging.getLogger(__name__)

REPO_FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
SWAGGER_UI = Path(__file__).resolve().parents[1] / "static" / "swagger-ui"  # vendored, see its README.md


def plotly_js() -> Path:
    """plotly.min.js as shipped inside the installed ``plotly`` Python package."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def create_app(settings: Settings | None = None, job_target: Callable[..., None] | None = None) -> FastAPI:
    """Build the app; the worker manager starts and stops with the app's lifespan.

    Args:
        settings: configuration (default: from the environment).
        job_target: the worker entry point (default: the core Trainer job); tests may pass a
            lighter picklable function with the same signature.
    """
    settings = settings or Settings()
    settings.check_exposure()  # a non-loopback bind address needs an access token
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    sessions = init_db(engine)
    hub = Hub(settings.ws_queue_size)
    # /ws/experiments/{id}, keyed by experiment id: state messages, nothing to replay
    experiment_hub = Hub(settings.ws_queue_size, replay_messages=1, replay_runs=1)
    manager = WorkerManager(settings, sessions, hub, job_target or run_job, experiment_hub)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        redact_tokens_in_server_logs()  # here: uvicorn has configured its loggers by now
        manager.start()
        try:
            yield
        finally:
            manager.shutdown()
            engine.dispose()

    app = FastAPI(
        title="MotorNet Studio",
        version=motornet_core.__version__,
        description="Train and study networks that control differentiable biomechanical effectors.",
        lifespan=lifespan,
        docs_url=None,  # served below from local files: the default page loads Swagger UI from a CDN
        redoc_url=None,  # ReDoc exists only on a CDN
    )
    app.state.settings, app.state.engine, app.state.sessions = settings, engine, sessions
    app.state.hub, app.state.manager, app.state.experiment_hub = hub, manager, experiment_hub
    install_error_handlers(app)
    install_openapi(app)
    routers = (meta.router, saved.effectors, saved.tasks, simulate.router, imports.router, runs.router, studies.router)
    for router in (*routers, experiments.router, ws.router, experiment_ws.router):
        app.include_router(router)
    _mount_docs(app)
    _mount_frontend(app, settings.frontend_dir or REPO_FRONTEND)
    uploads = {"/api/runs/import": settings.max_checkpoint_bytes}
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, per_path=uploads, max_depth=settings.max_json_depth
    )
    app.add_middleware(MethodNotAllowedMiddleware)  # after the token check, before the body is read
    if settings.access_token:
        app.add_middleware(AccessTokenMiddleware, token=settings.access_token)
    if settings.cors_origins:  # closed by default: no Access-Control-Allow-Origin for anyone
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"])
    return app


def _mount_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the vendored files under ``/vendor/swagger-ui`` (works offline)."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/vendor/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # the validator badge calls validator.swagger.io
        )

    app.mount("/vendor/swagger-ui", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")


def _mount_frontend(app: FastAPI, frontend: Path) -> None:
    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def vendor_plotly() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript")

    if (frontend / "index.html").is_file():
        app.mount("/", StaticFiles(directory=frontend, html=True), name="frontend")
    else:

        @app.get("/", include_in_schema=False)
        def no_frontend() -> JSONResponse:
            return JSONResponse({"detail": f"no frontend at {frontend}; the API is at /api and its docs at /docs"})


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motornet-studio serve", description="Start the MotorNet Studio server.")
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--data-dir", help="database and checkpoints (default ./data)")
    p.add_argument("--database-url", help="any SQLAlchemy URL (default: SQLite in the data dir)")
    p.add_argument("--workers", type=int, dest="max_workers", help="training runs at once (default cores - 1)")
    p.add_argument("--token", dest="access_token", help="access token (required on non-loopback addresses)")
    p.add_argument("--executor", choices=["local", "ray"], help="where runs train: local processes (default) or a Ray cluster")
    p.add_argument("--ray-address", help="an existing Ray cluster (default with --executor ray: a local Ray instance)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return p


def main(argv: list[str] | None = None) -> int:
    """``motornet-studio serve [--host H] [--port P] [--data-dir DIR] ...``; returns the exit status."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    given: dict[str, Any] = {k: v for k, v in vars(args).items() if k not in ("log_level",) and v is not None}
    try:
        settings = Settings(**given)
        settings.check_exposure()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        sys.stderr.write(f"motornet-studio serve: {problems.replace('Value error, ', '')}\n")
        return 2
    except ValueError as exc:
        sys.stderr.write(f"motornet-studio serve: {exc}\n")
        return 2
    import uvicorn

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        ws_max_size=settings.max_ws_message_bytes,
        ws_per_message_deflate=settings.ws_compression,
    )
    return 0
