"""Quart CLI commands: `init-db`, `seed-db`, `create-admin`, `worker`, `jobs`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable

import click
from pydantic import ValidationError
from quart import Quart
from quart.cli import ScriptInfo, pass_script_info

from backend import extensions, seed
from backend.errors import AppError
from backend.jobs import admin as jobs_admin
from backend.jobs import lifecycle as jobs_lifecycle
from backend.schemas.user import UserCreate
from backend.services import users


def init_app(app: Quart) -> None:
    for command in (init_db, seed_db, create_admin, worker, jobs):
        app.cli.add_command(command)


def _run(
    info: ScriptInfo, work: Callable[[Quart], Awaitable[None]], *, serve: bool = True
) -> None:
    """Run `work` inside the app's serving lifecycle (engine up, then disposed).

    With `serve=False` only the database is connected: a one-off command
    needs no event bus and must not run jobs.
    """
    app: Quart = info.load_app()

    async def serve_work() -> None:
        async with app.app_context():
            if not serve:
                database = extensions.database(app)
                await database.connect()
                try:
                    await work(app)
                finally:
                    await database.dispose()
                return
            await app.startup()
            try:
                await work(app)
            finally:
                await app.shutdown()

    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            runner.run(serve_work())
    except AppError as error:
        raise click.ClickException(error.detail) from None


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is installed, as the servers run (hypercorn.toml).

    `quart worker` spends its time in socket I/O (database, webhook
    receivers), where uvloop costs markedly less CPU than asyncio's own loop.
    """
    try:
        import uvloop
    except ImportError:  # Windows: asyncio's loop
        return None
    return uvloop.new_event_loop


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
    upgrade_schema(extensions.settings(app).database_url)
    click.echo("Database is at the newest schema.")


@click.command("seed-db")
@pass_script_info
def seed_db(info: ScriptInfo) -> None:
    """Load demo users and products; running it again changes nothing."""
    if info.load_app().extensions["settings"].app_env == "production":
        # It creates an admin with a known password and prints it.
        raise click.ClickException("seed-db is refused with APP_ENV=production.")

    async def work(app: Quart) -> None:
        async with extensions.database(app).session() as session:
            report = await seed.seed_demo_data(session, extensions.settings(app), app)
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
        async with extensions.database(app).session() as session:
            await users.create_admin(
                session,
                hasher=extensions.hasher(app),
                username=account.username,
                email=account.email,
                password=account.password,
            )
        click.echo(f"Created admin {account.username}.")

    _run(info, work)


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Jobs run at once (default: JOB_CONCURRENCY, or 4 when that is 0).",
)
@pass_script_info
def worker(info: ScriptInfo, concurrency: int | None) -> None:
    """Run background jobs only, until SIGTERM or SIGINT; then drain and exit."""
    app: Quart = info.load_app()
    settings = app.extensions["settings"]
    jobs_lifecycle.run_jobs_here(app, concurrency or settings.job_concurrency or 4)

    async def work(_app: Quart) -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        click.echo(f"Worker running jobs (pid {os.getpid()}).")
        await stopping.wait()
        click.echo("Worker draining.")

    _run(info, work)


@click.group("jobs", invoke_without_command=True)
@click.pass_context
def jobs(context: click.Context) -> None:
    """Count jobs by kind and state; `jobs retry --dead` re-queues the dead."""
    if context.invoked_subcommand is not None:
        return
    info = context.find_object(ScriptInfo)
    assert info is not None, "run through the quart command"

    async def work(app: Quart) -> None:
        async with extensions.database(app).session(readonly=True) as session:
            counts = await jobs_admin.count_jobs(session)
        click.echo(f"{'kind':<24} {'state':<10} {'count':>8}")
        for kind, state, count in counts:
            click.echo(f"{kind:<24} {state:<10} {count:>8}")

    _run(info, work, serve=False)


@jobs.command("retry")
@click.option("--dead", is_flag=True, required=True, help="Re-queue every dead job.")
@pass_script_info
def retry(info: ScriptInfo, dead: bool) -> None:
    """Queue dead jobs again with their attempts reset."""

    async def work(app: Quart) -> None:
        async with extensions.database(app).session() as session:
            count = await jobs_admin.retry_dead_jobs(session)
        click.echo(f"Re-queued {count} dead jobs.")

    _run(info, work, serve=False)
