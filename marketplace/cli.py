"""``flask`` commands: demo data, roles, workers, the scheduler, and operator escape hatches."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from sqlalchemy import delete

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db


def register(app: Flask) -> None:
    for command in (seed_demo, seed_roles, create_admin, worker, scheduler, dispatch, allowlist_clear):
        app.cli.add_command(command)


@click.command("seed-roles")
def seed_roles() -> None:
    """Create or refresh the system roles (idempotent)."""
    from marketplace.identity.services import sync_default_roles

    with acting_as(SYSTEM):
        roles = sync_default_roles(db.session)
        db.session.commit()
    click.echo(f"{len(roles)} system roles in place")


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo shops and accounts of DESIGN.md (idempotent) and print them."""
    from marketplace.core.jobs import dispatch_after_commit
    from marketplace.demo import DEMO_ACCOUNTS, seed

    with acting_as(SYSTEM):
        seed(db.session)
        db.session.commit()
    dispatch_after_commit()  # the demo orders' pushes to the shops
    click.echo("Demo accounts (demo data only):")
    for portal, email, password, what in DEMO_ACCOUNTS:
        click.echo(f"  {portal:<10} {email:<22} {password:<22} {what}")


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", default="Administrator")
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform super admin (first install, or when every admin is locked out)."""
    from marketplace.identity.models import UserKind
    from marketplace.identity.services import create_user, role_by_code, sync_default_roles

    with acting_as(SYSTEM):
        sync_default_roles(db.session)
        create_user(
            db.session,
            kind=UserKind.STAFF,
            email=email,
            password=password,
            name=name,
            roles=[role_by_code(db.session, UserKind.STAFF, "super_admin")],
        )
        db.session.commit()
    click.echo(f"super admin {email} created")


@click.command("allowlist-clear")
@click.confirmation_option(prompt="Open the admin portal to every address?")
def allowlist_clear() -> None:
    """Empty the admin IP allowlist: the way back in for an operator with shell access."""
    from marketplace.identity.models import AdminIpRule

    with acting_as(SYSTEM):
        db.session.execute(delete(AdminIpRule))
        db.session.commit()
    click.echo("admin IP allowlist cleared")


@click.command("dispatch")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
def dispatch(once: bool, interval: float) -> None:
    """Move outbox rows to RQ (the scheduler also does this every few seconds)."""
    from marketplace.core.jobs import dispatch_outbox

    while True:
        count = dispatch_outbox()
        if count:
            click.echo(f"dispatched {count}")
        if once:
            return
        time.sleep(interval)


@click.command("worker")
@click.option("--queues", default="order_push,notifications,settlement", show_default=True)
@click.option("--burst", is_flag=True, help="Run what is queued, then exit.")
@click.option("--forking", is_flag=True, help="Fork per job (isolation) instead of the faster SimpleWorker.")
def worker(queues: str, burst: bool, forking: bool) -> None:
    """Run an RQ worker for the given queues, with the scheduler for retries."""
    from rq import SimpleWorker, Worker

    from marketplace.core.jobs import get_queue

    if not current_app.extensions["rq_async"]:
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker is needed.")
    worker_class = Worker if forking else SimpleWorker
    worker_ = worker_class(
        [get_queue(name.strip()) for name in queues.split(",")], connection=current_app.extensions["redis"]
    )
    worker_.work(burst=burst, with_scheduler=True)


@click.command("scheduler")
def scheduler() -> None:
    """Run the periodic jobs (RQ's cron scheduler): outbox dispatch and housekeeping."""
    from rq.cron import CronScheduler

    from marketplace.core.periodic import register_periodic_jobs

    if not current_app.extensions["rq_async"]:
        raise click.ClickException("REDIS_URL is not set: the scheduler needs Redis.")
    cron = CronScheduler(connection=current_app.extensions["redis"])
    register_periodic_jobs(cron)
    cron.start()
