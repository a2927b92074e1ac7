"""Site-generator template code removed from Markdown bodies, as the generator itself would before the
reader sees the page: Liquid and Nunjucks (`{% ... %}`, `{{ ... }}`, `{# ... #}`: Jekyll, Eleventy),
Hugo shortcodes (`{{< ... >}}`, `{{% ... %}}`) and attribute lists (`## Title {#anchor}`, `{: .class}`).

The text between paired tags (`{% highlight %}...{% endhighlight %}`, `{% raw %}...{% endraw %}`, a
paired shortcode) stays; a `{% comment %}` block goes whole. Image tags and shortcodes give their alt
text and captions, never their file names. Every pattern is a regular expression that cannot cross a
brace (a tag holds no braces of its own) and is at most MAX_TAG_CHARS long, so the time is linear in the
text and a stray `{{` cannot swallow the prose after it.
"""
from __future__ import annotations

import re
from itertools import islice

MAX_TAG_CHARS = 4_000
MAX_IMAGE_TAGS = 1_000  # captions are taken from this many image tags of one article at most

_TAG_RE = re.compile(
    rf"\{{\{{[^{{}}]{{0,{MAX_TAG_CHARS}}}\}}\}}"  # {{ x }}, {{< x >}}, {{% x %}}
    rf"|\{{%(?:[^{{}}%]|%(?!\}})){{0,{MAX_TAG_CHARS}}}%\}}"  # {% x %} (a caption may say 75%)
    rf"|\{{#[\s-][^{{}}#]{{0,{MAX_TAG_CHARS}}}#\}}"  # {# comment #}
)
_IMAGE_TAG_RE = re.compile(
    rf"\{{[{{%][<%]?[\s-]*(?:[\w.-]*(?:image|img|figure|picture|photo)[\w.-]*)\b([^{{}}]{{0,{MAX_TAG_CHARS}}})[%}}]\}}",
    re.IGNORECASE,
)
# A tag that was a link's address leaves an address, or `[text]({{ "/x" | url }})` would stop being a link.
_LINK_TARGET_RE = re.compile(rf"(?<=\]\()[ \t]*(?:{_TAG_RE.pattern})")
# Delimiters left over (an unclosed tag, what `{% raw %}` protected) mean nothing to a reader.
_DELIMITERS_RE = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_COMMENT_START_RE = re.compile(r"\{%-?\s*comment\s*-?%\}")
_COMMENT_END_RE = re.compile(r"\{%-?\s*endcomment\s*-?%\}")
# `{#anchor}`, `{#id .class}`, `{: .class}`, `{:toc}`, `{.class}` at the end of a line (kramdown, Pandoc).
_ATTRIBUTES_RE = re.compile(r"\{[:#.][^{}\n]{0,200}\}[ \t]*$", re.MULTILINE)
_ARGUMENT_RE = re.compile(r"""(?:([\w-]+)\s*=\s*)?(?:"([^"]*)"|'([^']*)')""")
_CAPTION_KEYS = frozenset({"alt", "caption", "title", "attr", "description"})
_FILE_NAME_RE = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|avif|bmp|tiff?)$", re.IGNORECASE)


def strip_templates(text: str) -> tuple[str, list[str]]:
    """(the text without template code, the captions its image tags carried)."""
    if "{" not in text:
        return text, []
    text = _drop_comment_blocks(text)
    captions = [c for match in islice(_IMAGE_TAG_RE.finditer(text), MAX_IMAGE_TAGS) for c in image_captions(match.group(1))]
    text = _TAG_RE.sub("", _LINK_TARGET_RE.sub("#", text))
    return _DELIMITERS_RE.sub(" ", _ATTRIBUTES_RE.sub("", text)), captions


def image_captions(arguments: str) -> list[str]:
    """Alt text and captions among an image tag's quoted arguments: keyed ones named like a caption,
    unkeyed ones that read like words (a space, no path, no image file name)."""
    found = []
    for key, double, single in _ARGUMENT_RE.findall(arguments):
        value = (double or single).strip()
        if not value or "/" in value or is_file_name(value):
            continue
        if (key.lower() in _CAPTION_KEYS) if key else " " in value:
            found.append(value)
    return found


def is_file_name(text: str) -> bool:
    """True for an image file's name ("chart (1).png"), which sites often leave as alt text."""
    return bool(_FILE_NAME_RE.search(text.strip()))


def _drop_comment_blocks(text: str) -> str:
    """`{% comment %} ... {% endcomment %}` removed with what it holds."""
    if "comment" not in text:
        return text
    parts: list[str] = []
    position = 0
    for start in _COMMENT_START_RE.finditer(text):
        if start.start() < position:
            continue
        end = _COMMENT_END_RE.search(text, start.end())
        if end is None:
            break  # no end after this one: none after any later start either
        parts.append(text[position:start.start()])
        position = end.end()
    parts.append(text[position:])
    return "".join(parts)

