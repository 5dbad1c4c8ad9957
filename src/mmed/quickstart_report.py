"""report.html of `mmed quickstart`: lineage, perplexity before/after CPT, accuracy before/after SFT. Self-contained
HTML (no scripts, no external assets), every value escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from mmed.eval.report_format import language_order

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}code{font-size:.85em}
.warn{background:#fff4d6;padding:.8rem;border:1px solid #e5c36b}
"""


def _num(x: Any, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _table(head: list[str], rows: list[list[str]], left: int = 1) -> str:
    th = "".join(f'<th class="l">{escape(h)}</th>' if i < left else f"<th>{escape(h)}</th>" for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="l">{c}</td>' if i < left else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def render(s: dict[str, Any]) -> str:
    ppl = s["cpt"].get("perplexity") or {}
    before, after = ppl.get("before") or {}, ppl.get("after") or {}
    ppl_rows = []
    for group in ("medical", "general"):
        b, a = before.get(group), after.get(group)
        change = None if b in (None, 0) or a is None else (a - b) / b
        ppl_rows.append([group, _num(b), _num(a), "–" if change is None else f"{100 * change:+.1f}%"])
    acc = s["accuracy"]
    langs = language_order({lang for m in acc.values() for lang in m["by_lang"]})
    acc_rows = [[escape(lang), *[_pct(acc[m]["by_lang"].get(lang)) for m in ("base", "cpt", "sft")]] for lang in langs]
    acc_rows.append(["<b>all</b> (n=" + escape(str(acc["base"]["n"])) + ")",
                     *[f"<b>{_pct(acc[m]['overall'])}</b>" for m in ("base", "cpt", "sft")]])
    lineage = [[escape(a["name"]), f"<code>{escape(a['sha256'][:16])}</code>", escape(a["note"]),
                f"<code>{escape(a['path'])}</code>"] for a in s["lineage"]]
    train_rows = []
    for name in ("cpt", "sft"):
        t = s[name]
        tps = (t.get("throughput") or {}).get("tokens_per_s")
        train_rows.append([name.upper(), escape(str(t.get("global_step"))), _num(t.get("train_loss"), 4),
                           _num(tps, 1), _num(t.get("runtime_s"), 1)])
    stages = [[escape(st["name"]), "skipped (complete)" if st["skipped"] else _num(st["seconds"], 1)]
              for st in s["stages"]]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>mmed quickstart</title>
<style>{_CSS}</style></head><body>
<h1>mmed quickstart</h1>
<p class="warn"><b>Tiny demo runs.</b> A 135M-parameter model, {escape(str(s['cpt'].get('global_step')))} steps of
continued pretraining on ~60 medical web documents written for the demo, a LoRA fine-tune on a few dozen
questions, evaluated on 6 questions per language. The numbers show that every stage runs and is wired to the next;
they say nothing about medical skill. Output folder: <code>{escape(s['out'])}</code>.</p>
<h2>Perplexity on held-out text, before and after continued pretraining</h2>
<p>Medical: one kept document per language, held out of the CPT corpus; general: two documents per language the corpus
filter rejected as not medical. Continued pretraining on medical text should lower the first more.</p>
{_table(["held-out text", "before CPT", "after CPT", "change"], ppl_rows)}
<h2>Accuracy on the held-out test split (letter mode, mmedlm prompt)</h2>
{_table(["language", "base model", "after CPT", "after CPT + SFT"], acc_rows)}
<h2>Training</h2>
{_table(["run", "steps", "final train loss", "tokens/s", "seconds"], train_rows)}
<h2>Lineage</h2>
<p>Every artifact, in the order it was made, with its sha256 (files; folders: over their files; models:
mmed.models.fingerprint_hf). <code>quickstart.json</code> has the full hashes.</p>
{_table(["artifact", "sha256", "made by", "path"], lineage)}
<h2>Stages</h2>
{_table(["stage", "seconds"], stages)}
</body></html>
"""
