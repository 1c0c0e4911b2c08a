"""Quart CLI commands: `init-db`, `seed-db`, `create-admin`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import click
from pydantic import ValidationError
from quart import Quart
from quart.cli import ScriptInfo, pass_script_info

from backend import seed
from backend.db import get_database
from backend.errors import AppError
from backend.schemas.user import UserCreate
from backend.services import users


def init_app(app: Quart) -> None:
    for command in (init_db, seed_db, create_admin):
        app.cli.add_command(command)


def _run(info: ScriptInfo, work: Callable[[Quart], Awaitable[None]]) -> None:
    """Run `work` inside the app's serving lifecycle (engine up, then disposed)."""
    app: Quart = info.load_app()

    async def serve_work() -> None:
        async with app.app_context():
            await app.startup()
            try:
                await work(app)
            finally:
                await app.shutdown()

    try:
        asyncio.run(serve_work())
    except AppError as error:
        raise click.ClickException(error.detail) from None


# The migrations ship inside the package, so no alembic.ini or checkout is
# needed: the same location as alembic.ini's, resolved from the installed package.
MIGRATIONS = "backend:migrations"


def upgrade_schema(database_url: str) -> None:
    """Alembic `upgrade head` against `database_url`, from any directory."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")


@click.command("init-db")
@pass_script_info
def init_db(info: ScriptInfo) -> None:
    """Create or upgrade the schema to the newest migration."""
    app: Quart = info.load_app()
    upgrade_schema(app.extensions["settings"].database_url)
    click.echo("Database is at the newest schema.")


@click.command("seed-db")
@pass_script_info
def seed_db(info: ScriptInfo) -> None:
    """Load demo users and products; running it again changes nothing."""

    async def work(app: Quart) -> None:
        async with get_database(app).session() as session:
            report = await seed.seed_demo_data(session, app.extensions["settings"], app)
        for line in report:
            click.echo(line)

    _run(info, work)


def _valid_account(username: str, email: str, password: str) -> UserCreate:
    """The same rules as registration, or a usage error naming what is wrong."""
    try:
        return UserCreate(
            username=username,
            email=email,
            password=password,
            password_confirm=password,
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}"
            for item in error.errors(include_input=False, include_url=False)
        )
        raise click.UsageError(f"invalid admin account: {problems}") from None


@click.command("create-admin")
@click.argument("username")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_script_info
def create_admin(
    info: ScriptInfo, username: str, email: str, password_stdin: bool
) -> None:
    """Create an administrator; the password is prompted for or read from stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    account = _valid_account(username, email, password)

    async def work(app: Quart) -> None:
        async with get_database(app).session() as session:
            await users.create_admin(
                session,
                hasher=app.extensions["passwords"],
                username=account.username,
                email=account.email,
                password=account.password,
            )
        click.echo(f"Created admin {account.username}.")

    _run(info, work)
