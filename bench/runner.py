"""Runs the chosen scenarios in order, each server started once and stopped."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path

from backend.config import Settings
from bench import dataset, jobs, read_list, scenarios
from bench.fanout import fan_out, sse_fan_out
from bench.pgbench import run_pgbench
from bench.report import Row
from bench.scenarios import Files, Plan
from bench.server import PORT, Server, Worker, service_env
from bench.webhooks import webhooks
from bench.wrk import LoadResult

SCENARIOS = (
    "read-one",
    "read-one-cold",
    "read-list",
    "many-clients",
    "place-order",
    "login-storm",
    "fan-out",
    "fan-out-deflate",
    "webhooks",
    "sse",
    "metrics",
    "jobs",
    "read-order",
)
# Their targets are ratios to the ceiling app (bench/ceiling_app.py).
RATIO_SCENARIOS = ("read-one", "read-one-cold", "read-list", "read-order")
ORDER_CONNS = 64
READ_CONNS = (64, 256)
FANOUT_COUNTS = (1_000, 10_000)
SSE_COUNT = 1_000
WEBHOOK_WORKER_SLOTS = 32
METRICS_CONNS = 64


class Runner:
    def __init__(self, dsn: str, workdir: Path, *, quick: bool) -> None:
        self.dsn = dsn
        self.workdir = workdir
        self.plan = Plan.for_mode(quick)
        self.quick = quick
        self.env = service_env(dsn)
        self.data: dataset.Dataset | None = None
        self.server: Server | None = None
        self.rows: list[Row] = []
        # The ceiling app, serving beside the service while ratios are measured.
        self.ceiling_server: Server | None = None

    def seed(self) -> None:
        settings = Settings(
            app_env="testing",
            database_url=self.env["DATABASE_URL"],
            secret_key=self.env["SECRET_KEY"],
            jwt_secret_key=self.env["JWT_SECRET_KEY"],
            access_token_ttl=3600,
        )
        self.data = asyncio.run(dataset.seed(self.dsn, settings))
        self.files = Files(
            tokens=self._write("tokens.txt", self.data.user_tokens),
            admin_tokens=self._write("admin_tokens.txt", self.data.admin_tokens),
            usernames=self._write("usernames.txt", self.data.usernames[:50]),
        )
        self._seed_orders()

    def _write(self, name: str, lines: list[str]) -> Path:
        path = self.workdir / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def _start(
        self, app: str, health: str, env: dict[str, str] | None = None
    ) -> Server:
        self.stop()
        self.server = Server(app, env or self.env, self.workdir / "server.log")
        self.server.start(health_path=health)
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def stop_all(self) -> None:
        self.stop()
        if self.ceiling_server is not None:
            self.ceiling_server.stop()
            self.ceiling_server = None

    def run(self, chosen: list[str]) -> list[Row]:
        order_ceiling = self._order_ceiling(chosen)
        if set(RATIO_SCENARIOS) & set(chosen):
            # Beside the service on a port of its own, idle until measured:
            # each ceiling runs right around its service's run.
            self.ceiling_server = Server(
                "bench.ceiling_app:app",
                self.env,
                self.workdir / "ceiling.log",
                port=PORT + 1,
            )
            self.ceiling_server.start(health_path="/api/v1/products/1")
        server = self._start("backend.asgi:app", "/health")
        print(f"service up on {server.url}; workers=2, APP_ENV=production", flush=True)
        for name in chosen:
            if name != "jobs":
                self._guard(name, partial(self._scenario, name, order_ceiling))
        if "jobs" in chosen:  # last: it replaces the service with bench.jobs_app
            self._guard("jobs", self._jobs)
        return self.rows

    def _jobs(self) -> None:
        server = self._start("bench.jobs_app:app", "/health")
        self.rows.extend(jobs.measure(server.url, self.dsn, self.plan))

    def _guard(self, name: str, action: Callable[[], None]) -> None:
        """Run one scenario; a failure becomes a FAIL row, not a lost run."""
        print(f"running {name} ...", flush=True)
        try:
            action()
        except Exception as error:  # noqa: BLE001 - reported in the table
            traceback.print_exc()
            self.rows.append(Row(name, 0, target=f"did not run: {error}", passed=False))

    def _order_ceiling(self, chosen: list[str]) -> LoadResult | None:
        """pgbench's order transaction, before anything else runs.

        First: its thousands of orders rewrite every product row, and until a
        VACUUM the list's counts (index-only scans) visit the heap for each
        row, 4x slower. Vacuumed after it, as autovacuum would be, the tables
        are read alike by every later ceiling and by the service.
        """
        if "place-order" not in chosen:
            return None
        load = run_pgbench(self.dsn, clients=ORDER_CONNS, seconds=self.plan.seconds)
        self.rows.append(Row.from_load("ceiling: pgbench order txn", ORDER_CONNS, load))
        asyncio.run(dataset.vacuum(self.dsn))
        return load

    def _scenario(self, name: str, order_ceiling: LoadResult | None) -> None:
        # The current server: a scenario before this one may have restarted it.
        server = self.server
        assert server is not None
        assert self.data is not None
        base, plan = server.url, self.plan
        probes = {
            "read-one": ("GET", "/api/v1/products/1"),
            "read-one-cold": ("GET", "/api/v1/products/1"),
            "read-list": ("GET", "/api/v1/products?per_page=20"),
            "many-clients": ("GET", "/api/v1/products/1"),
            "place-order": ("POST", "/api/v1/orders"),
            "login-storm": ("POST", "/api/v1/auth/login"),
            "fan-out": ("POST", "/api/v1/orders"),
            "fan-out-deflate": ("POST", "/api/v1/orders"),
            "webhooks": ("POST", "/api/v1/webhooks"),
            "sse": ("GET", "/api/v1/orders/events/stream"),
            "metrics": ("GET", "/api/v1/products/1"),
            "read-order": ("GET", "/api/v1/orders/1"),
        }
        method, path = probes[name]
        missing = scenarios.route_missing(base + path, method, json={})
        if missing:
            self.rows.append(Row(name, 0, target=f"skipped: {missing}", passed=False))
            return
        if name == "read-one":
            ceiling = self._ceiling("read_one.lua", "ceiling: raw ASGI+asyncpg")
            scenarios.warm_up(base, "read_one.lua", plan)
            for conns in READ_CONNS:
                self.rows.extend(scenarios.read_one(base, ceiling, conns, plan))
        elif name == "read-one-cold":
            self._read_one_cold()
        elif name == "read-list":
            self._read_list(base)
        elif name == "many-clients":
            self.rows.append(scenarios.many_clients(base, plan))
        elif name == "place-order":
            self._place_order(base, order_ceiling)
        elif name == "login-storm":
            self.rows.extend(scenarios.login_storm(base, plan, self.files))
        elif name == "webhooks":
            self._webhooks()
        elif name == "metrics":
            self._metrics_cost()
        elif name == "read-order":
            self._read_order(base)
        elif name == "fan-out":
            for count in FANOUT_COUNTS:
                self.rows.append(
                    fan_out(
                        server,
                        self.dsn,
                        count,
                        plan.fanout_seconds,
                        self.files,
                        self.data.user_tokens,
                        window=plan.connect_window,
                    )
                )
            if not self.quick:  # browsers negotiate compression: a minute more
                self._fan_out_deflate(server)
        elif name == "fan-out-deflate":  # that row alone, quick or full
            self._fan_out_deflate(server)
        elif name == "sse":
            self.rows.append(
                sse_fan_out(
                    server,
                    self.dsn,
                    SSE_COUNT,
                    plan.fanout_seconds,
                    self.files,
                    self.data.user_tokens,
                    window=plan.connect_window,
                )
            )

    def _webhooks(self) -> None:
        """Deliveries by a `quart worker` beside a web tier that runs no jobs.

        The deployment the README gives a shop whose webhooks are busy: the
        worker (`WEBHOOK_WORKER_SLOTS` slots, at a lower CPU priority) takes
        the delivery work off the processes that answer requests. The
        default service is started again afterwards for what follows.
        """
        assert self.data is not None
        server = self._start(
            "backend.asgi:app", "/health", {**self.env, "JOB_CONCURRENCY": "0"}
        )
        worker = Worker(self.env, self.workdir / "worker.log", WEBHOOK_WORKER_SLOTS)
        worker.start()
        try:
            admin = self.data.admin_tokens[0]
            self.rows.append(
                webhooks(
                    server, self.dsn, self.data.user_tokens, admin, quick=self.quick
                )
            )
        finally:
            worker.stop()
        self._start("backend.asgi:app", "/health")

    def _ceiling(
        self, script: str, label: str, args: dict[str, str] | None = None
    ) -> scenarios.Ceiling:
        """The ceiling server, warmed up on `script`, to bracket a service's runs."""
        assert self.ceiling_server is not None
        url = self.ceiling_server.url
        scenarios.warm_up(url, script, self.plan, args)
        return scenarios.Ceiling(url, script, label)

    # --- read-one-cold (issue 21) -------------------------------------------
    def _read_one_cold(self) -> None:
        """read-one from a freshly started service, then with no product cache.

        Each variant gets a new server and only `COLD_WARMUP_S` of load before
        it is measured, so the rows show the cache-miss path, not the cache.
        The ceiling warms up first, before the server starts. The default
        service is started again afterwards for what follows.
        """
        ceiling = self._ceiling("read_one.lua", "ceiling: raw ASGI+asyncpg")
        variants = (
            ("read-one-cold", self.env),
            ("read-one-cold, no cache", {**self.env, "PRODUCT_CACHE_SIZE": "0"}),
        )
        for label, env in variants:
            server = self._start("backend.asgi:app", "/health", env)
            scenarios.cold_warm_up(server.url)
            for conns in READ_CONNS:
                self.rows.extend(
                    scenarios.read_one_cold(
                        server.url, ceiling, conns, self.plan, scenario=label
                    )
                )
        self._start("backend.asgi:app", "/health")

    # -------------------------------------------------------------------------

    def _fan_out_deflate(self, server: Server) -> None:
        assert self.data is not None
        self.rows.append(
            fan_out(
                server,
                self.dsn,
                FANOUT_COUNTS[-1],
                self.plan.fanout_seconds,
                self.files,
                self.data.user_tokens,
                window=self.plan.connect_window,
                deflate=True,
            )
        )

    # --- read-list: against its ceiling and the seed Flask app (read_list.py) --
    def _read_list(self, base: str) -> None:
        assert self.ceiling_server is not None
        with read_list.seed_running(self.env, self.workdir / "seed.log") as seed:
            self.rows.extend(
                read_list.measure(base, self.ceiling_server.url, seed, self.plan)
            )

    def _metrics_cost(self) -> None:
        """read-one with metrics on and off, alternating; then the service again.

        Rounds alternate (on, off, on, off, ...) so that a drift of the
        machine's speed during the run falls on both sides alike.
        """
        loads: dict[bool, list[LoadResult]] = {True: [], False: []}
        for _ in range(self.plan.metrics_rounds):
            for enabled in (True, False):
                env = {**self.env, "METRICS_ENABLED": str(enabled).lower()}
                server = self._start("backend.asgi:app", "/health", env)
                scenarios.warm_up(server.url, "read_one.lua", self.plan)
                _, load = scenarios.wrk_row(
                    "read-one", server.url, "read_one.lua", METRICS_CONNS, self.plan
                )
                loads[enabled].append(load)
        self.rows.append(
            scenarios.metrics_cost(loads[True], loads[False], METRICS_CONNS)
        )
        self._start("backend.asgi:app", "/health")

    def _place_order(self, base: str, ceiling: LoadResult | None) -> None:
        assert self.data is not None
        row, _ = scenarios.place_order(
            base, ORDER_CONNS, self.plan, self.files, ceiling
        )
        broken = asyncio.run(
            dataset.check_stock_invariant(self.dsn, self.data.initial_stock)
        )
        row.extra["invariant_broken_products"] = broken
        row.target += ", stock invariant"
        row.passed = bool(row.passed) and broken == 0
        verdict = "holds" if broken == 0 else f"BROKEN for {broken} products"
        print(
            f"stock invariant: {verdict} (stock + units in orders neither"
            " cancelled nor expired = initial stock)",
            flush=True,
        )
        self.rows.append(row)

    # --- read-order: authenticated GET /orders/{id} of the caller's own order --

    def _seed_orders(self) -> None:
        """One order per user, and the file pairing each token with its order."""
        assert self.data is not None
        order_ids = asyncio.run(dataset.seed_orders(self.dsn, self.data))
        lines = [
            f"{token} {order_id}"
            for token, order_id in zip(self.data.user_tokens, order_ids, strict=True)
        ]
        self.order_pairs = self._write("order_pairs.txt", lines)

    def _read_order(self, base: str) -> None:
        args = {"pairs": str(self.order_pairs)}
        ceiling = self._ceiling(
            "read_order.lua", "ceiling: read-order raw ASGI+asyncpg", args
        )
        scenarios.warm_up(base, "read_order.lua", self.plan, args)
        for conns in READ_CONNS:
            self.rows.extend(
                scenarios.read_order(base, ceiling, conns, self.plan, args)
            )
