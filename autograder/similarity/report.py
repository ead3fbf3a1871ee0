"""The similarity report: a self-contained HTML page (no scripts, fonts or styles fetched from
anywhere) with the matching regions side by side, and a CSV of every pair's scores.

Student code and names are untrusted: every one is escaped, and the page's
Content-Security-Policy lets no script run and nothing load, should one slip through."""

import csv
import html
from datetime import datetime, timezone

from copydetect.utils import highlight_overlap

from .compare import Pair

CAVEAT = ("Similarity is a reason to look, not a verdict. Short exercises have few ways to be "
          "written, students may legitimately work together or use the same source, and a "
          "determined copier can evade any tool. Read both notebooks, and talk to the "
          "students, before concluding anything.")

CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'")
_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
.caveat{border:2px solid #b85;background:#fff6e8;padding:.8em 1em;max-width:60em}
table.scores{border-collapse:collapse}table.scores td,table.scores th{padding:.2em .8em;
border-bottom:1px solid #ddd;text-align:left}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em;white-space:pre-wrap}
mark{background:#ffd6d6}h2{margin-top:2em}
"""


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def write_csv(pairs: list[Pair], path: str) -> str:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student_a", "student_b", "similarity", "share_of_a_in_b",
                    "share_of_b_in_a", "matched_characters"])
        for p in pairs:
            w.writerow([p.a, p.b, f"{p.score:.3f}", f"{p.score_a:.3f}", f"{p.score_b:.3f}",
                        p.tokens])
    return path


def _highlighted(code: str, slices) -> str:
    if slices.size == 0:
        return html.escape(code)
    marked, _ = highlight_overlap(code, slices, "<mark>", "</mark>", escape_html=True)
    return marked


def write_html(assignment: str, pairs: list[Pair], codes: dict[str, str], path: str,
               show: float = 0.3, top: int = 50, no_code: list[str] = (),
               unread: dict[str, str] | None = None) -> str:
    """Pairs scoring at least ``show`` (at most ``top``) shown side by side, after the table."""
    shown = [p for p in pairs if p.score >= show][:top]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"<!doctype html><html><head><meta charset='utf-8'>"
           f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
           f"<title>Similarity: {html.escape(assignment)}</title><style>{_STYLE}</style>"
           f"</head><body><h1>Similarity of answers: {html.escape(assignment)}</h1>",
           f"<p class='caveat'><strong>{html.escape(CAVEAT)}</strong></p>",
           f"<p>{len(codes)} submissions compared on the code students wrote (answer cells "
           "and cells they added; the release's code and code common to most of the class "
           "are ignored), on this machine: no code was sent anywhere. Generated "
           f"{when}.</p>"]
    if no_code:
        out.append(f"<p>No code of their own (not compared): {html.escape(', '.join(no_code))}"
                   "</p>")
    for student, why in sorted((unread or {}).items()):
        out.append(f"<p>Not read: {html.escape(student)}: {html.escape(why)}</p>")
    out.append("<h2>Most similar pairs</h2><table class='scores'><tr><th>#</th><th>student A"
               "</th><th>student B</th><th>similarity</th><th>of A found in B</th>"
               "<th>of B found in A</th></tr>")
    for i, p in enumerate(pairs[:top], 1):
        name = f"<a href='#pair{i}'>{i}</a>" if p in shown else str(i)
        out.append(f"<tr><td>{name}</td><td>{html.escape(p.a)}</td><td>{html.escape(p.b)}</td>"
                   f"<td>{_pct(p.score)}</td><td>{_pct(p.score_a)}</td>"
                   f"<td>{_pct(p.score_b)}</td></tr>")
    out.append("</table>")
    if not pairs:
        out.append("<p>No pair shares any code beyond the release and what most of the class "
                   "wrote.</p>")
    for i, p in enumerate(pairs[:top], 1):
        if p not in shown:
            continue
        out.append(f"<h2 id='pair{i}'>{i}. {html.escape(p.a)} and {html.escape(p.b)}: "
                   f"{_pct(p.score)}</h2><p>Marked: code found in both (names, strings and "
                   "comments may differ).</p><div class='pair'>")
        for student, share, slices in ((p.a, p.score_a, p.slices_a),
                                        (p.b, p.score_b, p.slices_b)):
            out.append(f"<div><h3>{html.escape(student)} ({_pct(share)} found in the other)"
                       f"</h3><pre>{_highlighted(codes[student], slices)}</pre></div>")
        out.append("</div>")
    out.append("</body></html>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    return path
