"""`flexctl confirm ADDRESS... [--all] [--note TEXT] [--config PATH]`: record manual steps as
done by hand, for objects the platform's API cannot read (payment gateways, invoicing settings,
the storefront on the real OfficeRnD).

The confirmations go to `confirmations.yaml` beside the configuration, with the digest of each
object's configuration, who confirmed it (git identity, else the login name) and when; plan,
drift and check then treat those objects as done until their configuration changes. No target
is read: a confirmation is a person's word, recorded for review in the pull request.

Exit codes: 0 recorded (or already current); 1 the configuration or the confirmations file is
invalid, or the file cannot be written; 64 usage: no address and no `--all`, both, an address
the configuration lacks, or an object of a kind the platform's API reads (flexctl verifies those
by reading; nothing is written then).
"""

from __future__ import annotations

import click

from flexctl.commands.helptext import Command
from flexctl.errors import UsageError
from flexctl.sanitize import for_terminal
from flexctl.state.confirming import confirm_manual_steps

# How each outcome reads after "<address>: confirmed by ... on ...".
AFTER = {"new": "", "renewed": " (again: its configuration or the note changed)",
         "current": " (already: nothing changed)"}


@click.command("confirm", cls=Command, examples=[
    ("Record that the Stripe gateway and the invoicing settings are set up in the portal",
     "flexctl confirm gateways.stripe invoicing --note \"connected by Ann\""),
    ("Every manual step only a person can confirm, for a configuration elsewhere",
     "flexctl confirm --all --config my-space"),
], exit_codes=[
    (0, "recorded in confirmations.yaml (or already current)"),
    (1, "the configuration or confirmations.yaml is invalid, or the file cannot be written"),
    (64, "usage: no address and no --all, both, an address the configuration lacks, or an "
         "object of a kind the platform reads (nothing is written)"),
])
@click.argument("addresses", nargs=-1, metavar="ADDRESS...")
@click.option("--all", "every", is_flag=True,
              help="confirm every object of the configuration that only a person can confirm")
@click.option("--note", metavar="TEXT", help="a note kept with each confirmation")
@click.option("--config", "config", default=".", show_default=True, metavar="PATH",
              type=click.Path(path_type=str), help="the configuration (a file or a directory)")
def command(addresses: tuple[str, ...], every: bool, note: str | None, config: str) -> int:
    """Record manual steps the platform's API cannot verify as done by hand.

    For objects of kinds the real platform cannot read (payment gateways, invoicing settings,
    the storefront), a plan can never see that their manual step was done. confirm records,
    in confirmations.yaml beside the configuration, the digest of each object's configuration,
    who confirmed it (git identity, else the login name) and when; plan, drift and check then
    count it as done until its configuration changes. No target is read.
    """
    if every and addresses:
        raise UsageError("give addresses or --all, not both")
    if not every and not addresses:
        raise UsageError("name the addresses to confirm (as the plan shows them), or --all")
    if note is not None and not note.strip():
        raise UsageError("--note must not be empty")
    result = confirm_manual_steps(config, addresses, every=every, note=note)
    if not result.recorded:
        click.echo("Nothing to confirm: the configuration declares nothing that only a person "
                   "can confirm.")
        return 0
    for confirmation, state in result.recorded:
        text = f"{confirmation.address}: {confirmation.describe()}{AFTER[state]}"
        click.echo(for_terminal(text))  # a note or git name may hold anything
    if any(state != "current" for _, state in result.recorded):
        click.echo(f"Recorded in {result.path}: commit it with the configuration. Each "
                   "confirmation holds while that object's configuration is unchanged.")
    return 0
