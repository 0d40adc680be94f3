"""The one settings class of the studio server (environment prefix ``MOTORNET_STUDIO_``)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}
MIN_TOKEN_LENGTH = 16


def default_workers() -> int:
    """Cores minus one, at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


class Settings(BaseSettings):
    """Server configuration; every field can be set as ``MOTORNET_STUDIO_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MOTORNET_STUDIO_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = Path("./data")
    database_url: str | None = Field(None, description="any SQLAlchemy URL; default sqlite:///<data_dir>/studio.db")
    max_workers: int = Field(default_factory=default_workers, ge=1, description="training runs at once")
    quick_workers: int = Field(
        1, ge=0, description="worker slots kept for quick jobs (studies that train nothing), beyond max_workers"
    )
    access_token: str | None = Field(
        None,
        description=f"required when bound to a non-loopback address; at least {MIN_TOKEN_LENGTH} characters, "
        "no leading or trailing whitespace (empty: no token)",
    )
    frontend_dir: Path | None = Field(None, description="static files served at /; default: the repo's frontend/")
    # limits
    max_body_bytes: int = Field(2_000_000, ge=1024)
    max_sim_steps: int = Field(2000, ge=1)
    max_sim_batch: int = Field(64, ge=1)
    max_geometry_grid: int = Field(201, ge=3)
    max_iterations: int = Field(100_000, ge=1)
    max_batch_size: int = Field(4096, ge=1)
    max_queued_runs: int = Field(100, ge=0, description="queued runs at most; more get 429")
    max_run_memory_bytes: int = Field(
        8_000_000_000,
        ge=10_000_000,
        description="a run's estimated memory (weights, optimiser, activations kept for backpropagation) at most; "
        "larger specs get 422 naming their fields",
    )
    worker_memory_limit_bytes: int | None = Field(
        None,
        ge=500_000_000,
        description="address-space cap of each worker process (RLIMIT_AS); default max_run_memory_bytes + 4 GB "
        "(room for the interpreter and torch's libraries)",
    )
    max_json_depth: int = Field(32, ge=4, description="nesting depth of JSON bodies at most; deeper get 422")
    max_checkpoint_bytes: int = Field(50_000_000, ge=1024, description="size of an imported checkpoint at most")
    max_ws_message_bytes: int = Field(65_536, ge=1024, description="larger websocket messages close the socket (1009)")
    ws_messages_per_second: float = Field(200.0, gt=0, description="messages a websocket client may send per second")
    ws_compression: bool = Field(False, description="permessage-deflate on websockets (costs server CPU per viewer)")
    # access
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS; none by default")
    # worker machinery
    metric_flush_interval: float = Field(0.5, gt=0, description="seconds between batched metric inserts")
    cancel_grace: float = Field(1.5, gt=0, description="seconds a cancelled worker gets before it is terminated")
    warmup: bool = Field(
        True,
        description="while idle, compile the training presets' chunks into inductor's disk cache "
        "(nice 19, stopped when work arrives)",
    )
    warm_worker: bool = Field(
        True,
        description="keep one local worker process started ahead, torch imported, so that the next run starts "
        "at once instead of after the ~5 s of a process start (idle, it holds ~400 MB); local executor only",
    )
    warmup_idle_s: float = Field(10.0, ge=0, description="seconds with nothing queued or running before the idle warm-up starts")
    shutdown_grace: float = Field(
        5.0, gt=0, description="seconds the workers get to stop when the server shuts down (then they are killed)"
    )
    ws_queue_size: int = Field(1000, ge=10, description="messages buffered per websocket subscriber")
    # where runs train (docs/scale-out.md)
    executor: Literal["local", "ray"] = Field("local", description="local: spawned processes here; ray: tasks on a Ray cluster")
    ray_address: str | None = Field(
        None, description="an existing Ray cluster (host:port or ray://host:port); none: start a local Ray instance"
    )
    ray_num_cpus: int | None = Field(None, ge=1, description="CPUs of the local Ray instance (default: all)")
    ray_object_store_bytes: int | None = Field(None, ge=78_643_200, description="object store of the local Ray instance")
    ray_gpus_per_run: float = Field(1.0, gt=0, le=1, description="GPU (fraction) a run on cuda asks Ray for")
    ray_auth_token_path: Path | None = Field(
        None,
        description="Ray token file (RAY_AUTH_TOKEN_PATH); default: <data_dir>/ray_auth_token for a local instance, "
        "Ray's own rules (RAY_AUTH_TOKEN, ~/.ray/auth_token) for --ray-address",
    )

    @field_validator("access_token")
    @classmethod
    def _strong_enough(cls, token: str | None) -> str | None:
        if token is None or token == "":
            return None  # an empty variable means no token (and then only loopback addresses)
        if token != token.strip():
            raise ValueError("the access token must not begin or end with whitespace (nor be only whitespace)")
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"the access token is {len(token)} characters long; use at least {MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 16)"
            )
        return token

    @property
    def worker_address_space(self) -> int:
        """The address-space cap [bytes] that every training worker sets on itself."""
        return self.worker_memory_limit_bytes or self.max_run_memory_bytes + 4_000_000_000

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'studio.db').resolve()}"

    @property
    def checkpoint_dir(self) -> Path:
        """Where run checkpoints are written."""
        return self.data_dir / "runs"

    @property
    def is_loopback(self) -> bool:
        """True when the server is bound to a loopback address only."""
        if self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def check_exposure(self) -> None:
        """Refuse to serve a non-loopback address without an access token.

        Raises:
            ValueError: bound to a public address and no ``access_token``.
        """
        if not self.is_loopback and not self.access_token:
            raise ValueError(
                f"refusing to listen on {self.host!r} without an access token: set MOTORNET_STUDIO_ACCESS_TOKEN "
                "or pass --token (or bind to 127.0.0.1)"
            )
