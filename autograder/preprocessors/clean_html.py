"""A student's notebook is untrusted HTML: active content leaves it before anyone's browser sees it.

Feedback pages, nbgrader's formgrader (on the instructor's Jupyter server) and JupyterLab render a
graded notebook's markdown cells and outputs as HTML. This step removes what could run or load
anything there: ``<script>``, event handlers, ``javascript:`` and ``data:text/html`` URLs,
``<iframe>``/``<object>``/``<embed>``/``<form>``/``<meta>``/``<base>``/``<style>``, SVG with
script, ``foreignObject`` or external references, CSS that loads anything, and
``application/javascript``, widget and unknown outputs. The sanitizer is nh3 (Rust's ammonia,
an HTML5 parser with an allow-list), never regular expressions. What a student legitimately
shows stays: Markdown, tables, MathML and LaTeX, PNG/JPEG/GIF and (cleaned) SVG plots, text.

Markdown is rendered with nbconvert's own renderer (the one nbgrader's formgrader uses), and only
a cell whose rendered HTML loses something to the sanitizer changes: it becomes the cleaned HTML,
so ordinary cells stay byte for byte. Error messages and stream text are kept: every renderer
(nbconvert, JupyterLab) escapes them. What was removed goes to ``findings.html_removed``.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from html.parser import HTMLParser

import jinja2
import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_locked, is_solution

# ---- the allow-list ------------------------------------------------------------------------
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
    "separator", "separators", "open", "close", "lspace", "rspace", "minsize", "maxsize",
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


def _differs(before: str, after: str) -> bool:
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


# ---- markdown -----------------------------------------------------------------------------
class _AnyAttachment(dict):
    """A cell's attachments where a missing one is empty, not an error (nbconvert raises on a
    missing attachment, which would stop the whole page from rendering)."""

    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        return super().get(name) or {"text/plain": ""}


class _KeepAttachmentLinks(IPythonRenderer):
    """nbconvert's renderer, leaving ``attachment:`` links as they are (not inlined as data)
    and noting the names they refer to in ``asked``."""

    def __init__(self, asked: set[str]):
        super().__init__(escape=False)
        self.asked = asked

    def _embed_image_or_attachment(self, src: str) -> str:
        if src.startswith("attachment:"):
            self.asked.add(src[len("attachment:"):])
            return src
        return super()._embed_image_or_attachment(src)


def render_markdown(source: str, asked: set[str] | None = None) -> str:
    """``source`` as nbconvert (and so nbgrader's formgrader) renders it, raw HTML included;
    the attachment names it refers to are added to ``asked``."""
    renderer = _KeepAttachmentLinks(asked if asked is not None else set())
    return MarkdownWithMath(renderer=renderer).render(source)


def _as_html_block(html: str) -> str:
    """Cleaned HTML as markdown that renders to exactly that HTML: one HTML block, which
    CommonMark passes through untouched up to the first blank line, so there is none."""
    lines = [line if line.strip() else "&#32;" for line in html.strip().split("\n")]
    return "<div class=\"rnn-grade-cleaned\">\n" + "\n".join(lines) + "\n</div>"


def clean_markdown(source: str) -> tuple[str, list[str]]:
    """(the markdown, the active content removed from it).

    The markdown is ``source`` itself when the sanitizer takes nothing from its rendering; when
    it takes anything, even something inert (a ``<style>``, a ``position: fixed`` that could
    cover the grader's page), the cleaned rendering replaces it, and only active content counts
    as removed.
    """
    rendered = render_markdown(source)
    cleaned = clean_fragment(rendered)
    if not _differs(rendered, cleaned):
        return source, []
    gone = removed(rendered, cleaned)
    safe = _as_html_block(cleaned)
    if removed(render_markdown(safe), clean_fragment(render_markdown(safe))):
        fence = "~" * max(3, *(len(m) + 1 for m in re.findall(r"~+", source)))
        safe = f"{fence}\n{source}\n{fence}"  # shown as text, never as HTML
    return safe, gone


def clean_attachments(cell) -> list[str]:
    """Keeps raster images and cleaned SVG in ``cell.attachments``; names a markdown image
    refers to but that is missing get an empty placeholder, so renderers do not fail."""
    gone = []
    attachments = cell.get("attachments") or {}
    for name, bundle in list(attachments.items()):
        kept = {}
        for mime, data in (bundle or {}).items():
            if mime in RASTER:
                kept[mime] = data
            elif mime == "image/svg+xml":
                svg = _b64decode(data)
                safe = clean_svg(svg)
                if removed(svg, safe):
                    gone.append(f"<svg> of attachment {name}")
                kept[mime] = base64.b64encode(safe.encode()).decode()
            else:
                gone.append(f"{mime} attachment {name}")
        attachments[name] = kept or {"text/plain": ""}
    if cell.cell_type == "markdown":
        asked: set[str] = set()
        render_markdown(cell.source, asked)
        for name in asked - set(attachments):
            attachments[name] = {"text/plain": ""}
    if attachments:
        cell.attachments = attachments
    return gone


def _b64decode(data) -> str:
    text = "".join(data) if isinstance(data, list) else str(data)
    try:
        return base64.b64decode("".join(text.split()), validate=True).decode("utf-8", "replace")
    except ValueError:
        return text  # already plain text (some writers store SVG unencoded)


# ---- outputs ------------------------------------------------------------------------------
RASTER = {"image/png", "image/jpeg", "image/gif"}
# Shown as text or as an inert image by every renderer: kept as they are.
INERT = RASTER | {"text/plain", "text/latex", "application/json"}
CLEANED = {"text/html", "image/svg+xml", "text/markdown"}  # the rest goes
# Widgets only draw through a widget manager (script) and the notebook's widget state, which
# both go; they are removed without a flag, as ordinary code (tqdm.auto) makes them.
WIDGET = "application/vnd.jupyter.widget"


# nbconvert writes an image's width and height into the <img> tag unquoted (escaped, but a space
# still starts a new attribute): only a plain size may stay.
_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(px|%|em)?\s*")


def _clean_metadata(output) -> list[str]:
    metadata = output.get("metadata")
    if not isinstance(metadata, dict):
        return []
    gone = []
    for scope in [metadata, *(v for v in metadata.values() if isinstance(v, dict))]:
        for key in ("width", "height"):
            value = scope.get(key)
            if value is not None and not (isinstance(value, (int, float))
                                          and not isinstance(value, bool)
                                          or isinstance(value, str) and _SIZE.fullmatch(value)):
                del scope[key]
                gone.append(f"image {key} metadata")
    return gone


def clean_output(output) -> list[str]:
    """Cleans one output's data and metadata in place; returns what was removed."""
    data = output.get("data")
    if not isinstance(data, dict):
        return []  # stream and error outputs: text, escaped by every renderer
    gone = _clean_metadata(output)
    for mime in list(data):
        value = data[mime]
        lines = isinstance(value, list) and all(isinstance(v, str) for v in value)
        text = "".join(value) if lines else value
        if mime in INERT:
            continue
        if mime in CLEANED and not isinstance(text, str):  # no renderer expects it
            del data[mime]
            gone.append(f"{mime} output")
        elif mime == "text/html":
            data[mime] = clean_fragment(text)
            gone += removed(text, data[mime])
        elif mime == "image/svg+xml":
            data[mime] = clean_svg(text)
            gone += [f"{w} in SVG" for w in removed(text, data[mime])]
        elif mime == "text/markdown":
            data[mime], what = clean_markdown(text)
            gone += what
        else:  # application/javascript, widgets, PDF, anything a renderer might run
            del data[mime]
            output.get("metadata", {}).pop(mime, None)
            if not mime.startswith(WIDGET):  # a progress bar (tqdm.auto) is not an attack
                gone.append(f"{mime} output")
    if not data:
        data["text/plain"] = "[output removed by the grader: it could run in a browser]"
    return gone


def _clean_execution_counts(cell) -> list[str]:
    """nbconvert writes ``In [n]`` and ``Out[n]`` unescaped. nbclient sets n itself or validates
    what the kernel (the student's process) reports, but nothing after it checks: anything but a
    number is dropped here."""
    gone = []
    for holder in [cell, *cell.get("outputs", [])]:
        count = holder.get("execution_count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            holder["execution_count"] = None
            gone.append("a forged execution count")
    return gone


def _label(cell, index: int) -> str:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return gid or f"added {cell.cell_type} cell {index}"


class CleanUntrustedHTML(NbGraderPreprocessor):
    """Removes active content from what the student wrote and what their code displayed.

    Read-only markdown cells are the release's own and stay. Adds ``cell -> [what]`` to
    ``resources["findings"].html_removed`` when the findings are there (grading); at feedback
    time it simply cleans again.
    """

    def preprocess(self, nb, resources):
        report: dict[str, list[str]] = {}
        for index, cell in enumerate(nb.cells):
            gone = []
            if cell.cell_type in ("markdown", "raw") and (is_solution(cell)
                                                          or not is_locked(cell)):
                gone += clean_attachments(cell)
                if cell.cell_type == "markdown":
                    cell.source, what = clean_markdown(cell.source)
                else:  # raw cells render as HTML when marked so; cleaned either way
                    what = removed(cell.source, clean_fragment(cell.source))
                    if what:
                        cell.source = clean_fragment(cell.source)
                gone += what
            for output in cell.get("outputs", []):
                gone += clean_output(output)
            gone += _clean_execution_counts(cell)
            if gone:
                report[_label(cell, index)] = list(dict.fromkeys(gone))
        nb.metadata.pop("widgets", None)  # widget state: rendered by widget managers (script)
        findings = resources.get("findings")
        if findings is not None and report:
            findings.html_removed.update(report)
        return nb, resources


# ---- page-level filters (the feedback page renders through the sanitizer as well) -----------
def clean_html_filter(html) -> str:
    """Jinja filter replacing nbconvert's ``clean_html`` (bleach with a list that drops MathML,
    headings and images) by this module's allow-list."""
    return clean_fragment(html.decode() if isinstance(html, bytes) else str(html))


@jinja2.pass_context
def markdown2html_clean(context, source: str) -> str:
    """Jinja filter: nbconvert's markdown rendering of a cell (attachments inlined), cleaned."""
    cell = context.get("cell", {})
    attachments = _AnyAttachment(cell.get("attachments", {}))
    renderer = IPythonRenderer(escape=False, attachments=attachments)
    return clean_fragment(MarkdownWithMath(renderer=renderer).render(source))
