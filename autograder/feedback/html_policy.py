"""What HTML from a student may reach a browser: the allow-list, the sanitizer, what it took.

``clean_fragment`` is nh3 (Rust's ammonia: an HTML5 parser, html5ever, with an allow-list) with
the course's lists below, narrowed by ``_attribute`` (URLs by tag, CSS that loads nothing).
``clean_svg`` keeps an SVG document valid XML. ``removed`` names the active content a cleaning
took, for the grade table; inert losses (a plot's ``<metadata>``) are not named.
Used by autograder/preprocessors/clean_html.py, at grading and on feedback pages.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import nh3

HTML_TAGS = nh3.ALLOWED_TAGS | {"tfoot", "input"}  # input: markdown task lists (checkboxes)
MATHML_TAGS = {
    "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot",
    "mstyle", "merror", "mpadded", "mphantom", "mfenced", "menclose", "msub", "msup",
    "msubsup", "munder", "mover", "munderover", "mmultiscripts", "mprescripts", "none",
    "mtable", "mtr", "mtd", "mlabeledtr", "semantics", "annotation"}
# No script, foreignObject, a, animate/set (they can set href to javascript:), style, filter.
SVG_TAGS = {
    "svg", "g", "defs", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "desc", "clipPath", "mask", "pattern",
    "marker", "linearGradient", "radialGradient", "stop", "image"}
TAGS = HTML_TAGS | MATHML_TAGS | SVG_TAGS
# Removed with their content (the rest of a disallowed tag's text stays, as text).
CONTENT_TAGS = {"script", "style", "template", "noscript", "iframe", "object", "embed",
                "metadata", "foreignObject", "textarea", "select", "title"} - TAGS

GENERIC_ATTRIBUTES = {
    "id", "class", "title", "lang", "dir", "align", "valign", "style", "width", "height",
    "colspan", "rowspan", "scope", "span", "start", "type", "alt", "open", "disabled",
    "checked", "name", "border", "cellpadding", "cellspacing",
    # MathML
    "display", "mathvariant", "mathsize", "mathcolor", "mathbackground", "stretchy", "fence",
    "separator", "separators", "close", "lspace", "rspace", "minsize", "maxsize",
    "largeop", "movablelimits", "symmetric", "accent", "accentunder", "columnalign",
    "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame",
    "linethickness", "notation", "depth", "voffset", "scriptlevel", "displaystyle", "form",
    "encoding", "xmlns",
    # SVG presentation
    "xlink", "version", "viewBox", "preserveAspectRatio", "x", "y", "x1", "y1", "x2", "y2",
    "cx", "cy", "r", "rx", "ry", "d", "points", "transform", "fill", "fill-opacity",
    "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap",
    "stroke-linejoin", "stroke-dasharray", "stroke-dashoffset", "stroke-miterlimit",
    "opacity", "clip-path", "clip-rule", "clipPathUnits", "mask", "maskUnits",
    "maskContentUnits", "font-family", "font-size", "font-weight", "font-style",
    "text-anchor", "dominant-baseline", "alignment-baseline", "baseline-shift",
    "letter-spacing", "dx", "dy", "rotate", "textLength", "lengthAdjust", "offset",
    "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod", "fx",
    "fy", "patternUnits", "patternContentUnits", "patternTransform", "markerWidth",
    "markerHeight", "markerUnits", "refX", "refY", "orient", "visibility", "color",
    "vector-effect", "shape-rendering", "text-rendering", "image-rendering"}
URL_ATTRIBUTES = {"a": {"href"}, "img": {"src"}, "use": {"href"}, "image": {"href"},
                  "linearGradient": {"href"}, "radialGradient": {"href"}, "pattern": {"href"}}
ATTRIBUTES = {"*": GENERIC_ATTRIBUTES, **URL_ATTRIBUTES}
URL_SCHEMES = {"http", "https", "mailto", "data", "attachment"}  # narrowed per tag below
# CSS properties a style attribute may set: layout of text and colour, nothing that takes an
# image or a URL (background-image, content, cursor, list-style-image, filter, mask...), and
# nothing that moves a box out of its cell (position, negative margins, float, transform).
STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style",
    "font-weight", "font-variant", "line-height", "letter-spacing", "word-spacing",
    "text-align", "text-decoration", "text-decoration-color", "text-decoration-line",
    "text-decoration-style", "text-indent", "text-transform", "white-space", "word-wrap",
    "overflow-wrap", "word-break", "vertical-align", "padding", "padding-top", "padding-right",
    "padding-bottom", "padding-left", "border", "border-top", "border-right", "border-bottom",
    "border-left", "border-color", "border-style", "border-width", "border-collapse",
    "border-spacing", "border-radius", "width", "height", "max-width", "max-height",
    "min-width", "min-height", "overflow", "overflow-x", "overflow-y", "display",
    "text-overflow", "opacity", "fill", "fill-opacity", "fill-rule", "stroke",
    "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin",
    "stroke-dasharray", "stroke-dashoffset", "stroke-miterlimit", "stop-color",
    "stop-opacity", "font-stretch", "text-anchor", "dominant-baseline", "clip-path",
    "clip-rule", "visibility", "table-layout", "caption-side", "empty-cells"}
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml)[;,]", re.I)
_URL_FUNCTION = re.compile(r"url\s*\(\s*['\"]?\s*([^'\")\s]*)", re.I)
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]*):", re.I)
_SVG_LOCAL_REFS = {"use", "linearGradient", "radialGradient", "pattern"}
_FILES_PREFIX = re.compile(r"^\s*(/?files/)+")


def _attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's per-attribute hook: the narrower rules an allow-list of names cannot say."""
    # url(...) anywhere (style, fill, clip-path, mask) may only point inside the document.
    if any(not target.startswith("#") for target in _URL_FUNCTION.findall(value)):
        return None
    if attribute == "style" and "\\" in value:  # CSS escapes could spell what the rules forbid
        return None
    if tag == "input":  # task-list checkboxes only: no image buttons, no text fields
        return value if attribute != "type" or value.lower() == "checkbox" else None
    if attribute not in ("href", "src"):
        return value
    # nbconvert's strip_files_prefix (run on markdown by the formgrader and feedback templates)
    # turns "files/javascript:..." into "javascript:...": judge the URL it will become.
    scheme = _SCHEME.match(_FILES_PREFIX.sub("", value))
    scheme = scheme.group(1).lower() if scheme else ""
    if scheme not in ("", *URL_SCHEMES):
        return None
    if tag in _SVG_LOCAL_REFS:
        return value if value.startswith("#") else None
    if tag == "image":  # SVG raster images: embedded data only, nothing fetched
        return value if _IMAGE_DATA.match(value) else None
    if tag == "img":
        return value if scheme != "data" or _IMAGE_DATA.match(value) else None
    return value if scheme not in ("data", "attachment") else None  # links


def clean_fragment(html: str) -> str:
    """An HTML fragment with every active part removed (the allow-list above)."""
    return nh3.clean(html, tags=TAGS, clean_content_tags=CONTENT_TAGS, attributes=ATTRIBUTES,
                     attribute_filter=_attribute, url_schemes=URL_SCHEMES, link_rel=None,
                     filter_style_properties=STYLE_PROPERTIES, strip_comments=True)


def clean_svg(svg: str) -> str:
    """An SVG document (an ``image/svg+xml`` output or attachment), cleaned and still valid XML.

    The XML prolog and doctype go (HTML parsing reads them as comments); the ``xlink`` prefix
    is declared if a kept ``xlink:href`` needs it, so the image still parses as XML.
    """
    cleaned = clean_fragment(svg).strip()
    if not cleaned.startswith("<svg"):
        return ""
    if "xlink:" in cleaned and "xmlns:xlink=" not in cleaned.split(">", 1)[0]:
        cleaned = '<svg xmlns:xlink="http://www.w3.org/1999/xlink"' + cleaned[len("<svg"):]
    return cleaned


# ---- what was removed ---------------------------------------------------------------------
class _StartTags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer reads them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: Counter = Counter()
        self.stylesheets: list[str] = []  # the text of each <style> element

    def handle_starttag(self, tag, attrs):
        self.tags[(tag, tuple(sorted((k, _norm(k, v)) for k, v in attrs)))] += 1
        if tag == "style":
            self.stylesheets.append("")

    def handle_startendtag(self, tag, attrs):
        self.tags[(tag, tuple(sorted((k, _norm(k, v)) for k, v in attrs)))] += 1

    def handle_data(self, data):
        if self.lasttag == "style" and self.stylesheets:
            self.stylesheets[-1] += data


def _norm(attribute: str, value: str | None) -> str:
    """An attribute value as the sanitizer writes it back (style declarations normalised)."""
    value = value or ""
    if attribute == "style":
        declarations = (d.split(":", 1) for d in value.split(";") if ":" in d)
        return ";".join(sorted(f"{k.strip().lower()}:{' '.join(v.split())}"
                               for k, v in declarations))
    return value


def _parse(html: str) -> _StartTags:
    parser = _StartTags()
    parser.feed(html)
    parser.close()
    return parser


def _loads(css: str) -> bool:
    """CSS that fetches or runs something: url() outside the document, @import, expression()."""
    return (any(not t.startswith("#") for t in _URL_FUNCTION.findall(css))
            or bool(_LOADS_CSS.search(css)))


# Elements that run, embed, submit or redirect: their removal is reported. Other elements the
# allow-list lacks (a plot's <metadata>, <font>, <marquee>) go silently: they never ran anything.
ACTIVE_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
               "button", "meta", "base", "link", "foreignobject", "animate", "set",
               "animatemotion", "animatetransform", "portal", "handler", "listener"}
URL_ATTRIBUTE_NAMES = {"href", "src", "xlink:href", "action", "formaction", "data", "srcset",
                       "poster", "background", "ping", "codebase", "dynsrc", "lowsrc"}
_LOADS_CSS = re.compile(r"@import|expression\s*\(|image-set\s*\(|\\", re.I)


def _active_attribute(name: str, value: str) -> bool:
    return name.startswith("on") or name in URL_ATTRIBUTE_NAMES or _loads(value)


def differs(before: str, after: str) -> bool:
    """Whether the sanitizer took any element or attribute (or changed one) from ``before``."""
    return bool(_parse(before).tags - _parse(after).tags)


def removed(before: str, after: str) -> list[str]:
    """The active content the sanitizer took out of ``before``: ``<script>``, ``<img onerror>``,
    ``<a href>``, ``<style>`` that loads something..., in order, each named once.

    Compared as a browser's tokenizer reads both; what parsing only adds (an implied
    ``<tbody>``) and inert things the allow-list lacks do not count.
    """
    kept = _parse(after).tags
    original = _parse(before)
    out = []
    for (tag, attrs), n in original.tags.items():
        if n <= kept.get((tag, attrs), 0):
            continue
        if tag in ACTIVE_TAGS:
            if f"<{tag}>" not in out:
                out.append(f"<{tag}>")
            continue
        if tag == "style":
            if any(map(_loads, original.stylesheets)) and "<style>" not in out:
                out.append("<style>")  # CSS that loads something
            continue
        have = {a for t, attributes in kept for a in attributes if t == tag}
        for name, value in attrs:
            what = f"<{tag} {name}>"
            if (name, value) not in have and _active_attribute(name, value) and what not in out:
                out.append(what)
    return out
