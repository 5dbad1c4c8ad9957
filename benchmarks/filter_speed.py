"""Speed of the medical keyword scorer against the released MMedLM algorithm's keyword-by-keyword scanning.

One run builds ~50 MB of mixed-language text (12 languages, 2-4 KB documents, half drawn from medical and half
from general sentences) and measures, single-threaded, per language:
- scorer:   mmed.corpus.medical.MedicalScorer (case-fold, one multi-literal scan, boundary checks on hits);
- baseline: mmed.corpus.compat.released_scan, the release's strategy over the same entries: one pass over the
            text per keyword (str.count for long keywords, list.count over the whitespace tokens for short
            ones; for zh/ja, whose keywords never match as tokens, str.count for every keyword, the CJK branch
            the release intended). It runs on a subsample (--baseline-mb per language; sizes reported).
MB = 10^6 bytes of UTF-8 text; times are CPU seconds of the process (per core). `route` is the scorer's scan
encoding (a code page or UTF-8, see matcher.py); `medical_share` uses the shipped thresholds. Prints one JSON
object per language, then a last line with `speedup_min` (the smallest per-language scorer/baseline ratio) and
`scorer_mb_s_min` (the slowest language's scorer MB/s).

Texts: sentences of ../shared/data/filter-dev/<lang>.jsonl (read in place; $MMED_SHARED overrides), else
sentences generated from the small built-in word lists below, with stand-in keywords mixed in at 4% of the
words in medical documents and 0.5% in general ones. Keywords: the shipped list of each language; a language
without one uses the built-in stand-in list (STAND_IN, 16-20 common medical terms; `keywords` says which).
End to end (`pipeline_mb_s`): the first --e2e-mb of the same documents (languages interleaved), written as one
jsonl file, go through the build's first stage in this process, one task: RawReader -> LanguageFilter (fastText
lid.176) -> MedicalFilter -> kept/rejected jsonl.gz writers. CPU seconds of the process, so per core.
Usage: python benchmarks/filter_speed.py [--mb 50] [--baseline-mb 1.0] [--repeats 3] [--seed 0] [--e2e-mb 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path

from mmed.corpus.compat import released_scan
from mmed.corpus.keywords import load_keywords, parse_keywords, shipped_languages
from mmed.corpus.medical import MedicalScorer, load_thresholds

LANGS = ("en", "zh", "ja", "fr", "ru", "es", "de", "pt", "ar", "ko", "hi", "it")
SHARED = Path(os.environ.get("MMED_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
_SENTENCE_END = re.compile(r"(?<=[.!?。！？।؟\n])\s*")

# Stand-in keyword lists for languages without a shipped list (prefix entries where the language inflects).
STAND_IN = {
    "en": "diabet* hypertension cancer* tumor* patients diagnos* therap* infection* pneumonia fever cardiac "
          "clinical symptom* chronic insulin antibiotic*",
    "zh": "糖尿病 高血压 患者 诊断 治疗 肿瘤 感染 肺炎 发热 临床 症状 慢性 胰岛素 抗生素 手术 药物",
    "ja": "糖尿病 高血圧 患者 診断 治療 腫瘍 感染 肺炎 発熱 臨床 症状 慢性 インスリン 抗生物質 手術 薬剤",
    "fr": "diabèt* hypertension cancer* tumeur* patients diagnos* traitement* infection* pneumonie fièvre "
          "cardiaque clinique symptôme* chronique insuline antibiotique*",
    "ru": "диабет* гипертензи* рак* опухол* пациент* диагноз* лечени* инфекци* пневмони* лихорадк* "
          "кардиологи* клиническ* симптом* хроническ* инсулин* антибиотик*",
    "es": "diabet* hipertensión cáncer* tumor* pacientes diagnóstic* tratamiento* infección* neumonía fiebre "
          "cardíac* clínic* síntoma* crónic* insulina antibiótico*",
    "de": "diabet* bluthochdruck krebs* tumor* patient* diagnos* therapie* infektion* lungenentzündung fieber "
          "kardiolog* klinisch* symptom* chronisch* insulin* antibiotik*",
    "pt": "diabet* hipertensão câncer* tumor* pacientes diagnóstic* tratamento* infecção* pneumonia febre "
          "cardíac* clínic* sintoma* crônic* insulina antibiótico*",
    "ar": "السكري سكري ضغط الدم السرطان سرطان ورم المرضى تشخيص* علاج* عدوى الالتهاب الرئوي حمى أعراض مزمن* "
          "الأنسولين مضاد*",
    "ko": "당뇨병* 고혈압* 암* 종양* 환자* 진단* 치료* 감염* 폐렴* 발열* 임상* 증상* 만성* 인슐린* 항생제* 수술*",
    "hi": "मधुमेह* उच्च रक्तचाप कैंसर* ट्यूमर* मरीज* रोगी* निदान* उपचार* संक्रमण* निमोनिया बुखार* लक्षण* "
          "दीर्घकालिक इंसुलिन* एंटीबायोटिक*",
    "it": "diabet* ipertensione cancro* tumor* pazienti diagnos* terapia* infezione* polmonite febbre cardiac* "
          "clinic* sintom* cronic* insulina antibiotic*",
}
# Multi-word stand-ins are written with "_" above where needed; spaces separate entries.
STAND_IN["ar"] = STAND_IN["ar"].replace("ضغط الدم", "ضغط_الدم").replace("الالتهاب الرئوي", "الالتهاب_الرئوي")
STAND_IN["hi"] = STAND_IN["hi"].replace("उच्च रक्तचाप", "उच्च_रक्तचाप")

# General words for the built-in text generator (used only without filter-dev data).
WORDS = {
    "en": "the of and to in is was for on that with as by at from this have new year city game team market "
          "music people time school film report season price water",
    "zh": "我们 今天 城市 市场 比赛 公司 学校 音乐 电影 时间 价格 天气 发展 经济 文化 旅游 新闻 工作 朋友 家庭",
    "ja": "今日 私たち 市場 試合 会社 学校 音楽 映画 時間 価格 天気 経済 文化 旅行 ニュース 仕事 友達 家族 です ます",
    "fr": "le la les de et à un une pour dans sur avec ville marché équipe musique année prix école temps",
    "ru": "и в на с по для это год город рынок команда музыка время школа цена погода люди работа новости",
    "es": "el la los de y en un una para con por ciudad mercado equipo música año precio escuela tiempo",
    "de": "der die das und in zu mit für auf ist ein eine stadt markt mannschaft musik jahr preis schule zeit",
    "pt": "o a os de e em um uma para com por cidade mercado equipe música ano preço escola tempo",
    "ar": "في من على إلى عن مع هذا العام المدينة السوق الفريق الموسيقى الوقت المدرسة السعر الناس العمل",
    "ko": "오늘 우리 시장 경기 회사 학교 음악 영화 시간 가격 날씨 경제 문화 여행 뉴스 일 친구 가족",
    "hi": "और का की के में है यह साल शहर बाजार टीम संगीत समय स्कूल कीमत लोग काम खबर",
    "it": "il la i di e in un una per con su città mercato squadra musica anno prezzo scuola tempo",
}


def keyword_list(lang: str):
    """The shipped list, or the stand-in one; returns (KeywordList, "shipped" | "stand-in")."""
    if lang in shipped_languages():
        return load_keywords(lang), "shipped"
    entries = "\n".join(w.replace("_", " ") for w in STAND_IN[lang].split())
    return parse_keywords(lang, entries.encode(), f"stand-in:{lang}"), "stand-in"


def sentence_pools(lang: str, kl, rng: random.Random) -> tuple[list[str], list[str], str]:
    """(medical sentences, general sentences, source) for one language."""
    path = SHARED / "data" / "filter-dev" / f"{lang}.jsonl"
    if path.is_file():
        pools: dict[bool, list[str]] = {True: [], False: []}
        with path.open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                pools[rec["label"] == "medical"].extend(
                    s for s in _SENTENCE_END.split(rec["text"]) if len(s.strip()) >= 5)
        return pools[True], pools[False], "filter-dev"
    words = WORDS[lang].split()
    terms = [e.text for e in kl.entries]
    sep = "" if lang in ("zh", "ja") else " "
    end = {"zh": "。", "ja": "。", "hi": "।"}.get(lang, ".")

    def sentences(rate: float) -> list[str]:
        return [sep.join(rng.choice(terms) if rng.random() < rate else rng.choice(words)
                         for _ in range(rng.randint(8, 20))) + end for _ in range(2000)]

    return sentences(0.04), sentences(0.005), "built-in"


def build_documents(lang: str, kl, target_bytes: int, rng: random.Random) -> tuple[list[str], str]:
    medical, general, source = sentence_pools(lang, kl, rng)
    joiner = "" if lang in ("zh", "ja") else " "
    docs: list[str] = []
    total = 0
    while total < target_bytes:
        pool = medical if rng.random() < 0.5 else general
        size = rng.randint(2000, 4000)
        parts: list[str] = []
        n = 0
        while n < size:
            s = rng.choice(pool)
            parts.append(s)
            n += len(s.encode("utf-8")) + len(joiner)
        doc = joiner.join(parts)
        docs.append(doc)
        total += len(doc.encode("utf-8"))
    return docs, source


def best_time(fn, repeats: int) -> float:
    """The shortest of `repeats` runs, in CPU seconds of this process (per core; other processes on the
    machine do not count, which keeps numbers comparable on a shared machine)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def pipeline_mb_s(docs: list[str], engine: str = "fasttext") -> dict:
    """Read -> language ID -> keyword filter -> write, one task in this process; MB/s per core and counts."""
    import tempfile

    from datatrove.executor import LocalPipelineExecutor

    from mmed.corpus.lid import LanguageFilter
    from mmed.corpus.readers import RawReader
    from mmed.corpus.steps import MedicalFilter
    from mmed.corpus.writers import KeptWriter, RejectWriter

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        with open(raw / "part-0.jsonl", "w", encoding="utf-8") as f:
            for i, d in enumerate(docs):
                f.write(json.dumps({"id": str(i), "text": d}, ensure_ascii=False) + "\n")
        nbytes = (raw / "part-0.jsonl").stat().st_size
        counts = str(Path(tmp) / "counts")

        def rejects(name: str):
            return RejectWriter(str(Path(tmp) / "rejected"), counts, name)

        pipeline = [RawReader(str(raw), exclusion_writer=rejects("read")),
                    LanguageFilter(engine=engine, exclusion_writer=rejects("language")),
                    MedicalFilter(exclusion_writer=rejects("medical")),
                    KeptWriter(str(Path(tmp) / "kept"), counts)]
        LanguageFilter(engine=engine).lid.detect("warm up the model")  # loading it is not per-document work
        start = time.process_time()
        LocalPipelineExecutor(pipeline, tasks=1, workers=1, logging_dir=str(Path(tmp) / "logs")).run()
        seconds = time.process_time() - start
        from mmed.corpus.stats import aggregate, totals

        tot = totals(aggregate(Path(counts)))
    return {"pipeline_mb": round(nbytes / 1e6, 2), "pipeline_docs": tot["in"]["docs"],
            "pipeline_kept": tot["kept"]["docs"], "pipeline_lid": engine,
            "pipeline_mb_s": round(nbytes / seconds / 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=50.0, help="total text, all languages together")
    parser.add_argument("--baseline-mb", type=float, default=1.0, help="baseline subsample per language")
    parser.add_argument("--repeats", type=int, default=3, help="scorer passes per language; the best counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--e2e-mb", type=float, default=10.0, help="text sent through the pipeline's first stage")
    args = parser.parse_args()

    started = time.perf_counter()
    per_lang_bytes = int(args.mb * 1e6 / len(LANGS))
    results = []
    pools: list[list[str]] = []
    engine = None
    thresholds = load_thresholds()
    for lang in LANGS:
        rng = random.Random(f"{lang}-{args.seed}")
        kl, list_source = keyword_list(lang)
        docs, text_source = build_documents(lang, kl, per_lang_bytes, rng)
        pools.append(docs)
        nbytes = sum(len(d.encode("utf-8")) for d in docs)
        t = thresholds.get(lang)
        scorer = MedicalScorer(lang, kl, t.mkc if t else 2, t.dens if t else 0.01)
        engine = scorer.matcher.engine
        scorer.score("warm up")  # compiles the matcher outside the timing
        medical = sum(s.is_medical for s in scorer.score_many(docs))
        t_scorer = best_time(lambda s=scorer, d=docs: s.score_many(d), args.repeats)

        sub: list[str] = []
        sub_bytes = 0
        for d in docs:
            if sub_bytes >= args.baseline_mb * 1e6:
                break
            sub.append(d)
            sub_bytes += len(d.encode("utf-8"))
        entries = [e.text for e in kl.entries]
        cjk = not kl.word_boundaries
        t_base = best_time(lambda s=sub, e=entries, c=cjk: [released_scan(d, e, substring_only=c) for d in s], 1)

        scorer_mb_s = nbytes / t_scorer / 1e6
        base_mb_s = sub_bytes / t_base / 1e6
        row = {"lang": lang, "keywords": len(kl), "keywords_source": list_source, "text_source": text_source,
               "route": scorer.matcher.code_page or "utf-8",
               "docs": len(docs), "mb": round(nbytes / 1e6, 2), "medical_share": round(medical / len(docs), 3),
               "scorer_mb_s": round(scorer_mb_s, 1),
               "baseline_docs": len(sub), "baseline_mb": round(sub_bytes / 1e6, 2),
               "baseline_mb_s": round(base_mb_s, 2), "baseline_mode": "substring" if cjk else "released",
               "speedup": round(scorer_mb_s / base_mb_s, 1)}
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)

    slowest = min(results, key=lambda r: r["scorer_mb_s"])
    mixed = [d for group in zip(*pools, strict=False) for d in group]  # languages interleaved
    e2e: list[str] = []
    size = 0
    for d in mixed:
        if size >= args.e2e_mb * 1e6:
            break
        e2e.append(d)
        size += len(d.encode("utf-8"))
    pipeline = pipeline_mb_s(e2e)
    print(json.dumps({
        "summary": True, "engine": engine, "threads": 1,
        "total_mb": round(sum(r["mb"] for r in results), 1),
        "speedup_min": min(r["speedup"] for r in results),
        "scorer_mb_s_min": slowest["scorer_mb_s"], "slowest_lang": slowest["lang"],
        **pipeline,
        "seconds": round(time.perf_counter() - started, 1),
    }))


if __name__ == "__main__":
    main()
