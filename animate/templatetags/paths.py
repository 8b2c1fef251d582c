"""Parameter paths (``providerSettings.alibaba.promptExtend``) that wrap at their dots on a narrow
screen instead of in the middle of a word."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def path_breaks(path: object) -> SafeString:
    """The path, escaped, with a line-break opportunity (``<wbr>``) after each dot and before each
    ``[``; CSS (``.param-path``) then forbids breaks anywhere else."""
    text = str(escape(path))
    return mark_safe(text.replace(".", ".<wbr>").replace("[", "<wbr>["))  # noqa: S308 - escaped above
