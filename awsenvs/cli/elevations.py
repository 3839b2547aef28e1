"""`elevations`: the grants and requests of eligible groups, as the record holds them."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from awsenvs.cli.common import load_org, out


@click.command()
@click.option("--all", "everything", is_flag=True, help="Also the ended and revoked ones (the whole record).")
@click.pass_context
def elevations(ctx: click.Context, everything) -> None:
    """List the active grants and waiting requests: who, which group where, why, since and until.

    Read from <state folder>/elevations.json; AWS holds each active grant as a statement
    in its group's MFA role trust (`audit` compares the two).
    """
    from rich.table import Table

    from awsenvs import elevation
    from awsenvs.config import iso_time

    org = load_org(ctx)
    now = datetime.now(timezone.utc)
    if org.state.backend == "s3":
        from awsenvs import aws

        aws.connect(org)
    rows = [(e, elevation.status(e, org, now)) for e in elevation.read(org).grants]
    rows = [(e, s) for e, s in rows if everything or s in ("active", "waiting for approval")]
    if not rows:
        out.print("No active grants or waiting requests" + ("" if everything else " (--all: the ended ones too)"),
                  markup=False, highlight=False)
        return
    table = Table(title="Elevations", title_justify="left")
    for column in ("id", "environment", "user", "group", "status", "since", "until", "asked by", "approved by", "reason"):
        table.add_column(column)
    keys = {e.stack: e.key for e in org.environments}
    for entry, state in sorted(rows, key=lambda row: row[0].since):
        table.add_row(entry.id, keys.get(entry.stack, entry.stack), entry.user, entry.group, state,
                      iso_time(entry.since), iso_time(entry.end), entry.requester, entry.approver or "-", entry.reason)
    out.print(table)
