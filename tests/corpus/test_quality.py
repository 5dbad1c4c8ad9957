"""The per-language quality filters (mmed.corpus.quality): datatrove's Gopher/FineWeb heuristics with our tokenizers.

The fixtures below were written for these tests: a normal medical paragraph per language, and junk of the kinds the
filters exist for (one spam line repeated, hashtag spam, a line of symbols, cookie-banner boilerplate, a menu).
"""

from __future__ import annotations

import json
import pickle
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pytest

from mmed.corpus.quality import (
    KINDS,
    NO_STOP_WORDS,
    RECIPE_DEFAULTS,
    QualityFilter,
    language_settings,
    resolve_params,
    sentence_spans,
    stop_words,
    word_tokenizer,
    words,
)
from mmed.errors import ConfigError
from mmed.langs import LANGUAGES
from tests.helpers import shared_path

MEDICAL = {
    "en": "Type 2 diabetes is a chronic condition in which the body does not use insulin properly, so glucose builds "
          "up in the blood. Early symptoms include thirst, frequent urination and tiredness, but many people have no "
          "symptoms for years. The diagnosis is made with a fasting glucose test or a haemoglobin test. Treatment "
          "starts with a healthy diet, regular physical activity and weight loss; when these are not enough, doctors "
          "usually prescribe metformin. Patients should have their eyes, kidneys and feet checked every year, "
          "because high blood sugar slowly damages small blood vessels and nerves.",
    "zh": "高血压是一种常见的慢性疾病，患者的动脉血压长期高于正常水平。很多人在早期没有明显症状，因此需要定期测量血压。"
          "长期血压升高会损害心脏、大脑和肾脏，并增加中风和心肌梗死的风险。治疗包括改变生活方式和药物治疗两个方面。"
          "医生通常建议患者减少食盐摄入，多吃新鲜蔬菜和水果，坚持锻炼，戒烟限酒。"
          "如果这些措施效果不够，医生会根据病情开具降压药物，并在随访时调整剂量。",
    "ja": "糖尿病は、血液中のブドウ糖の濃度が慢性的に高くなる病気です。初期には自覚症状がほとんどないため、"
          "健康診断で初めて指摘されることが多くあります。高血糖の状態が長く続くと、目の網膜や腎臓、神経などの細い血管が"
          "傷つき、さまざまな合併症が起こります。治療の基本は食事療法と運動療法であり、必要に応じて飲み薬やインスリン注射を"
          "使います。患者は定期的に医療機関を受診し、血糖値と体重を確認することが大切です。",
    "ru": "Бронхиальная астма — хроническое воспалительное заболевание дыхательных путей, при котором у больного "
          "возникают приступы удушья, кашель и свистящее дыхание. Приступ часто начинается после контакта с "
          "аллергеном, физической нагрузки или вдыхания холодного воздуха. Для постановки диагноза врач оценивает "
          "жалобы пациента и проводит исследование функции внешнего дыхания. Лечение включает ингаляционные гормоны, "
          "которые уменьшают воспаление в бронхах, и быстродействующие препараты для снятия приступа. Больному важно "
          "избегать известных триггеров и регулярно посещать врача.",
    "ar": "السكري مرض مزمن يحدث عندما لا ينتج البنكرياس كمية كافية من الأنسولين أو عندما لا يستطيع الجسم استخدام "
          "الأنسولين بشكل فعال. ومن أهم أعراضه العطش الشديد وكثرة التبول والتعب وفقدان الوزن. ويؤدي ارتفاع السكر في "
          "الدم لفترة طويلة إلى تلف الأعصاب والأوعية الدموية في العينين والكليتين. ويعتمد العلاج على اتباع نظام غذائي "
          "صحي وممارسة النشاط البدني بانتظام، وقد يحتاج المريض إلى أدوية عن طريق الفم أو حقن الأنسولين. وينصح "
          "الأطباء المرضى بقياس مستوى السكر في الدم بشكل منتظم.",
    "hi": "मधुमेह एक पुरानी बीमारी है जिसमें शरीर इंसुलिन का सही उपयोग नहीं कर पाता और रक्त में शर्करा का स्तर बढ़ "
          "जाता है। इसके सामान्य लक्षणों में अधिक प्यास लगना, बार-बार पेशाब आना और थकान शामिल हैं। लंबे समय तक रक्त "
          "शर्करा अधिक रहने से आंखों, गुर्दों और नसों को नुकसान हो सकता है। इलाज में संतुलित आहार, नियमित व्यायाम और "
          "डॉक्टर द्वारा दी गई दवाएं शामिल होती हैं। मरीजों को नियमित रूप से अपनी रक्त शर्करा की जांच करानी चाहिए।",
}
SPAM_LINE = {
    "en": "Buy cheap pills online now, best price guaranteed!",
    "zh": "特价药品，立即购买，全网最低价！",
    "ja": "激安サプリを今すぐ購入、送料無料！",
    "ru": "Купите дешёвые таблетки онлайн прямо сейчас!",
    "ar": "اشتر الآن أرخص الأدوية عبر الإنترنت!",
    "hi": "सस्ती दवाइयाँ अभी ऑनलाइन खरीदें!",
}
BOILERPLATE = {
    "en": "This site uses cookies. Accept all.\nLogin | Register",
    "zh": "本网站使用Cookie。全部接受。\n登录 | 注册",
    "ja": "このサイトはCookieを使用します。同意する。\nログイン | 登録",
    "ru": "Сайт использует файлы cookie. Принять.\nВход | Регистрация",
    "ar": "يستخدم هذا الموقع ملفات تعريف الارتباط. قبول.\nدخول | تسجيل",
    "hi": "यह साइट कुकीज़ का उपयोग करती है। स्वीकार करें।\nलॉगिन | रजिस्टर",
}
MENU = {
    "en": ["Home", "About us", "Our doctors", "Appointments", "Contact", "Opening hours"],
    "zh": ["首页", "关于我们", "专家团队", "预约挂号", "联系我们", "门诊时间"],
    "ja": ["ホーム", "病院紹介", "医師紹介", "診療予約", "お問い合わせ", "診療時間"],
    "ru": ["Главная", "О нас", "Наши врачи", "Запись на приём", "Контакты", "Часы работы"],
    "ar": ["الرئيسية", "من نحن", "أطباؤنا", "المواعيد", "اتصل بنا", "ساعات العمل"],
    "hi": ["होम", "हमारे बारे में", "हमारे डॉक्टर", "अपॉइंटमेंट", "संपर्क करें", "समय"],
}
FIXTURE_LANGS = tuple(MEDICAL)
SYMBOLS = "\n".join(["★ ★ ★ ★ ★", "● ■ ◆ ▲ ▼", "→ ← ↑ ↓ ↔", "*** +++ *** +++", "@@@ %%% &&& $$$"] * 4)


def _doc(text: str, lang: str | None) -> Any:
    from datatrove.data import Document

    return Document(text=text, id="x", metadata={} if lang is None else {"language": lang})


def _decide(step: Any, text: str, lang: str | None) -> tuple[bool, str | None]:
    res = step.filter(_doc(text, lang))
    return (res, None) if isinstance(res, bool) else (bool(res[0]), res[1])


def _spam(lang: str) -> str:
    return "\n".join([SPAM_LINE[lang]] * 20)


def _hashtags(lang: str) -> str:
    """Every word of the medical paragraph as a hashtag: words enough, but a '#' per word."""
    return " ".join(f"#{w}" for w in words(MEDICAL[lang], lang) if any(c.isalpha() for c in w))


@pytest.fixture(scope="module")
def steps() -> dict[str, Any]:
    return {kind: QualityFilter(kind) for kind in KINDS}


@pytest.mark.parametrize("lang", FIXTURE_LANGS)
def test_medical_paragraph_kept_by_every_kind_at_datatrove_defaults_and_by_the_recipe(steps, lang: str) -> None:
    for kind, step in steps.items():
        assert _decide(step, MEDICAL[lang], lang) == (True, None), kind
    for kind, params in RECIPE_DEFAULTS.items():
        assert _decide(QualityFilter(kind, params), MEDICAL[lang], lang) == (True, None), kind


@pytest.mark.parametrize("lang", FIXTURE_LANGS)
def test_junk_removed_with_the_right_reason(steps, lang: str) -> None:
    assert _decide(steps["gopher_repetition"], _spam(lang), lang) == (False, "quality:gopher_repetition:dup_line_frac")
    gopher = steps["gopher_quality"]
    assert _decide(gopher, _hashtags(lang), lang) == (False, "quality:gopher_quality:gopher_too_many_hashes")
    # Symbols are one-character "words": too short on average, except in zh/ja where that bound is off and no
    # function word occurs instead.
    expected = "gopher_enough_stop_words" if lang in ("zh", "ja") else "gopher_below_avg_threshold"
    assert _decide(gopher, SYMBOLS, lang) == (False, f"quality:gopher_quality:{expected}")
    assert _decide(gopher, BOILERPLATE[lang], lang) == (False, "quality:gopher_quality:gopher_short_doc")
    menu = "\n".join(MENU[lang])
    assert _decide(steps["fineweb_quality"], menu, lang) == (False, "quality:fineweb_quality:line_punct_ratio")
    assert _decide(steps["fineweb_quality"], _spam(lang), lang) == (False, "quality:fineweb_quality:char_dup_ratio")


@pytest.mark.parametrize("lang", FIXTURE_LANGS)
def test_recipe_still_removes_the_junk(lang: str) -> None:
    quality, repetition = (QualityFilter(k, RECIPE_DEFAULTS[k]) for k in ("gopher_quality", "gopher_repetition"))
    assert _decide(repetition, _spam(lang), lang) == (False, "quality:gopher_repetition:dup_line_frac")
    assert _decide(quality, _hashtags(lang), lang)[1] == "quality:gopher_quality:gopher_too_many_hashes"
    assert _decide(quality, BOILERPLATE[lang], lang)[1] == "quality:gopher_quality:gopher_short_doc"


def test_stop_word_rule_uses_the_documents_language() -> None:
    # English prose judged with German function words: none of them occur, so the rule rejects it.
    step = QualityFilter("gopher_quality", {"per_language": {"de": {"stop_words": list(stop_words("en"))}}})
    assert _decide(step, MEDICAL["ru"], "ru") == (True, None)
    german = ("Die Patientin wurde mit Fieber und Husten aufgenommen. " * 2 +
              "Im Röntgenbild zeigte sich eine Lungenentzündung, die mit einem Antibiotikum behandelt wurde. "
              "Nach einer Woche konnte sie in gutem Zustand nach Hause entlassen werden, mit dem Rat, sich zu schonen "
              "und in zwei Wochen zur Kontrolle beim Hausarzt zu erscheinen. Die Therapie wurde gut vertragen.")
    assert _decide(QualityFilter("gopher_quality"), german, "de") == (True, None)
    assert _decide(step, german, "de") == (False, "quality:gopher_quality:gopher_enough_stop_words")


def test_language_settings() -> None:
    for lang in ("zh", "ja"):
        got = resolve_params("gopher_quality", {"min_avg_word_length": 4, "max_non_alpha_words_ratio": 0.9}, lang)
        assert got["min_avg_word_length"] is None and got["max_avg_word_length"] is None
        assert got["max_non_alpha_words_ratio"] is None
    en = resolve_params("gopher_quality", {"min_avg_word_length": 4}, "en")
    assert en["min_avg_word_length"] == 4 and "max_avg_word_length" not in en  # datatrove's default stays
    assert {"the", "The", "of", "Of"} <= set(en["stop_words"])
    assert language_settings("gopher_quality", "ko")["min_stop_words"] is None
    # per_language beats the language settings
    ko = resolve_params("gopher_quality", {"per_language": {"ko": {"min_stop_words": 1, "stop_words": ["수"]}}}, "ko")
    assert ko["min_stop_words"] == 1 and ko["stop_words"] == ["수"]
    assert resolve_params("fineweb_quality", {}, "ja") == {"short_line_length": 10}
    assert resolve_params("gopher_repetition", {"dup_line_frac": 0.5}, "zh") == {"dup_line_frac": 0.5}


def test_every_stop_word_list_is_present_and_tokenizes_to_one_word() -> None:
    assert {"ko"} == NO_STOP_WORDS
    for lang in LANGUAGES:
        if lang in NO_STOP_WORDS:
            continue
        listed = stop_words(lang)
        assert len(listed) >= 8 and len(set(listed)) == len(listed), lang
        # A listed word our tokenizer would split can never match a token (elisions: as before a word).
        assert [w for w in listed if words(f"{w}ospedale" if w.endswith("'") else w, lang)[0] != w] == [], lang


def test_languages_outside_the_filter_and_documents_without_one_pass() -> None:
    step = QualityFilter("gopher_repetition", languages=["en"])
    assert _decide(step, _spam("en"), "en")[0] is False
    assert _decide(step, _spam("zh"), "zh") == (True, None)
    assert _decide(step, _spam("en"), "nl") == (True, None)  # a language we do not filter at all
    assert _decide(step, _spam("en"), None) == (True, None)
    assert _decide(step, " \n ", "en") == (False, "quality:gopher_repetition:empty")


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("c4", None, "unknown kind 'c4'"),
    ("gopher", {}, "choose from ['gopher_quality'"),
    ("gopher_quality", {"min_words": 10}, "'gopher_quality': unknown params ['min_words']; valid params: "
                                          "['min_doc_words'"),
    ("gopher_repetition", {"language": "zh"}, "unknown params ['language']"),
    ("fineweb_quality", {"line_punct_thr": None}, "line_punct_thr = None must be a number"),
    ("gopher_quality", {"min_doc_words": "50"}, "min_doc_words = '50' must be a number or null"),
    ("gopher_quality", {"stop_words": ["the"]}, "per_language"),
    ("gopher_quality", {"per_language": {"xx": {}}}, "unknown language 'xx'"),
    ("gopher_quality", {"per_language": {"en": {"min_words": 1}}}, "(per_language.en): unknown params"),
    ("gopher_quality", ["min_doc_words"], "params must be a mapping"),
])
def test_bad_kind_or_params_raise_config_error(kind: str, params: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        QualityFilter(kind, params)
    assert message in str(err.value)


def test_bad_languages_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown languages"):
        QualityFilter("gopher_quality", languages=["en", "klingon"])
    with pytest.raises(ConfigError, match="no languages"):
        QualityFilter("gopher_quality", languages=[])


def test_step_pickles_by_reference_without_its_filters_or_tokenizers() -> None:
    step = QualityFilter("gopher_quality", RECIPE_DEFAULTS["gopher_quality"], languages=["en", "zh"])
    assert _decide(step, _hashtags("zh"), "zh")[0] is False  # builds the zh filter and tokenizer in this process
    data = pickle.dumps(step)
    assert b"mmed.corpus.quality" in data and b"QualityFilter" in data
    assert b"MmedWordTokenizer" not in data and b"GopherQualityFilter" not in data
    clone = pickle.loads(data)
    assert type(clone) is type(step) and clone.languages == ("en", "zh")
    assert _decide(clone, _hashtags("zh"), "zh") == (False, "quality:gopher_quality:gopher_too_many_hashes")
    assert _decide(clone, MEDICAL["en"], "en") == (True, None)


def test_tokenizer_adapter_segments_chinese_and_japanese() -> None:
    from datatrove.utils.text import split_into_words
    from datatrove.utils.word_tokenizers import WordTokenizer

    zh, ja = word_tokenizer("zh"), word_tokenizer("ja")
    assert isinstance(zh, WordTokenizer) and word_tokenizer("zh") is zh  # one per process and language
    zh_words = zh.word_tokenize(MEDICAL["zh"])
    assert {"高血压", "患者", "血压", "的"} <= set(zh_words) and len(zh_words) > 80
    ja_words = ja.word_tokenize(MEDICAL["ja"])
    assert {"糖尿病", "腎臓", "インスリン", "の", "は"} <= set(ja_words) and len(ja_words) > 80
    assert max(map(len, zh_words + ja_words)) <= 10  # words, not sentences or the whole document
    expected = ["CT", "で", "2.5", "cm", "の", "腫瘤", "を", "認", "めた", "。"]  # full-width forms NFKC-folded
    assert ja.word_tokenize("ＣＴで２．５ｃｍの腫瘤を認めた。") == expected
    # datatrove's filters reach the adapter through split_into_words(text, language)
    assert split_into_words(MEDICAL["ja"], ja) == ja_words
    assert word_tokenizer("ar").word_tokenize("ويعتمد العلاج على الدواء.") == ["ويعتمد", "العلاج", "على", "الدواء", "."]


def test_sentence_spans() -> None:
    text = "Dose: 0.5 mg daily. Take it with food!  \n高血压很常见。需要治疗！\nमधुमेह आम है। इलाज संभव है"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Dose: 0.5 mg daily.", "Take it with food!", "高血压很常见。",
                                             "需要治疗！", "मधुमेह आम है।", "इलाज संभव है"]
    tok = word_tokenizer("en")
    assert tok.span_tokenize(text) == spans and tok.sent_tokenize(text) == [text[a:b] for a, b in spans]
    assert sentence_spans(" \n ") == []


def test_recipe_defaults_keep_every_medical_page_of_the_sample() -> None:
    with as_file(files("mmed") / "data" / "sample_raw") as folder:
        folder = Path(folder)
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        rows = [json.loads(line) for line in (folder / "web-00000.jsonl").read_text(encoding="utf-8").splitlines()]
    medical = [r for r in rows if labels[r["id"]]["label"] == "medical"]
    assert len(medical) == 62
    for kind, params in RECIPE_DEFAULTS.items():
        step = QualityFilter(kind, params)
        removed = [r["id"] for r in medical if _decide(step, r["text"], labels[r["id"]]["lang"])[0] is False]
        assert removed == [], kind


@pytest.mark.shared
@pytest.mark.parametrize("lang", LANGUAGES)
def test_recipe_defaults_keep_at_least_98_percent_of_filter_dev_medical_texts(lang: str) -> None:
    path = shared_path(f"data/filter-dev/{lang}.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    medical = [r["text"] for r in rows if r["label"] == "medical"]
    for kind, params in RECIPE_DEFAULTS.items():
        step = QualityFilter(kind, params)
        removed = sum(_decide(step, t, lang)[0] is False for t in medical)
        assert removed <= 0.02 * len(medical), (kind, removed)
