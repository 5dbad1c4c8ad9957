"""Quality filters for the corpus pipeline (issue 4, step 4): datatrove's Gopher and FineWeb heuristics, per language.

datatrove's filters each take ONE language and tokenize words with spaCy/NLTK/kiwipiepy tokenizers we do not
install. `QualityFilter` routes each document by `doc.metadata["language"]` (written by LanguageFilter) to a
per-language instance of the datatrove filter whose word tokenizer is `MmedWordTokenizer`, an adapter around
mmed.eval.tokenize.word_tokens (regex words; jieba for zh; see `_ja_words` for ja), and whose English-only
settings are replaced where they are wrong for the language (`language_settings`).

Params: `params` go to the datatrove filter's constructor for every language; `params["per_language"]` =
{lang: {param: value}} overrides them for one language. Precedence, lowest first: datatrove's defaults, `params`,
the language settings below, `per_language`. The language settings win over `params` because they fix what a
global value cannot mean for the language (a mean word length in characters for Chinese); `per_language` wins
over everything, for who knows better. So a global `stop_words` would never be used: it is refused.

`c4` is not offered: C4QualityFilter rewrites the text (drops every line not ending in . ? ! " ') and counts
words by whitespace, so for zh/ja/hi/ar it would strip whole documents; making it multilingual means rewriting
it, not configuring it.

Instances hold settings only (kind, params, languages): the datatrove filters and tokenizers are built on first use
in per-process caches, so the step pickles for Slurm/Ray workers.
"""

from __future__ import annotations

import inspect
import types
import typing
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmed.errors import ConfigError, MmedError
from mmed.langs import LANGUAGES

if TYPE_CHECKING:
    from datatrove.data import Document

KINDS: dict[str, tuple[str, str]] = {
    "gopher_quality": ("datatrove.pipeline.filters.gopher_quality_filter", "GopherQualityFilter"),
    "gopher_repetition": ("datatrove.pipeline.filters.gopher_repetition_filter", "GopherRepetitionFilter"),
    "fineweb_quality": ("datatrove.pipeline.filters.fineweb_quality_filter", "FineWebQualityFilter"),
}
# Set by this module, never by params: the tokenizer adapter and the outer step's writer.
_RESERVED = frozenset({"language", "exclusion_writer"})
STOPWORDS_DIR = Path(__file__).with_name("stopwords")
# Languages written without spaces between words: a "word" is a segmenter's unit of 1-3 characters.
UNSEGMENTED = frozenset({"zh", "ja"})
SYLLABIC = frozenset({"ko"})  # one character per syllable, words separated by spaces
NO_STOP_WORDS = frozenset({"ko"})  # Gopher's stop-word rule is off (see language_settings)
SHORT_LINE_CHARS = {"zh": 10, "ja": 10, "ko": 15}  # FineWeb's 30 Latin characters, as much content (see there)

# The quality filters of the MMedC recipe: kind -> params, only the kinds that are on. A kind is on only where it
# removes < ~2% of medical documents in every language. Measured on ../shared/data/filter-dev (50 medical + 50
# general texts a language) and the sample's 62 medical pages, with the language settings below:
# - datatrove defaults remove, of filter-dev medical texts: gopher_quality en 14% fr 12% ru 68% es 14% de 58%
#   pt 38% ar 12% ko 16% hi 6% it 36% (zh ja 0%), nearly all by "80% of words contain a letter" (numbers, units,
#   parenthesised abbreviations are tokens without letters) and the rest by "< 50 words" (ru de ko it);
#   gopher_repetition en es 4%, zh ja fr de pt ar 2% (repeated multi-word terms: "rheumatoid arthritis",
#   "SARS-CoV-2"); fineweb_quality de 14% ar ko it 6% en zh ja hi 4% pt 2% (lines without final punctuation:
#   letters' headers and signatures, drug leaflets, Q&A; short lines: Japanese radiology findings).
# - at the params below: gopher_quality removes 1 of 600 (a 30-word Russian note with one listed function word)
#   and 0 of the sample; gopher_repetition 0 of 600 and 0 of the sample. The letter-ratio rule is off,
#   documents need 20 words (the shortest medical text there has 24), and the n-gram rules keep Gopher's shape at
#   twice its fractions (one 2-gram covering 40% of the text is spam, not terminology); the line and paragraph
#   repetition rules are as is.
# - fineweb_quality stays off: without its line-punctuation rule, the short-line and duplicate-line rules still
#   remove 2 medical texts of 50 in ja and de (and 1 in en).
# Neither kind removes any of the 600 general texts: they target junk (repeated lines, symbol lists, boilerplate).
RECIPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "gopher_quality": {"min_doc_words": 20, "max_non_alpha_words_ratio": None},
    "gopher_repetition": {"top_n_grams": [[2, 0.4], [3, 0.36], [4, 0.32]],
                          "dup_n_grams": [[5, 0.3], [6, 0.28], [7, 0.26], [8, 0.24], [9, 0.22], [10, 0.2]]},
}


def language_settings(kind: str, lang: str) -> dict[str, Any]:
    """What `kind` needs for `lang` instead of datatrove's English defaults (applied over global params)."""
    out: dict[str, Any] = {}
    if kind == "fineweb_quality" and lang in SHORT_LINE_CHARS:
        # "A line of <= 30 characters is short" means ~5 English words. Han and kana carry about three times,
        # Hangul about twice, the content of a Latin character, so 30 characters there is a full sentence
        # (clinical notes: one finding a line); at 30, 12 of 50 Japanese medical texts in filter-dev fail it.
        out["short_line_length"] = SHORT_LINE_CHARS[lang]
    if kind != "gopher_quality":
        return out  # the other repetition and FineWeb rules count characters, lines and n-grams: script-neutral
    if lang in NO_STOP_WORDS:
        # Korean particles and endings are written attached to their word (병원에서, 있습니다), so few function
        # words stand alone between spaces: 11 of 50 Korean health Q&A in filter-dev have fewer than 2 of 24
        # frequent standalone words (수, 있다, 및, 것...). No list of whole words says "running text" there.
        out["stop_words"], out["min_stop_words"] = [], None
    else:
        # Gopher's stop-word rule (>= 2 of 8 English function words) says "this is running text"; each language
        # gets its own list of frequent function words (stopwords/<lang>.txt), with their sentence-initial
        # capitalised forms: datatrove compares words case-sensitively, so "The"/"В" would not count.
        listed = stop_words(lang)
        out["stop_words"] = list(dict.fromkeys([*listed, *(w[:1].upper() + w[1:] for w in listed)]))
    if lang in UNSEGMENTED:
        # Mean word length 3-10 characters is a bound for space-delimited words; jieba's and our ja words are 1-3
        # characters long (measured mean 1.6-2.4), so every Chinese or Japanese document would fail it.
        out["min_avg_word_length"] = out["max_avg_word_length"] = None
        # ">= 80% of words contain a letter" expects ~10% punctuation tokens, as between English words. Words of
        # 1-3 characters make punctuation 15-25% of the tokens of normal prose (measured: all 6 Chinese medical
        # pages of the sample score 0.75-0.8; median 0.83 on Chinese news), so the rule rejects plain text.
        out["max_non_alpha_words_ratio"] = None
    if lang in SYLLABIC:
        # A Hangul character is a syllable (2-3 Latin letters), so Korean words average 2.7-3.3 characters in
        # normal text (filter-dev, sample): a 3-character minimum rejects much of it. The maximum still applies.
        out["min_avg_word_length"] = None
    return out


@lru_cache(maxsize=32)
def stop_words(lang: str) -> tuple[str, ...]:
    """The shipped stop-word list of `lang` (stopwords/<lang>.txt; '#' starts a comment line)."""
    path = STOPWORDS_DIR / f"{lang}.txt"
    if not path.is_file():
        raise MmedError(f"quality filter: no stop-word list for language {lang!r} ({path} not found)")
    words = [w.strip() for w in path.read_text(encoding="utf-8").splitlines()]
    return tuple(w for w in words if w and not w.startswith("#"))


def valid_params(kind: str) -> tuple[str, ...]:
    """The constructor params of `kind`'s datatrove filter that a config may set."""
    return tuple(_signature(kind))


def _signature(kind: str) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(_datatrove_class(kind).__init__)
    return {n: p for n, p in sig.parameters.items() if n != "self" and n not in _RESERVED}


def _accepted(annotation: Any) -> set[type]:
    """The plain types an annotation such as `float | None` or `tuple[tuple[int, float]]` accepts."""
    if annotation is None or annotation is type(None):
        return {type(None)}
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return set().union(*(_accepted(a) for a in typing.get_args(annotation)))
    origin = typing.get_origin(annotation) or annotation
    return {origin} if isinstance(origin, type) else set()


_YAML_NAMES = {type(None): "null", bool: "true/false", int: "a number", float: "a number", tuple: "a list",
               list: "a list", str: "a string"}


def _check_value(kind: str, name: str, value: Any, param: inspect.Parameter, where: str) -> None:
    """Wrong types fail here, in the driver, rather than as a TypeError inside every worker."""
    accepted = _accepted(param.annotation)
    if not accepted:
        return  # an annotation we cannot read: let datatrove judge
    if value is None:
        ok = type(None) in accepted
    elif isinstance(value, bool):
        ok = bool in accepted
    elif isinstance(value, (int, float)):
        ok = bool(accepted & {int, float})
    elif isinstance(value, (list, tuple)):
        ok = bool(accepted & {list, tuple})
    else:
        ok = isinstance(value, tuple(accepted))
    if not ok:
        names = " or ".join(sorted({_YAML_NAMES.get(t, t.__name__) for t in accepted}))
        raise ConfigError(f"quality filter {kind!r}{where}: {name} = {value!r} must be {names}")


def _datatrove_class(kind: str) -> type:
    if kind not in KINDS:
        raise ConfigError(f"quality filter: unknown kind {kind!r}; choose from {list(KINDS)}")
    import importlib

    module, name = KINDS[kind]
    return getattr(importlib.import_module(module), name)


def _freeze(value: Any) -> Any:
    """A hashable equal of a param value (lists -> tuples; datatrove reads all of these params as sequences)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_freeze(v) for v in value)
    return value


def resolve_params(kind: str, params: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    """The constructor params of `kind`'s filter for `lang` (see the module docstring for the precedence)."""
    params = dict(params or {})
    per_language = params.pop("per_language", None) or {}
    return {**params, **language_settings(kind, lang), **per_language.get(lang, {})}


def _check_params(kind: str, params: dict[str, Any]) -> None:
    valid = _signature(kind)

    def check(given: dict[str, Any], where: str) -> None:
        if unknown := sorted(set(given) - set(valid)):
            raise ConfigError(f"quality filter {kind!r}{where}: unknown params {unknown}; valid params: {list(valid)}")
        for name, value in given.items():
            _check_value(kind, name, value, valid[name], where)

    check({k: v for k, v in params.items() if k != "per_language"}, "")
    if "stop_words" in params:
        raise ConfigError(f"quality filter {kind!r}: a global stop_words list would replace every language's own "
                          "list; give it for one language: params={'per_language': {'en': {'stop_words': [...]}}}")
    per_language = params.get("per_language") or {}
    if not isinstance(per_language, dict):
        raise ConfigError(f"quality filter {kind!r}: per_language must map a language code to params, "
                          f"found {type(per_language).__name__}")
    for lang, overrides in per_language.items():
        if lang not in LANGUAGES:
            raise ConfigError(f"quality filter {kind!r}: per_language: unknown language {lang!r}; "
                              f"choose from {list(LANGUAGES)}")
        if not isinstance(overrides, dict):
            raise ConfigError(f"quality filter {kind!r}: per_language.{lang} must be a mapping of params")
        check(overrides, f" (per_language.{lang})")


# --- word tokenizer adapter ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _ja_re() -> Any:
    import regex

    # A run of one script is a word: kanji (with the iteration mark 々), hiragana (particles, endings), katakana
    # (with the long-vowel mark ー), else a run of other letters/digits or of one punctuation character.
    return regex.compile(
        r"[\p{Han}々〆ヶ]+|\p{Hiragana}+|[\p{Katakana}ー]+"
        r"|\p{Nd}+(?:[.,]\p{Nd}+)+"
        r"|[\p{L}\p{M}\p{N}--[\p{Han}\p{Hiragana}\p{Katakana}]]+"
        r"|([^\p{L}\p{M}\p{N}\s])\1*",
        flags=regex.VERSION1,
    )


def _ja_words(text: str) -> list[str]:
    """Japanese words as runs of one script: ~100x faster than janome and close enough for these heuristics.

    janome (the morphological analyser mmed.eval uses for ja) reads 16-22k characters a second on one core, against
    1.9M for these script runs and 5M for the regex tokenizer on English: a corpus-scale bottleneck. The filters
    need word counts, stop words and n-grams, not morphemes, and script runs split kanji/katakana content words
    from hiragana particles and endings. On the 112 Japanese texts of filter-dev and the sample, gopher_quality and
    fineweb_quality decide the same with either; gopher_repetition at datatrove's defaults removes 1 text with
    script runs and 4 with janome (its shorter morphemes repeat more often as 5-grams).
    """
    text = unicodedata.normalize("NFKC", text)
    return [m.group(0) for m in _ja_re().finditer(text)]


def words(text: str, lang: str) -> list[str]:
    """The words (and punctuation tokens) of `text` as the quality filters count them, case kept."""
    if lang == "ja":
        return _ja_words(text)
    from mmed.eval.tokenize import word_tokens

    return word_tokens(text, lang, lower=False)


@lru_cache(maxsize=1)
def _sentence_end_re() -> Any:
    import regex
    from datatrove.utils.text import TERMINAL_PUNCTUATION

    closers = r"[\"'”’»」』）)\]]*"
    term = regex.escape("".join(sorted(TERMINAL_PUNCTUATION)))
    # A Latin-style full stop ends a sentence only before a space ("0.5", "e.g" stay whole); CJK ones need none.
    return regex.compile(rf"[。！？｡]+{closers}|[{term}]+{closers}(?=\s|$)|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`: cut after terminal punctuation and at newlines, whitespace trimmed."""
    spans: list[tuple[int, int]] = []

    def add(a: int, b: int) -> None:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))

    start = 0
    for m in _sentence_end_re().finditer(text):
        add(start, m.end())
        start = m.end()
    add(start, len(text))
    return spans


@lru_cache(maxsize=1)
def _tokenizer_class() -> type:
    from datatrove.utils.word_tokenizers import WordTokenizer

    class MmedWordTokenizer(WordTokenizer):
        """datatrove WordTokenizer over mmed's offline tokenizers (`words`, `sentence_spans`) for one language."""

        def word_tokenize(self, text: str) -> list[str]:
            return words(text, self.language)

        def sent_tokenize(self, text: str) -> list[str]:
            return [text[a:b] for a, b in sentence_spans(text)]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return sentence_spans(text)

    MmedWordTokenizer.__module__, MmedWordTokenizer.__qualname__ = __name__, "MmedWordTokenizer"
    return MmedWordTokenizer


@lru_cache(maxsize=32)
def word_tokenizer(lang: str) -> Any:
    """The per-process MmedWordTokenizer of `lang` (datatrove caches tokenizers by identity, so reuse one)."""
    if lang not in LANGUAGES:
        raise ConfigError(f"quality filter: unknown language {lang!r}; choose from {list(LANGUAGES)}")
    return _tokenizer_class()(lang)


@lru_cache(maxsize=256)
def _inner_filter(kind: str, lang: str, frozen: tuple[tuple[str, Any], ...]) -> Any:
    """`kind`'s datatrove filter for `lang`, built once per process and settings."""
    return _datatrove_class(kind)(**dict(frozen), language=word_tokenizer(lang))


# --- the datatrove step ----------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _quality_filter_class() -> type:
    """Build the datatrove step on first use, so importing this module does not import datatrove."""
    from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result

    class QualityFilter(BaseFilter):
        """datatrove filter: one of datatrove's quality heuristics (`kind`), applied per document language.

        kind: gopher_quality | gopher_repetition | fineweb_quality; params: the datatrove filter's constructor
        params, plus `per_language` (see the module docstring). Documents whose language is not in `languages`
        (default: all 12), or that carry none, pass untouched. Rejection: `quality:<kind>:<datatrove reason>`.
        """

        name = "🧹 Quality (per language)"

        def __init__(self, kind: str, params: dict[str, Any] | None = None, *,
                     languages: Iterable[str] | None = None, exclusion_writer: Any = None) -> None:
            super().__init__(exclusion_writer)
            if kind not in KINDS:
                raise ConfigError(f"quality filter: unknown kind {kind!r}; choose from {list(KINDS)}")
            if params is not None and not isinstance(params, dict):
                raise ConfigError(f"quality filter {kind!r}: params must be a mapping, found {type(params).__name__}")
            params = dict(params or {})
            _check_params(kind, params)
            langs = tuple(dict.fromkeys(LANGUAGES if languages is None else languages))
            if not langs:
                raise ConfigError(f"quality filter {kind!r}: no languages to filter (leave languages out for all)")
            if unknown := [x for x in langs if x not in LANGUAGES]:
                raise ConfigError(f"quality filter {kind!r}: unknown languages {unknown}; "
                                  f"choose from {list(LANGUAGES)}")
            self.kind = kind
            self.params = params
            self.languages = langs
            # Resolved here, in the driver (a missing stop-word list fails now, not in every worker); frozen, as
            # they are the key of the per-process filter cache.
            self.resolved = {x: _freeze(resolve_params(kind, params, x)) for x in langs}

        def filter(self, doc: Document) -> bool | tuple[bool, str]:
            lang = doc.metadata.get("language")
            frozen = self.resolved.get(lang) if isinstance(lang, str) else None
            if frozen is None:
                self.stat_update("quality_skipped_language")
                return True
            if not doc.text.strip():  # datatrove's ratios divide by the word count
                return False, f"quality:{self.kind}:empty"
            kept, reason = get_filter_result(_inner_filter(self.kind, lang, frozen).filter(doc))
            if kept:
                return True
            return False, f"quality:{self.kind}:{reason or 'rejected'}"

    # Pickled by reference as mmed.corpus.quality.QualityFilter, which __getattr__ below resolves to this same class.
    QualityFilter.__module__, QualityFilter.__qualname__ = __name__, "QualityFilter"
    return QualityFilter


def __getattr__(name: str) -> Any:
    if name == "QualityFilter":
        return _quality_filter_class()
    if name == "MmedWordTokenizer":
        return _tokenizer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
