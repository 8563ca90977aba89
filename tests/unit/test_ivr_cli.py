"""`ringcast ivr validate` and `ivr test FILE`, which need no database: every problem on a line of its
own and a non-zero exit; a walk prints the actions, the inputs and the path."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import run
from tests.unit.test_ivr_flow import EXAMPLE


def output(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_a_good_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert output(capsys, "ivr", "validate", EXAMPLE) == (
        0,
        f"{EXAMPLE}: flow hotline, 15 nodes: valid\n",
        "",
    )


def test_validate_lists_every_problem_then_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: t\nstart: a\nnodes:\n"
        "  a: {type: menu, prompt: {audio: custom/a}, keys: {'1': b, '2': zz}}\n"
        "  b: {type: goto, next: b}\n"
        "  c: {type: hangup}\n",
        encoding="utf-8",
    )
    (tmp_path / "sounds" / "custom").mkdir(parents=True)
    code, out, err = output(capsys, "ivr", "validate", bad, "--sounds", tmp_path / "sounds")
    assert code == 2
    assert out.splitlines() == [
        f"{bad}: nodes.a.keys.2: no node zz",
        f"{bad}: nodes.c: no path from start (a) leads to it",
        f"{bad}: nodes.b: goes round b -> b without waiting for the caller",
        f"{bad}: nodes.a.prompt: no sound custom/a on the PBX",
    ]
    assert err == f"error: IVR flow {bad}: 4 problem(s), listed above\n"
    (tmp_path / "sounds" / "custom" / "a.wav").write_bytes(b"")
    code, out, _ = output(capsys, "ivr", "validate", bad, "--sounds", tmp_path / "sounds")
    assert (code, len(out.splitlines())) == (2, 3)  # the sound is found now


def test_a_document_that_does_not_parse_is_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nnodes: {a: {type: menu}}\n", encoding="utf-8")
    code, out, err = output(capsys, "ivr", "validate", bad)
    assert (code, err) == (2, f"error: IVR flow {bad}: 3 problem(s), listed above\n")
    assert out.splitlines() == [
        f"{bad}: start: Field required",
        f"{bad}: nodes.a.prompt: Field required",
        f"{bad}: nodes.a.keys: Field required",
    ]
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert output(capsys, "ivr", "validate", binary)[2] == (
        f"error: IVR flow {binary}: cannot be read as UTF-8 text (UnicodeDecodeError)\n"
    )


def test_test_walks_a_file_with_keys_caller_facts_and_time(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = output(
        capsys,
        "ivr",
        "test",
        EXAMPLE,
        "--keys",
        "1",
        "--caller",
        "02088881234",
        "--at",
        "2026-12-01T10:00+08:00",
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "flow hotline, caller 02088881234 (广东省), at 2026-12-01T10:00:00+08:00",
        'play "您好，欢迎致电某某公司客服热线"',
        'collect at main: "咨询产品请按1，查询订单请按2，人工服务请按0", up to 1 key(s)',
        "> 1",
        "queue sales-south",
        "path: welcome > screen > open > main > region > sales_south",
        "variables: choice=1",
    ]


def test_test_takes_tags_and_fails_in_one_line_on_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = output(capsys, "ivr", "test", EXAMPLE, "--tag", "VIP", "--at", "2026-12-01T10:00+08:00")
    assert code == 0 and "queue service, priority +5" in out.splitlines()
    code, _, err = output(capsys, "ivr", "test", EXAMPLE, "--at", "2026-12-01T10:00")
    assert (code, err) == (
        2,
        "error: --at '2026-12-01T10:00': give the time with its offset, e.g. 2026-12-01T10:00+08:00\n",
    )
    code, _, err = output(capsys, "ivr", "test", EXAMPLE, "--field", "level")
    assert (code, err) == (
        2,
        "error: --field 'level': give a customer record field as NAME=VALUE, e.g. level=gold\n",
    )
