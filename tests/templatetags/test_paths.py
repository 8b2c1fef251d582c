"""path_breaks: parameter paths wrap at their dots, never mid-word, and stay escaped."""

from django.template import Context, Template

from animate.templatetags.paths import path_breaks


def test_a_path_may_break_after_each_dot_and_before_a_row_index():
    assert path_breaks("providerSettings.alibaba.promptExtend") == (
        "providerSettings.<wbr>alibaba.<wbr>promptExtend"
    )
    assert path_breaks("lora[0].weight") == "lora<wbr>[0].<wbr>weight"


def test_a_path_is_escaped_before_the_breaks_are_added():
    assert path_breaks("<b>.x") == "&lt;b&gt;.<wbr>x"


def test_the_filter_renders_in_a_template():
    html = Template("{% load paths %}{{ path|path_breaks }}").render(Context({"path": "safety.mode"}))
    assert html == "safety.<wbr>mode"
