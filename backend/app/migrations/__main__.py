"""``python -m backend.app.migrations {revision,upgrade,downgrade,current,history}`` on the configured database."""

from __future__ import annotations

import argparse
from typing import Any

from alembic import command

from backend.app.core.config import Settings
from backend.app.core.db import make_engine
from backend.app.migrations import config, upgrade


def main(argv: list[str] | None = None) -> None:
    """Alembic's own commands, configured like the server (``--url`` defaults to the settings' database)."""
    p = argparse.ArgumentParser(prog="python -m backend.app.migrations", description=main.__doc__)
    p.add_argument("--url", help="SQLAlchemy URL (default: the server's configured database)")
    sub = p.add_subparsers(dest="command", required=True)
    rev = sub.add_parser("revision", help="write a new revision into versions/")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true", help="diff the models against the database")
    for name in ("upgrade", "downgrade"):
        sub.add_parser(name).add_argument("revision", nargs="?", default="head" if name == "upgrade" else "-1")
    sub.add_parser("current")
    sub.add_parser("history")
    args = p.parse_args(argv)
    overrides: dict[str, Any] = {"database_url": args.url} if args.url else {}
    url = Settings(**overrides).resolved_database_url
    cfg = config(url=url)
    if args.command == "revision":
        command.revision(cfg, message=args.message, autogenerate=args.autogenerate)
    elif args.command == "upgrade":  # as the server does it: a database from before Alembic is adopted
        engine = make_engine(url)
        upgrade(engine, args.revision)
        engine.dispose()
    elif args.command == "downgrade":
        command.downgrade(cfg, args.revision)
    else:
        getattr(command, args.command)(cfg)


if __name__ == "__main__":
    main()
