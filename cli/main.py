"""The `ringcast` entry point: the root typer app, global options and one-line error handling.

Every sub-command lives in its own module and is registered here. A `UserError` is
printed as one line (`error: ...`) with a non-zero exit; an unexpected exception is
logged with its traceback to the log file and reported as one line too.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from cli.agent_cmd import agent_app, group_app
from cli.blocklist import blacklist_app, dnc_app, vip_app, whitelist_app
from cli.campaign import campaign_app
from cli.campaign_live import status as campaign_status
from cli.campaign_live import why as campaign_why
from cli.config_cmd import config_app
from cli.db import db_app
from cli.demo import demo
from cli.import_cmd import import_list
from cli.ivr import ivr_app
from cli.lab import asterisk_app, lab_app
from cli.lists import list_app
from cli.purge import purge
from cli.queue import queue_app
from cli.report import report
from cli.serve import serve
from cli.simulate import simulate
from cli.sms import sms_app
from cli.survey import survey_app
from cli.survey_results import export as survey_export
from cli.survey_results import results as survey_results
from cli.voicemail import voicemail_app
from ringcast.errors import UserError
from ringcast.logs import configure_logging
from ringcast.settings import load_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="ringcast: outbound campaign dialer.")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(lab_app, name="lab")
app.add_typer(asterisk_app, name="asterisk")
app.add_typer(list_app, name="list")
app.add_typer(dnc_app, name="dnc")
app.add_typer(blacklist_app, name="blacklist")
app.add_typer(whitelist_app, name="whitelist")
app.add_typer(vip_app, name="vip")
campaign_app.command("status")(campaign_status)
campaign_app.command("why")(campaign_why)
app.add_typer(campaign_app, name="campaign")
app.add_typer(agent_app, name="agent")
app.add_typer(group_app, name="group")
survey_app.command("results")(survey_results)
survey_app.command("export")(survey_export)
app.add_typer(survey_app, name="survey")
app.add_typer(sms_app, name="sms")
app.add_typer(ivr_app, name="ivr")
app.add_typer(queue_app, name="queue")
app.add_typer(voicemail_app, name="voicemail")
app.command("import")(import_list)
app.command("report")(report)
app.command("demo")(demo)
app.command("serve")(serve)
app.command("simulate")(simulate)
app.command("purge")(purge)

err_console = Console(stderr=True, highlight=False)
# click's ClickException (typer vendors click, so reach it through a public typer class).
_USAGE_ERROR: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
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
        if isinstance(exc, _USAGE_ERROR):
            err_console.print(f"[bold red]error:[/] {exc.format_message()}", soft_wrap=True)
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
    return load_settings().data_dir / "ringcast.log"


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details to stderr.")) -> None:
    settings = load_settings()
    configure_logging(settings, verbose=verbose)


def console_script() -> None:
    sys.exit(run())


if __name__ == "__main__":
    console_script()
