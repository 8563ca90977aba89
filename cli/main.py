"""The `ringcast` entry point: the root typer app, global options and one-line error handling.

Every sub-command lives in its own module, named here (`COMMANDS`) with its one-line summary
and imported only when used (`cli.lazy`); so are the settings, which `--help` does not need. A
`UserError` is printed as one line (`error: ...`) with a non-zero exit; an unexpected exception
is logged with its traceback to the log file and reported as one line too.
"""

from __future__ import annotations

import logging
import sys
from functools import cache
from pathlib import Path

import typer
from rich.console import Console

from cli.lazy import Lazy, Loaders, click_error, lazy_group
from ringcast.errors import UserError


@cache
def campaign_commands() -> typer.Typer:
    """`campaign`, with `status` and `why` (which ask the engine) from their own module."""
    from cli.campaign import campaign_app
    from cli.campaign_live import status, why

    campaign_app.command("status")(status)
    campaign_app.command("why")(why)
    return campaign_app


@cache
def survey_commands() -> typer.Typer:
    """`survey`, with `results` and `export` from their own module."""
    from cli.survey import survey_app
    from cli.survey_results import export, results

    survey_app.command("results")(results)
    survey_app.command("export")(export)
    return survey_app


COMMANDS: Loaders = {  # each loaded when used (`cli.lazy`), listed in this order with its summary
    "config": Lazy("cli.config_cmd:config_app", "Inspect the effective configuration."),
    "db": Lazy("cli.db:db_app", "Create, migrate and inspect the database."),
    "lab": Lazy("cli.lab:lab_app", "The Asterisk lab: a pbx and a carrier on this machine."),
    "asterisk": Lazy("cli.lab:asterisk_app", "Asterisk configuration for ringcast."),
    "list": Lazy("cli.lists:list_app", "Show and export contact lists."),
    "dnc": Lazy("cli.blocklist:dnc_app", "Manage the do-not-call list (免打扰)."),
    "blacklist": Lazy("cli.blocklist:blacklist_app", "Manage the blacklist (黑名单)."),
    "whitelist": Lazy(
        "cli.blocklist:whitelist_app",
        "Manage the outbound whitelist (外呼白名单): dialled beyond a campaign's reach.",
    ),
    "vip": Lazy("cli.blocklist:vip_app", "Manage the VIP list (贵宾名单): inbound callers served first."),
    "campaign": Lazy(campaign_commands, "Create, change and run campaigns."),
    "agent": Lazy("cli.agent_cmd:agent_app", "Manage agents (座席)."),
    "group": Lazy("cli.agent_cmd:group_app", "Manage agent groups (技能组)."),
    "survey": Lazy(survey_commands, "Keypress surveys (满意度调查)."),
    "sms": Lazy("cli.sms:sms_app", "SMS: send, schedule, templates, opt-outs (短信)."),
    "ivr": Lazy("cli.ivr:ivr_app", "IVR flows (语音导航) and inbound numbers."),
    "queue": Lazy("cli.queue:queue_app", "Inbound queues (技能组) and their agents."),
    "voicemail": Lazy("cli.voicemail:voicemail_app", "Voicemail boxes (语音信箱): greetings and messages."),
    "import": Lazy(
        "cli.import_cmd:import_list",
        "Import a contact list: normalise, classify, de-duplicate and scrub every number.",
    ),
    "report": Lazy(
        "cli.report:report", "Reports with exact definitions (docs/metrics.md), aggregated in the database."
    ),
    "demo": Lazy(
        "cli.demo:demo",
        "Calls through the lab, then a predictive campaign with five simulated agents, and its report.",
    ),
    "serve": Lazy(
        "cli.serve:serve", "Run the dialer engine (AMI link, FastAGI server, campaigns) until interrupted."
    ),
    "simulate": Lazy(
        "cli.simulate:simulate",
        "Simulate a campaign with the real pacer and print the metrics of the scenarios README"
        " (and the inbound ones of a blended scenario, see docs/pacing.md).",
    ),
    "purge": Lazy(
        "cli.purge:purge",
        "Anonymise finished leads past their campaign's retention period (CMPL-6), audited.",
    ),
}
app = typer.Typer(
    cls=lazy_group(COMMANDS),
    no_args_is_help=True,
    add_completion=False,
    help="ringcast: outbound campaign dialer.",
)

err_console = Console(stderr=True, highlight=False)
_CLICK_ERROR = click_error("ClickException")
log = logging.getLogger("ringcast")


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising (used by tests and the console script)."""
    try:
        result = app(args=argv, standalone_mode=False)
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:  # usage errors and bugs
        if isinstance(exc, _CLICK_ERROR):
            message = exc.format_message()
            if type(exc).__name__ != "NoArgsIsHelpError":
                err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
            elif message:  # a group given no command: its help is the answer (rich printed it already)
                typer.echo(message)
            return exc.exit_code
        log_file = _log_file()
        log.exception("unexpected error")
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (details in {log_file})",
            soft_wrap=True,
        )
        return 70
    return result if isinstance(result, int) else 0


def _log_file() -> Path:
    from ringcast.settings import load_settings

    return load_settings().data_dir / "ringcast.log"


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details to stderr.")) -> None:
    from ringcast.logs import configure_logging  # here: settings bring in SQLAlchemy, `--help` needs none
    from ringcast.settings import load_settings

    configure_logging(load_settings(), verbose=verbose)


def console_script() -> None:
    sys.exit(run())


if __name__ == "__main__":
    console_script()
