"""Survey benchmark: about 100 simultaneous survey calls on the lab, the engine against a bare
FastAGI survey measured in the same run.

    .venv/bin/python bench/survey_bench.py [--calls 150] [--lines 100] [--out DIR]

Needs the lab up (`ringcast lab up`). Both sides run the same survey (`docs/examples/csat-survey.yaml`:
the intro, the score question, the recommend question, the closing, on the path `41` takes) for the
same respondents: carrier numbers whose script is `41` (score 4, then yes), `--calls` of them,
`--lines` calls at a time, originated at up to `RATE` calls per second.

- Engine: `dialer.engine.Engine` in this process (SQLite in a temporary directory) running a
  broadcast campaign with the survey (`max_lines` = lines), its FastAGI survey application
  storing every answer through its database thread.
- Bare: plain panoramisk originates into the same `ringcast-agi` context, each call to a minimal
  FastAGI handler that plays the same prompts and waits the same way: no database, no session
  machine, no dialer. The floor the PBX and the socket set.

Measured on each side by the same FastAGI server class (`dialer.asterisk.fastagi`):

- the most survey sessions at once;
- think time: from a command's answer to the session's next command, the silence the program
  puts on the line between prompts. Target: the engine's worst ≤ 300 ms (`TARGET_GAP_S`);
- STREAM FILE overhead: a prompt's round trip minus its own length (prompts no key cut short):
  the gap the PBX and the socket add around each prompt;
- completed surveys: stored complete (engine) or played to the end (bare), of the calls.

Prints a table and writes `DIR/survey.md` and `DIR/survey.json`. A benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import wave
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from live_probes import BareAmi, percentile, trunk_channel  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from campaigns import campaign_store  # noqa: E402
from campaigns.campaign_store import CampaignEvent  # noqa: E402
from campaigns.compliance.blocklist_store import Change  # noqa: E402
from campaigns.config import CampaignSpec  # noqa: E402
from campaigns.persistence.db import Database  # noqa: E402
from campaigns.persistence.models import Attempt, SurveyResponse  # noqa: E402
from campaigns.surveys.document import Survey, parse_survey  # noqa: E402
from campaigns.surveys.store import create_survey  # noqa: E402
from dialer.asterisk.ami import AmiLink, endpoint_from_settings  # noqa: E402
from dialer.asterisk.carrier_plan import respondent_number, zone_at_local_hour  # noqa: E402
from dialer.asterisk.confgen import AGI_CONTEXT, AGI_ROUTE_VAR, AGI_URL_VAR  # noqa: E402
from dialer.asterisk.fastagi import AgiCall, AgiHangup, FastAgiServer  # noqa: E402
from dialer.asterisk.lab import Lab  # noqa: E402
from dialer.asterisk.ports import free_tcp_port  # noqa: E402
from dialer.asterisk.prompts import PromptLibrary  # noqa: E402
from dialer.engine import ApiEndpoint, Engine  # noqa: E402
from dialer.live.lab_lists import add_lab_list  # noqa: E402
from dialer.live.surveys import ANY_KEY  # noqa: E402
from ringcast.settings import load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
RATE = 50  # originates per second at most, both sides
TARGET_GAP_S = 0.300
SCRIPT = "41"
PATH = ("score", "recommend")  # the questions script 41 goes through (4 at score, 1 at recommend)
CUT_SHORT_S = 0.05  # a prompt that returned this much before its length was cut short by a key
SURVEY = (ROOT / "docs" / "examples" / "csat-survey.yaml").read_text(encoding="utf-8")


def figures(server: FastAgiServer, lengths: dict[str, float], completed: int, calls: int) -> dict[str, Any]:
    """One side's measures from its FastAGI server."""
    overheads = []
    for line, seconds in server.round_trips:
        words = line.split()
        length = lengths.get(words[2]) if line.startswith("STREAM FILE") else None
        if length is not None and seconds > length - CUT_SHORT_S:  # played to its end
            overheads.append(seconds - length)
    return {
        "peak_sessions": server.peak_sessions,
        "think_p50_s": percentile(server.think_times, 50),
        "think_p99_s": percentile(server.think_times, 99),
        "think_max_s": max(server.think_times, default=None),
        "commands": len(server.round_trips),
        "stream_overhead_p50_s": percentile(overheads, 50),
        "stream_overhead_p99_s": percentile(overheads, 99),
        "completed": completed,
        "calls": calls,
    }


def prompt_lengths(prompts: PromptLibrary, survey: Survey) -> dict[str, float]:
    """Each text prompt's sound name, as played, and its length in seconds."""
    lengths = {}
    for prompt in survey.prompts():
        with wave.open(str(prompts.local_file(prompt, survey.language))) as audio:
            lengths[prompts.sound(prompt, survey.language)] = audio.getnframes() / audio.getframerate()
    return lengths


# -- the engine ------------------------------------------------------------------------------------


def _prepare(database: Database, survey: Survey, calls: int, lines: int, now: datetime) -> None:
    create_survey(database, survey)
    change = Change("survey-bench", now)
    zone = zone_at_local_hour(14, now)
    add_lab_list(database, "bench", {respondent_number(n, SCRIPT): zone for n in range(calls)}, now)
    spec = CampaignSpec.parse(
        {
            "dial_mode": "broadcast",
            "survey": survey.name,
            "max_lines": lines,
            "calls_per_second": RATE,
            "caller_id": "4008001234",
            "preset": "cn",
            "lists": [{"name": "bench"}],
        }
    )
    campaign_store.create(database, "bench", spec, change, trunks=["carrier"])
    campaign_store.change_state(database, "bench", CampaignEvent.START, change, trunks=["carrier"])


def _ended(database: Database) -> tuple[int, int, int]:
    """Calls ended, surveys ended, surveys complete."""
    with database.session() as session:
        calls = session.scalar(select(func.count()).where(Attempt.ended_at.is_not(None))) or 0
        ended = session.scalar(select(func.count()).where(SurveyResponse.ended_at.is_not(None))) or 0
        complete = session.scalar(select(func.count()).where(SurveyResponse.completed_at.is_not(None))) or 0
    return calls, ended, complete


async def run_engine(
    args: argparse.Namespace, survey: Survey, prompts: PromptLibrary, tmp: Path
) -> tuple[FastAgiServer, int]:
    settings = load_settings()
    database = Database(f"sqlite:///{tmp / 'survey-bench.db'}")
    database.upgrade()
    await asyncio.to_thread(_prepare, database, survey, args.calls, args.lines, datetime.now(UTC))
    fastagi = FastAgiServer("127.0.0.1", free_tcp_port())
    engine = Engine(
        database=database,
        ami=AmiLink(endpoint_from_settings(settings)),
        fastagi=fastagi,
        api=ApiEndpoint("127.0.0.1", free_tcp_port(), "bench-token"),
        prompts=prompts,
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(engine.run(stop, on_ready=ready.set), name="engine")
    await asyncio.wait_for(ready.wait(), 30)
    deadline = time.monotonic() + 120 + args.calls
    try:
        while time.monotonic() < deadline:
            calls, ended, complete = await asyncio.to_thread(_ended, database)
            if calls >= args.calls and ended >= calls:
                break
            await asyncio.sleep(1.0)
    finally:
        stop.set()
        await running
        database.dispose()
    return fastagi, complete


# -- the bare survey -------------------------------------------------------------------------------


class BareSurvey:
    """The same prompts and waits as the engine's survey for script 41, and nothing else."""

    def __init__(self, prompts: PromptLibrary, survey: Survey) -> None:
        assert survey.intro is not None and survey.closing is not None
        sound = lambda prompt: prompts.sound(prompt, survey.language)  # noqa: E731
        self.intro, self.closing = sound(survey.intro), sound(survey.closing)
        asked = [next(q for q in survey.questions if q.id == question) for question in PATH]
        self.questions = [(sound(q.prompt), round(q.timeout_s * 1000)) for q in asked]
        self.completed = 0
        self.slots: asyncio.Semaphore | None = None

    async def handle(self, call: AgiCall) -> None:
        try:
            played = [self.intro]
            for prompt, timeout_ms in self.questions:
                key = None
                for sound in [*played, prompt]:
                    key = await call.stream_file(sound, ANY_KEY)
                    if key is not None:
                        break
                if key is None:
                    key = await call.wait_for_digit(timeout_ms)
                played = []
            await call.stream_file(self.closing)
            self.completed += 1
            await call.hangup()
        except AgiHangup:
            pass
        finally:
            assert self.slots is not None
            self.slots.release()


async def run_bare(
    args: argparse.Namespace, survey: Survey, prompts: PromptLibrary
) -> tuple[FastAgiServer, int]:
    settings = load_settings()
    server = FastAgiServer("127.0.0.1", free_tcp_port())
    bare = BareSurvey(prompts, survey)
    bare.slots = asyncio.Semaphore(args.lines)
    server.route("bare-survey", bare.handle)
    await server.start()
    ami = BareAmi(endpoint_from_settings(settings))
    await ami.connect()
    variables = {AGI_URL_VAR: f"agi://127.0.0.1:{server.port}", AGI_ROUTE_VAR: "bare-survey"}
    try:
        for n in range(args.calls):
            await bare.slots.acquire()
            number = respondent_number(500 + n, SCRIPT)
            ami.originate(
                trunk_channel(number), f"bare-survey-{time.time():.0f}-{n}", AGI_CONTEXT, variables=variables
            )
            await asyncio.sleep(1 / RATE)
        for _ in range(args.lines):  # every call's session over
            await asyncio.wait_for(bare.slots.acquire(), 120)
    finally:
        ami.close()
        await server.stop()
    return server, bare.completed


# -- report ----------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def table(bare: dict[str, Any], engine: dict[str, Any], lines: int) -> str:
    ok_peak = engine["peak_sessions"] >= min(lines, engine["calls"])
    ok_gap = engine["think_max_s"] is not None and engine["think_max_s"] <= TARGET_GAP_S
    ok_done = engine["completed"] == engine["calls"]
    rows = [
        (
            "most survey calls at once",
            str(bare["peak_sessions"]),
            str(engine["peak_sessions"]),
            f"{lines}",
            ok_peak,
        ),
        (
            "think time between prompts p50 / p99 / max (ms)",
            f"{_ms(bare['think_p50_s'])} / {_ms(bare['think_p99_s'])} / {_ms(bare['think_max_s'])}",
            f"{_ms(engine['think_p50_s'])} / {_ms(engine['think_p99_s'])} / {_ms(engine['think_max_s'])}",
            f"max ≤ {TARGET_GAP_S * 1000:.0f}",
            ok_gap,
        ),
        (
            "STREAM FILE overhead p50 / p99 (ms)",
            f"{_ms(bare['stream_overhead_p50_s'])} / {_ms(bare['stream_overhead_p99_s'])}",
            f"{_ms(engine['stream_overhead_p50_s'])} / {_ms(engine['stream_overhead_p99_s'])}",
            "(information)",
            None,
        ),
        (
            "surveys completed",
            f"{bare['completed']} / {bare['calls']}",
            f"{engine['completed']} / {engine['calls']}",
            "all",
            ok_done,
        ),
        ("AGI commands", str(bare["commands"]), str(engine["commands"]), "", None),
    ]
    lines_out = ["| measure | bare FastAGI | engine | target | |", "|---|---|---|---|---|"]
    for measure, b, e, target, ok in rows:
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        lines_out.append(f"| {measure} | {b} | {e} | {target} | {verdict} |")
    return "\n".join(lines_out)


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    survey = parse_survey(SURVEY)
    prompts = PromptLibrary.from_settings(load_settings())
    await asyncio.to_thread(prompts.render_missing, survey)
    lengths = prompt_lengths(prompts, survey)
    bare_server, bare_done = await run_bare(args, survey, prompts)
    engine_server, engine_done = await run_engine(args, survey, prompts, tmp)
    return {
        "bare": figures(bare_server, lengths, bare_done, args.calls),
        "engine": figures(engine_server, lengths, engine_done, args.calls),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=150, help="survey calls on each side (default 150)")
    parser.add_argument("--lines", type=int, default=100, help="calls at a time on each side (default 100)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write survey.md and survey.json")
    args = parser.parse_args(argv)
    lab = Lab(load_settings())
    if not lab.status().running:
        print("the lab is not running: `ringcast lab up` first", file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ringcast-survey-bench-") as tmp:
        report = asyncio.run(bench(args, Path(tmp)))
    text = table(report["bare"], report["engine"], args.lines)
    print(f"\n{text}\n\n{time.monotonic() - started:.0f} s in all")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "survey.md").write_text(
        "# Survey benchmark: the engine's FastAGI survey against a bare one on the lab\n\n"
        f"Machine: {machine}; run {datetime.now(UTC).isoformat(timespec='seconds')};"
        f" {args.calls} calls a side, {args.lines} at a time, script {SCRIPT}.\n\n{text}\n"
    )
    (args.out / "survey.json").write_text(
        json.dumps({"machine": machine, "calls": args.calls, "lines": args.lines} | report, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
