"""Exact and near-duplicate removal (mmed.corpus.dedup): units, and the pipeline's six dedup stages on the sample."""

from __future__ import annotations

import gzip
import json
import pickle
import unicodedata
from collections.abc import Iterator
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pytest

from mmed.corpus.dedup import (
    SCRIPT,
    WORDS,
    DedupSettings,
    LanguageAwareMinhashSignature,
    exact_config,
    exact_content,
    shingle_tokens,
    tokenizer_for,
)
from mmed.errors import ConfigError

# Fixtures written for this test. A Japanese and a Korean near-duplicate pair: a new title, one or two words changed.
JA_ORIGINAL = """家庭で血圧を測るときのポイント
高血圧と診断された方は、病院で測る血圧だけでなく、家庭での血圧の記録がとても大切です。診察室では緊張のために血圧が高く出ることがあり、逆に家庭では低めに出ることもあります。毎日同じ条件で測ることで、薬の効果や生活習慣の影響を正しく判断できます。
測定は朝と夜の一日二回が基本です。朝は起床後一時間以内、トイレを済ませてから朝食や服薬の前に測ります。夜は寝る前に、入浴や飲酒の直後を避けて測りましょう。椅子に座って一、二分ほど安静にし、カフを心臓と同じ高さの上腕に巻きます。
測った値は手帳やアプリに記録し、受診のときに医師に見せてください。家庭血圧が続けて百三十五／八十五以上であれば、治療の見直しが必要になることがあります。めまいや強い頭痛、胸の痛みがある場合は、記録を待たずにすぐ医療機関に相談してください。"""
JA_COPY = (JA_ORIGINAL.replace("家庭で血圧を測るときのポイント", "自宅での血圧測定のコツ")
           .replace("とても大切です", "非常に重要です").replace("すぐ医療", "ただちに医療"))
KO_ORIGINAL = "\n".join((
    "당뇨병 환자의 발 관리 방법",
    "당뇨병이 오래되면 발의 신경과 혈관이 손상되어 작은 상처도 잘 느끼지 "
    "못하고 잘 낫지 않을 수 있습니다. 그래서 당뇨병 환자는 매일 자기 발을 "
    "꼼꼼하게 살펴보는 습관을 들이는 것이 중요합니다.",
    "먼저 하루에 한 번 미지근한 물과 순한 비누로 발을 씻고 부드러운 "
    "수건으로 발가락 사이까지 잘 말려야 합니다. 물의 온도는 손이나 온도계로 "
    "먼저 확인하는 것이 좋습니다. 발이 건조하면 보습제를 바르되 발가락 "
    "사이에는 바르지 않습니다.",
    "발톱은 일자로 자르고 너무 짧게 깎지 않도록 주의합니다. 굳은살이나 "
    "티눈을 칼이나 약품으로 직접 제거하지 말고 의료진에게 보여 주세요. "
    "맨발로 걷지 말고 발에 잘 맞는 편한 신발과 면양말을 신는 것이 "
    "좋습니다.",
    "발에 상처, 물집, 색깔 변화, 붓기나 열감이 있거나 통증이 줄지 않으면 "
    "바로 병원을 찾아야 합니다. 혈당을 잘 조절하고 담배를 끊는 것도 발의 "
    "혈액 순환을 지키는 데 큰 도움이 됩니다.",
))
KO_COPY = (KO_ORIGINAL.replace("당뇨병 환자의 발 관리 방법", "당뇨발 예방을 위한 생활 수칙")
           .replace("꼼꼼하게", "자세히"))

# Two different Chinese pages behind the same long boilerplate header: not duplicates.
ZH_HEADER = ("【健康科普】本文由本站医学编辑部整理发布，内容仅供健康科普参考，不能代替执业医师的面诊、诊断和治疗建议。"
             "如您身体不适，请及时前往正规医院就诊。转载请注明出处，未经授权禁止用于任何商业用途。"
             "欢迎关注本站公众号，每天为您推送实用的健康知识。\n")
ZH_FLU = ZH_HEADER + (
    "流感疫苗每年都需要接种吗？流感病毒容易发生变异，每年流行的毒株可能不同，而且接种疫苗后产生的保护性抗体会随着"
    "时间逐渐下降，因此建议每年在流感季节到来之前接种一次。六个月以上的儿童、六十岁以上的老人、孕妇、慢性病患者以及"
    "医务人员都是优先接种的人群。接种后少数人可能出现注射部位红肿、疼痛，或者低热、乏力等轻微反应，一般一到两天内"
    "自行消失。对疫苗成分严重过敏的人不宜接种。正在发热或处于急性疾病期的人，应在病情好转后再接种。接种疫苗并不能"
    "百分之百预防流感，平时仍要注意勤洗手、保持室内通风，出现高热、咳嗽等症状时及时就医。")
ZH_FEVER = ZH_HEADER + (
    "孩子发烧了怎么办？发热是身体对抗感染的一种反应，本身并不一定是坏事。家长首先要给孩子测量体温，腋下体温超过"
    "三十七点三摄氏度就算发热。如果孩子精神状态好、能吃能玩，可以先让孩子多喝水、适当减少衣物，帮助身体散热。体温"
    "超过三十八点五摄氏度并且孩子明显不舒服时，可以在医生或药师指导下使用退热药，注意按照体重计算剂量，不要两种退热药"
    "同时服用。不建议用酒精擦身或者捂汗。三个月以下的婴儿一旦发热，或者孩子出现抽搐、精神差、持续高热超过三天、"
    "呼吸困难、皮疹等情况，应立即带孩子去医院就诊。")

# An exact duplicate: the same text up to letter case and whitespace.
EXACT_ORIGINAL = ("Washing hands the right way\nWet your hands with clean running water, apply soap and rub all "
                  "surfaces, including the backs of the hands, between the fingers and under the nails, for at least "
                  "twenty seconds. Rinse well and dry with a clean towel or let them air-dry. Wash before eating, "
                  "after using the toilet, after caring for someone who is ill and after blowing your nose.")
EXACT_COPY = ("  WASHING HANDS THE RIGHT WAY\r\n\n" + EXACT_ORIGINAL.split("\n", 1)[1]
              .replace("Rinse well", "RINSE  well").replace(", for at least", ",\tfor at\n least") + " \n")

FIXTURES: dict[str, tuple[str, str]] = {  # id -> (language, text)
    "fx-ja-a": ("ja", JA_ORIGINAL), "fx-ja-b": ("ja", JA_COPY),
    "fx-ko-a": ("ko", KO_ORIGINAL), "fx-ko-b": ("ko", KO_COPY),
    "fx-zh-flu": ("zh", ZH_FLU), "fx-zh-fever": ("zh", ZH_FEVER),
    "fx-exact-a": ("en", EXACT_ORIGINAL), "fx-exact-b": ("en", EXACT_COPY),
}
NEAR_PAIRS = [{"en-02", "en-13"}, {"zh-02", "zh-13"}, {"fx-ja-a", "fx-ja-b"}, {"fx-ko-a", "fx-ko-b"}]


def _doc(text: str, id_: str = "x", **metadata: Any) -> Any:
    from datatrove.data import Document

    return Document(text=text, id=id_, metadata=dict(metadata))


def _jaccard(a: str, b: str, language: str | None, n: int = 5) -> float:
    def grams(text: str) -> set[tuple[str, ...]]:
        toks = shingle_tokens(text, language)
        return set(zip(*(toks[i:] for i in range(n)), strict=False))

    sa, sb = grams(a), grams(b)
    return len(sa & sb) / len(sa | sb)


# ---------------------------------------------------------------------------------------------------- exact dedup


def test_exact_content_ignores_case_whitespace_and_compatibility_forms_only() -> None:
    assert exact_content(_doc(EXACT_ORIGINAL)) == exact_content(_doc(EXACT_COPY))
    assert exact_content(_doc("ＨｂＡ１ｃ　７％\u00a0Straße")) == "hba1c 7% strasse"  # NFKC, casefold
    assert exact_content(_doc("  a\n\n b\t")) == "a b"
    for other in ("HbA1c 7 %", "HbA1c 7%.", "HbA1c 8%", "hémoglobine", "7% HbA1c"):
        assert exact_content(_doc(other)) != exact_content(_doc("HbA1c 7%")), other
    assert exact_content(_doc("hémoglobine")) != exact_content(_doc("hemoglobine"))  # diacritics count


def test_exact_config_hashes_strings_and_pickles() -> None:
    from datatrove.pipeline.dedup.exact_dedup import ExactDedupSignature

    config = pickle.loads(pickle.dumps(exact_config()))
    assert config.content_getter is exact_content
    step = ExactDedupSignature("/nonexistent-never-written", config=config)
    assert step.hash_fc("abc") == step.hash_fc("abc") != step.hash_fc("abd")


# ---------------------------------------------------------------------------------------------------- settings


def test_settings_defaults_are_datatrove_defaults() -> None:
    from datatrove.pipeline.dedup.minhash import MinhashConfig

    settings = DedupSettings()
    assert settings.exact and settings.near
    ours, theirs = settings.minhash_config(), MinhashConfig()
    assert (ours.n_grams, ours.num_buckets, ours.hashes_per_bucket, ours.seed) == (
        theirs.n_grams, theirs.num_buckets, theirs.hashes_per_bucket, theirs.seed)
    assert settings.threshold == pytest.approx(0.719, abs=1e-3)
    assert settings.candidate_probability(0.86) > 0.99 > 0.01 > settings.candidate_probability(0.4)
    custom = DedupSettings(near=False, n_grams=3, num_buckets=20, hashes_per_bucket=5, seed=7).minhash_config()
    assert (custom.n_grams, custom.num_buckets, custom.hashes_per_bucket, custom.seed) == (3, 20, 5, 7)


@pytest.mark.parametrize(("field", "value"), [
    ("n_grams", 0), ("n_grams", 2.5), ("n_grams", True), ("num_buckets", 0), ("num_buckets", "14"),
    ("hashes_per_bucket", -1), ("seed", -1), ("seed", 2**32), ("exact", "yes"), ("near", 1),
])
def test_settings_reject_nonsense(field: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=field):
        DedupSettings(**{field: value})


# ---------------------------------------------------------------------------------------------------- shingles


def test_tokenizer_choice_follows_the_language() -> None:
    assert [tokenizer_for(x) for x in ("en", "ko", "hi", "pt-BR", "DE")] == [WORDS] * 5
    assert [tokenizer_for(x) for x in ("zh", "ja", "zh-Hans", "zh_CN", None, "", "und", "th", 3)] == [SCRIPT] * 9


def test_accents_fold_but_letter_forming_marks_stay() -> None:
    from datatrove.utils.text import TextNormConfig

    assert shingle_tokens("Lungenentzündung, fièvre, ПНЕВМОНИЯ́", "de") == ["lungenentzundung", "fievre", "пневмония"]
    assert shingle_tokens("مَرَضُ السُّكَّرِي", "ar") == shingle_tokens("مرض السكري", "ar")  # harakat fold
    # Hindi vowel signs and virama are letters: "diabetes" and "honey" (मधु) stay different words.
    assert shingle_tokens("मधुमेह रोग", "hi") == ["मधुमेह", "रोग"]
    assert shingle_tokens("मधुमेह", "hi") != shingle_tokens("मधु", "hi")
    assert shingle_tokens("ผู้ป่วยเบาหวาน", "th") == list("ผู้ป่วยเบาหวาน")  # Thai marks kept (one token each)
    assert shingle_tokens("ががん", "ja") == ["が", "が", "ん"]  # voiced kana stay voiced and composed
    assert shingle_tokens("고혈압 환자", "ko") == ["고혈압", "환자"]  # Hangul syllables stay composed
    # With diacritic folding off in the MinHash config, nothing is stripped.
    keep = TextNormConfig(norm_unicode_diacritics=False)
    assert shingle_tokens("fièvre", "fr", keep) == [unicodedata.normalize("NFKC", "fièvre")]


def test_cjk_shingles_are_characters_not_sentences() -> None:
    zh = "肺炎患者应按医嘱足量服用抗生素，不可自行停药。"
    assert shingle_tokens(zh, "zh") == list("肺炎患者应按医嘱足量服用抗生素不可自行停药")  # punctuation dropped
    # What whitespace splitting (datatrove's fallback) does to it: a clause per token, no 5-gram at all.
    assert len(shingle_tokens(zh, "en")) == 2
    ja = "コレステロール値が高いと、動脈硬化が進みやすくなります。"
    tokens = shingle_tokens(ja, "ja")
    assert tokens[:7] == list("コレステロール")
    assert len(tokens) == len("コレステロール値が高いと動脈硬化が進みやすくなります")
    # Latin and digit runs inside CJK text stay whole (numbers normalised to 0, as datatrove does)
    assert shingle_tokens("HbA1c超过7.5%需要调整用药", "zh")[:4] == ["hba0c", "超", "过", "0"]
    # The fallback (unknown language) reads the script: the same tokens as zh/ja for CJK text, words elsewhere.
    assert shingle_tokens(zh, None) == shingle_tokens(zh, "zh")
    assert shingle_tokens("The patient recovered well.", None) == ["the", "patient", "recovered", "well"]

    step = LanguageAwareMinhashSignature("/nonexistent-never-written")
    step._doc_language = "zh"
    n = step.config.n_grams
    assert step.get_shingles(zh).shape == (len(shingle_tokens(zh, "zh")) - n + 1, 1)
    step._doc_language = "en"
    assert step.get_shingles(zh).size == 0


def test_fixture_pairs_are_as_similar_as_intended() -> None:
    # The near-duplicate fixtures sit well inside LSH's sure range; the boilerplate pair well outside it.
    settings = DedupSettings()
    for a, b, lang in ((JA_ORIGINAL, JA_COPY, "ja"), (KO_ORIGINAL, KO_COPY, "ko")):
        assert settings.candidate_probability(_jaccard(a, b, lang)) > 0.98, lang
    assert _jaccard(ZH_FLU, ZH_FEVER, "zh") < 0.25


def test_signature_step_reads_each_documents_language(tmp_path: Path) -> None:
    step = LanguageAwareMinhashSignature(str(tmp_path / "sigs"), DedupSettings(num_buckets=2).minhash_config())
    docs = [_doc(ZH_FLU, "1", language="zh"), _doc("a few English words here and more", "2", language="en"),
            _doc(JA_ORIGINAL, "3"), _doc("too short", "4", language="fr")]
    step.run(iter(docs))
    stats = {name: step.stats[name].total for name in ("tokenizer_script", "tokenizer_words", "no_shingles")}
    assert stats == {"tokenizer_script": 2, "tokenizer_words": 2, "no_shingles": 1}
    record = 8 * 8 + 4  # hashes_per_bucket uint64 hashes + the document index
    sizes = [p.stat().st_size for p in sorted((tmp_path / "sigs").glob("bucket_*/00000.minhash.sig"))]
    assert sizes == [3 * record] * 2  # three documents signed, in both buckets


def test_signature_step_pickles() -> None:
    from mmed.corpus import dedup

    step = LanguageAwareMinhashSignature("/nonexistent-never-written", DedupSettings(seed=5).minhash_config())
    blob = pickle.dumps(step)
    again = pickle.loads(blob)
    assert type(again) is dedup.LanguageAwareMinhashSignature and again.config.seed == 5
    assert len(blob) < 20_000  # settings only
    step._doc_language = again._doc_language = "zh"
    assert again.get_signature(again.get_shingles(ZH_FLU)) == step.get_signature(step.get_shingles(ZH_FLU))
    tokenizer = pickle.loads(pickle.dumps(dedup.ScriptTokenizer()))
    assert tokenizer.word_tokenize("高血压 risk") == ["高", "血", "压", "risk"]


# ---------------------------------------------------------------------------------------------------- the pipeline


@pytest.fixture(scope="module")
def sample_dir() -> Iterator[Path]:
    with as_file(files("mmed") / "data" / "sample_raw") as path:
        yield Path(path)


def _write_inputs(sample_dir: Path, folder: Path) -> dict[str, str]:
    """The sample's medical and general records plus the fixtures, in two files (one per task): id -> language."""
    labels = json.loads((sample_dir / "labels.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (sample_dir / "web-00000.jsonl").read_text(encoding="utf-8").splitlines()]
    records = [{"id": r["id"], "text": r["text"], "language": labels[r["id"]]["lang"]}
               for r in rows if labels[r["id"]]["label"] in ("medical", "general")]
    assert len(records) == 122  # 60 medical, 60 general, 2 planted near-duplicates
    records += [{"id": id_, "text": text, "language": lang} for id_, (lang, text) in FIXTURES.items()]
    # Pairs on different ranks and on the same rank, whatever the sample's order; the rest alternate.
    place = {"en-02": 0, "en-13": 1, "zh-02": 0, "zh-13": 0, "fx-ja-a": 0, "fx-ja-b": 1, "fx-ko-a": 1, "fx-ko-b": 1,
             "fx-exact-a": 1, "fx-exact-b": 0, "fx-zh-flu": 0, "fx-zh-fever": 1}
    shards = [[r for i, r in enumerate(records) if place.get(r["id"], i % 2) == rank] for rank in (0, 1)]
    folder.mkdir(parents=True)
    for rank, shard in enumerate(shards):
        lines = (json.dumps(r, ensure_ascii=False) for r in shard)
        (folder / f"part-{rank}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {r["id"]: r["language"] for r in records}


def _ids(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.rglob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            out += [json.loads(line)["id"] for line in f if line.strip()]
    return out


def test_six_dedup_stages_on_the_sample(sample_dir: Path, tmp_path: Path) -> None:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.exact_dedup import ExactDedupFilter, ExactDedupSignature, ExactFindDedups
    from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from mmed.corpus.writers import RejectWriter

    languages = _write_inputs(sample_dir, tmp_path / "input")
    work, out = tmp_path / "work", tmp_path / "out"
    settings = DedupSettings()
    config = settings.minhash_config()

    def run(name: str, pipeline: list[Any], tasks: int = 2) -> None:
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(tmp_path / "logs" / name),
                              skip_completed=False).run()

    def filtered() -> Any:  # each task reads back the file it wrote in S1 (the same rank, so the same doc indices)
        return JsonlReader(str(work / "filtered"))

    def rejects(reason: str) -> Any:
        return RejectWriter(str(out / "rejected"), str(out / "counts"), name=reason, reason=reason)

    run("s1_filter", [JsonlReader(str(tmp_path / "input")),
                      JsonlWriter(str(work / "filtered"), output_filename="${rank}.jsonl.gz"),
                      ExactDedupSignature(str(work / "exact/sigs"), config=exact_config())])
    assert sorted(p.name for p in (work / "filtered").iterdir()) == ["00000.jsonl.gz", "00001.jsonl.gz"]
    run("s2_exact", [ExactFindDedups(str(work / "exact/sigs"), str(work / "exact/dups"), config=exact_config())], 1)
    run("s3_sigs", [filtered(),
                    ExactDedupFilter(str(work / "exact/dups"), exact_config(), exclusion_writer=rejects("duplicate")),
                    LanguageAwareMinhashSignature(str(work / "minhash/sigs"), config)])
    run("s4_buckets", [MinhashDedupBuckets(str(work / "minhash/sigs"), str(work / "minhash/buckets"), config=config)],
        settings.num_buckets)
    run("s5_cluster", [MinhashDedupCluster(str(work / "minhash/buckets"), str(work / "minhash/remove_ids"),
                                           config=config)], 1)
    run("s6_final", [filtered(),
                     ExactDedupFilter(str(work / "exact/dups"), exact_config()),
                     MinhashDedupFilter(str(work / "minhash/remove_ids"), exclusion_writer=rejects("near_duplicate")),
                     JsonlWriter(str(out / "kept"), output_filename="${rank}.jsonl", compression=None)])

    kept = _ids(out / "kept")
    exact = _ids(out / "rejected" / "duplicate")
    near = _ids(out / "rejected" / "near_duplicate")
    assert sorted(kept + exact + near) == sorted(languages)  # every document exactly once
    assert len(exact) == 1 and set(exact) < {"fx-exact-a", "fx-exact-b"}  # as `duplicate`, not `near_duplicate`
    assert len(near) == len(NEAR_PAIRS) and all(len(pair & set(near)) == 1 for pair in NEAR_PAIRS), near
    assert {"fx-zh-flu", "fx-zh-fever"} <= set(kept)
    # The reject writer's counts describe the same documents.
    counted = [json.loads(p.read_text(encoding="utf-8")) for p in (out / "counts").glob("near_duplicate-*.json")]
    by_lang = {key: cell["docs"] for c in counted for key, cell in c["counts"].items()}
    assert by_lang == {f"near_duplicate|{lang}": 1 for lang in ("en", "zh", "ja", "ko")}
