"""SMS templates: the syntax, save-time checks, rendering, length limits and marketing marks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringcast.errors import UserError
from sms.templates import (
    KNOWN_VARIABLES,
    SignatureStyle,
    Slot,
    TemplateValueMissing,
    check_length,
    marketing_text,
    parse_template,
    render,
    template_values,
)


def test_a_template_knows_its_pieces_and_variables() -> None:
    template = parse_template("{name|客户}您好，{{优惠}}见 {link}，{ attr. 车型 } {name}")
    assert template.pieces == (
        Slot("name", "客户"),
        "您好，{优惠}见 ",
        Slot("link"),
        "，",
        Slot("attr.车型"),
        " ",
        Slot("name"),
    )
    assert template.variables == ("name", "link", "attr.车型")
    assert template.fixed_text == "您好，{优惠}见 ， "


def test_every_known_variable_and_any_attribute_column_is_accepted() -> None:
    plain = [name for name in KNOWN_VARIABLES if not name.startswith("attr.")]
    assert plain == ["name", "number", "city", "region", "agent", "callback_number", "campaign", "link"]
    assert parse_template("".join(f"{{{name}}}" for name in plain)).variables == tuple(plain)
    assert parse_template("{attr.生日 (公历)|}").variables == ("attr.生日 (公历)",)
    assert all(description for description in KNOWN_VARIABLES.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "SMS template is empty"),
        ("  \n", "SMS template is empty"),
        ("您好{nmae}", "SMS template: unknown variable {nmae} at character 3"),
        ("{attr.}", "SMS template: unknown variable {attr.} at character 1"),
        ("ab{}", "SMS template: empty {} at character 3"),
        ("ab{ |x}", "SMS template: empty {} at character 3"),
        ("ab{name", "SMS template: { at character 3 is not closed"),
        ("{name{city}}", "SMS template: { at character 1 is not closed"),
        ("a}b", "SMS template: unmatched } at character 2"),
        ("{{name}", "SMS template: unmatched } at character 7"),
    ],
)
def test_bad_templates_are_refused_with_the_cause_and_position(text: str, message: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_template(text)
    assert refused.value.message == message


def test_an_unknown_variable_lists_the_known_ones_and_a_close_guess() -> None:
    with pytest.raises(UserError) as refused:
        parse_template("{nmae}")
    assert refused.value.hint == (
        "did you mean {name}? known: name, number, city, region, agent, callback_number, campaign, link,"
        " attr.<column>"
    )


def test_fixed_text_beyond_the_limit_is_refused_at_save_time() -> None:
    assert parse_template("退" * 670 + "{name}").variables == ("name",)
    with pytest.raises(UserError, match="fixed text alone takes 11 message parts, more than 10"):
        parse_template("退" * 671 + "{name}")
    with pytest.raises(UserError, match="takes 2 message parts, more than 1"):
        parse_template("a" * 161, max_segments=1)


def test_render_uses_values_then_defaults() -> None:
    template = parse_template("{name|客户}您好，{city|}门店见，{{ {link} }}")
    assert (
        render(template, {"name": "张三", "city": "杭州", "link": "t.cn/a"})
        == "张三您好，杭州门店见，{ t.cn/a }"
    )
    assert render(template, {"name": None, "city": "  ", "link": "t.cn/a"}) == "客户您好，门店见，{ t.cn/a }"


def test_render_names_every_variable_with_neither_value_nor_default() -> None:
    template = parse_template("{name}您好，{city|}{agent}为您服务 {name}")
    with pytest.raises(TemplateValueMissing) as missing:
        render(template, {"name": "", "city": None})
    assert missing.value.variables == ("name", "agent")
    assert missing.value.message == "missing value for {name}, {agent}"
    assert isinstance(missing.value, UserError)


def test_template_values_read_the_lead() -> None:
    values = template_values(
        "+8613812345678",
        {"name": "Zhang", "姓名": "张三", "积分": 120, "备注": None},
        city="杭州",
        link="t.cn/a",
    )
    assert values == {
        "name": "张三",
        "number": "+8613812345678",
        "city": "杭州",
        "region": None,
        "agent": None,
        "callback_number": None,
        "campaign": None,
        "link": "t.cn/a",
        "attr.name": "Zhang",
        "attr.姓名": "张三",
        "attr.积分": "120",
        "attr.备注": None,
    }
    assert template_values("+1", {"姓名": " ", "name": "Bob"})["name"] == "Bob"
    template = parse_template("{name}，您的积分 {attr.积分}")
    assert render(template, values) == "张三，您的积分 120"


def test_check_length_counts_parts_and_refuses_empty_or_long_text() -> None:
    assert check_length("a" * 160) == 1
    assert check_length("退" * 71) == 2
    assert check_length("退" * 670) == 10
    with pytest.raises(UserError) as refused:
        check_length("退" * 671)
    assert refused.value.message == "SMS text takes 11 message parts (671 characters, ucs2), more than 10"
    with pytest.raises(UserError, match="takes 2 message parts \\(161 characters, gsm7\\), more than 1"):
        check_length("a" * 161, max_segments=1)
    with pytest.raises(UserError, match="SMS text is empty"):
        check_length(" ")


def test_marketing_marks_in_chinese_style() -> None:
    def mark(body: str) -> str:
        return marketing_text(body, sender_name="华信", opt_out_text="回复TD退订", style=SignatureStyle.CJK)

    assert mark("周末全场八折") == "【华信】周末全场八折，回复TD退订"
    assert mark(" 周末全场八折。") == "【华信】周末全场八折。回复TD退订"
    assert mark("【华信】周末全场八折 回复TD退订") == "【华信】周末全场八折 回复TD退订"
    assert mark("") == "【华信】回复TD退订"


def test_marketing_marks_in_latin_style() -> None:
    def mark(body: str, opt_out: str | None = "Reply STOP to opt out") -> str:
        return marketing_text(body, sender_name=" Acme ", opt_out_text=opt_out, style=SignatureStyle.LATIN)

    assert mark("20% off today") == "Acme: 20% off today Reply STOP to opt out"
    assert mark("Acme: 20% off. Reply STOP to opt out") == "Acme: 20% off. Reply STOP to opt out"
    assert mark("20% off", opt_out=None) == "Acme: 20% off"
    assert mark("", opt_out=None) == "Acme:"


@pytest.mark.parametrize("name", ["", "  ", "【华信】", "华】信"])
def test_a_sender_name_must_be_a_plain_name(name: str) -> None:
    with pytest.raises(UserError, match="SMS sender name"):
        marketing_text("hi", sender_name=name, opt_out_text=None, style=SignatureStyle.CJK)


_words = st.text(st.sampled_from("ab 退订TD回复。，:【】Acme华信\n"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    body=_words,
    sender_name=st.sampled_from(["华信", "Acme", "T D", "退订"]),
    opt_out_text=st.one_of(st.none(), _words),
    style=st.sampled_from(SignatureStyle),
)
def test_marking_is_idempotent_and_always_carries_the_marks(
    body: str, sender_name: str, opt_out_text: str | None, style: SignatureStyle
) -> None:
    once = marketing_text(body, sender_name=sender_name, opt_out_text=opt_out_text, style=style)
    twice = marketing_text(once, sender_name=sender_name, opt_out_text=opt_out_text, style=style)
    assert twice == once
    mark = f"【{sender_name}】" if style is SignatureStyle.CJK else f"{sender_name}:"
    assert once.startswith(mark)
    assert (opt_out_text or "").strip() in once.removeprefix(mark)
