"""Duplicate removal for the corpus (issue 4, step 5): exact dedup by hash, then MinHash near-dedup.

Exact duplicates: datatrove's ExactDedup steps with `exact_config()`, which hashes `exact_content(doc)` (the text
after NFKC, case folding and whitespace collapsing; see that function for what counts as "exact").

Near duplicates: datatrove's four MinHash steps, with `LanguageAwareMinhashSignature` as the first one. datatrove's
own signature step tokenizes every document with one language's tokenizer; for zh/ja that tokenizer needs spaCy
(and models), and splitting Chinese or Japanese at whitespace makes a whole clause one "word", so CJK
near-duplicates share no shingles and are missed. Ours picks the tokens per document from
`doc.metadata["language"]` (written by LanguageFilter), after datatrove's own text normalisation (simplify_text:
lower case, numbers -> 0, punctuation -> space, accents dropped; NFKC first, so full-width forms fold; unlike
datatrove's step, Hindi vowel signs are kept):

- a language written with spaces (mmed.langs: en fr ru es de pt ar ko hi it): the whitespace-separated words;
- zh, ja: every Han/kana character is a token, runs of other letters or digits ("ct", "0", "hba0c") are one token;
- a missing or unknown language: the same script tokenizer (characters of the scripts written without spaces --
  Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan -- one by one, everything else at whitespace), which is right for
  any script; the language only decides where we can do without it.

Shingles are n-grams of these tokens with the same n (MinhashConfig.n_grams, 5 by default) for words and CJK
characters. Why characters and not jieba/janome words for zh/ja, measured on ../shared/data/filter-dev (100 real
web pages per language) on one core: tokenizing runs at 3.4 MB/s (zh) and 3.5 MB/s (ja) with characters, against
0.54 MB/s for jieba and 0.07 MB/s for janome (50x slower, too slow for a corpus); the whole signature (tokens,
shingle hashes, 112 MinHashes) runs at 1.1 (zh) and 1.3 MB/s (ja), against 2.1 for en words. And characters
separate as well as words: the planted near-duplicate zh-13 ~ zh-02 has Jaccard 0.86 on character 5-grams (0.83 on
jieba-word 5-grams), while the most similar of the 4,950 pairs of distinct filter-dev pages reach 0.12 (zh) and 0.15
(ja); with 14 buckets x 8 hashes a pair is matched with probability 1-(1-s^8)^14: 0.99 at s=0.86, 4e-6 at s=0.15.
Character n-grams also need no segmenter, so an edit cannot change the segmentation around it. Korean is written
with spaces and is shingled by words, like the other space-delimited languages.

The steps hold settings only, so they pickle for Slurm/Ray workers; the classes are built on first use (importing
this module does not import datatrove) and pickle by reference as mmed.corpus.dedup.<name>.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import regex

from mmed.errors import ConfigError
from mmed.langs import LANGUAGES

if TYPE_CHECKING:
    from datatrove.data import Document
    from datatrove.pipeline.dedup.exact_dedup import ExactDedupConfig
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.text import TextNormConfig

# Scripts written without spaces between words: each character is a token. U+30FC (the katakana long-vowel mark)
# and U+3006 (〆) are in the Common script, not Han/Katakana, but only ever occur inside Japanese words.
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}\u30fc\u3006"
_SCRIPT_TOKEN = regex.compile(rf"[{_UNSPACED}]|[^\s{_UNSPACED}]+")

WORDS, SCRIPT = "words", "script"  # the two ways of tokenizing, as reported in the step's stats


def exact_content(doc: Document) -> str:
    """The text as exact dedup compares it: two documents are exact duplicates when these strings are equal.

    What does not count as a difference: Unicode compatibility variants (NFKC: full-width "Ａ１" = "A1", ligatures),
    letter case (casefold: "HbA1c" = "hba1c", "ß" = "ss") and whitespace (any run of spaces, tabs or newlines is
    one space; leading and trailing whitespace is ignored). Everything else does: punctuation, digits, diacritics,
    word order. Looser matches are near-duplicates, for MinHash.

    The `-> str` annotation is read by datatrove (ExactDedupSignature inspects the getter's return annotation to
    choose a str or bytes hash function); with postponed annotations it sees the string "str", which selects the
    same str hash. This function is module-level so that the config pickles by reference.
    """
    return " ".join(unicodedata.normalize("NFKC", doc.text).casefold().split())


def exact_config() -> ExactDedupConfig:
    """The ExactDedupConfig for every exact-dedup stage (signature, finder, filter): they must all use the same."""
    from datatrove.pipeline.dedup.exact_dedup import ExactDedupConfig

    return ExactDedupConfig(content_getter=exact_content)


def _check_int(name: str, value: object, low: int, high: int | None = None) -> None:
    # bool is an int subclass: `num_buckets: true` in a config file is a mistake, not 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ConfigError(f"dedup settings: {name} must be an integer {bounds}, found {value!r}")


@dataclass(frozen=True)
class DedupSettings:
    """What to deduplicate and the MinHash parameters (datatrove's defaults, which the measurements above support).

    exact: remove exact duplicates (see exact_content); near: remove MinHash near-duplicates.
    n_grams: tokens per shingle (words, or CJK characters). num_buckets x hashes_per_bucket: the LSH bands;
    documents are near-duplicates when all hashes of one bucket agree, which happens for documents with Jaccard
    similarity s with probability `candidate_probability(s)` (about 50% at `threshold`, 0.72 by default).
    seed: the MinHash permutations; it must be the same in every stage and every worker.
    """

    exact: bool = True
    near: bool = True
    n_grams: int = 5
    num_buckets: int = 14
    hashes_per_bucket: int = 8
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("exact", "near"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"dedup settings: {name} must be true or false, found {getattr(self, name)!r}")
        _check_int("n_grams", self.n_grams, 1, 100)
        _check_int("num_buckets", self.num_buckets, 1, 1000)
        _check_int("hashes_per_bucket", self.hashes_per_bucket, 1, 1000)
        _check_int("seed", self.seed, 0, 2**32 - 1)  # numpy's RandomState accepts no other seed

    @property
    def threshold(self) -> float:
        """The Jaccard similarity where the LSH S-curve is steepest: (1/num_buckets)^(1/hashes_per_bucket)."""
        return float((1 / self.num_buckets) ** (1 / self.hashes_per_bucket))

    def candidate_probability(self, similarity: float) -> float:
        """Probability that two documents with this Jaccard similarity of their shingle sets are matched."""
        return float(1 - (1 - similarity**self.hashes_per_bucket) ** self.num_buckets)

    def minhash_config(self) -> MinhashConfig:
        from datatrove.pipeline.dedup.minhash import MinhashConfig

        return MinhashConfig(n_grams=self.n_grams, num_buckets=self.num_buckets,
                             hashes_per_bucket=self.hashes_per_bucket, seed=self.seed)


def script_tokens(text: str) -> list[str]:
    """Characters of scripts written without spaces one by one; every other run of non-space characters."""
    return _SCRIPT_TOKEN.findall(text)


def _language_row(language: object) -> Any:
    """The mmed.langs row for a language code such as "zh", "pt-BR" or "ZH_hans"; None when unknown."""
    if not isinstance(language, str) or not language:
        return None
    return LANGUAGES.get(language.replace("_", "-").split("-", 1)[0].lower())


def tokenizer_for(language: object) -> str:
    """WORDS (split at whitespace) for a known space-delimited language, else SCRIPT (see script_tokens)."""
    row = _language_row(language)
    return WORDS if row is not None and row.space_delimited else SCRIPT


# Combining marks that are accents or vowel pointing (safe to drop: "é" ~ "e", vocalised ~ plain Arabic): the
# combining diacritics blocks, Hebrew points, Arabic harakat. Other marks are letters of their script: Devanagari
# and other Brahmic vowel signs and viramas, Thai vowels. datatrove drops every mark (category Mn), which turns
# Hindi "मधुमेह" into "मधमह" and Japanese "が" into "か"; here those are kept.
_ACCENT_MARKS = ((0x0300, 0x036F), (0x0483, 0x0489), (0x0591, 0x05C7), (0x0610, 0x061A), (0x064B, 0x065F),
                 (0x0670, 0x0670), (0x06D6, 0x06ED), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
                 (0xFE20, 0xFE2F))


# str.translate deletes in C: several times faster than testing each character in Python.
_DROP_ACCENTS = {code: None for lo, hi in _ACCENT_MARKS for code in range(lo, hi + 1)
                 if unicodedata.category(chr(code)) == "Mn"}


def strip_accents(text: str) -> str:
    """NFD, drop the accent marks (_ACCENT_MARKS), NFC: Brahmic vowel signs and kana voicing marks stay, composed
    ("が" stays "が"; datatrove's step makes it "か")."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).translate(_DROP_ACCENTS))


def normalize_for_shingles(text: str, norm_config: TextNormConfig | None = None) -> str:
    """NFKC, then datatrove's simplify_text (the normalisation its own MinHash step applies), except that its
    diacritic step drops accents only (strip_accents), never the vowel signs of Brahmic scripts."""
    import dataclasses

    from datatrove.utils.text import DEF_TEXT_NORM_CONFIG, simplify_text

    config = norm_config or DEF_TEXT_NORM_CONFIG
    simple = simplify_text(unicodedata.normalize("NFKC", text),
                           dataclasses.replace(config, norm_unicode_diacritics=False))
    return strip_accents(simple) if config.norm_unicode_diacritics else simple


def shingle_tokens(text: str, language: object, norm_config: TextNormConfig | None = None) -> list[str]:
    """The tokens whose n-grams are a document's shingles, for a document in `language` (None: unknown)."""
    simple = normalize_for_shingles(text, norm_config)
    return simple.split() if tokenizer_for(language) == WORDS else script_tokens(simple)


@lru_cache(maxsize=1)
def _classes() -> tuple[type, type]:
    """Build the datatrove classes on first use, so importing this module does not import datatrove."""
    import numpy as np
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.utils.text import ngrams
    from datatrove.utils.word_tokenizers import WhitespaceTokenizer

    class ScriptTokenizer(WhitespaceTokenizer):
        """A datatrove word tokenizer that needs no spaCy: see script_tokens. Sentences as WhitespaceTokenizer."""

        def word_tokenize(self, text: str) -> list[str]:
            return script_tokens(text)

    class LanguageAwareMinhashSignature(MinhashDedupSignature):
        """MinHash signatures (datatrove stage 1) with shingles chosen per document by its `language` metadata.

        Use it in place of MinhashDedupSignature, with the same MinhashConfig as the bucket and cluster stages.
        Stats: documents per tokenizer (`tokenizer_words`, `tokenizer_script`) and `no_shingles` for documents
        with fewer than n_grams tokens, which get no signature and so are never near-duplicates.
        """

        name = "🎯 MinHash stage 1 (language-aware)"

        def __init__(self, output_folder: Any, config: MinhashConfig | None = None, *,
                     skip_existing_sigs: bool = False) -> None:
            # A tokenizer instance instead of a language code: datatrove's tokenizers for en, zh, ja... need spaCy
            # at construction. It is only used by datatrove code paths we replace (get_shingles below).
            super().__init__(output_folder, config, language=_script_tokenizer(),
                             skip_existing_sigs=skip_existing_sigs)
            self._doc_language: object = None

        def run(self, data: Any, rank: int = 0, world_size: int = 1) -> Any:
            # datatrove's run() computes get_shingles(doc.text) right after taking each document from `data`, so
            # noting each document's language as it passes is enough: the rest of run() is datatrove's, unchanged.
            return super().run(self._note_languages(data), rank, world_size)

        def _note_languages(self, data: Any) -> Iterator[Document]:
            for doc in data:
                self._doc_language = doc.metadata.get("language")
                yield doc

        def get_shingles(self, text: str) -> Any:
            # Outside run() the language is the last document's (None before any: the script tokenizer).
            mode = tokenizer_for(self._doc_language)
            self.stat_update(f"tokenizer_{mode}")
            tokens = shingle_tokens(text, self._doc_language, self.config.norm_config)
            shingles = np.fromiter((self._hash_func(" ".join(gram)) for gram in ngrams(tokens, self.config.n_grams)),
                                   dtype=np.uint64).reshape((-1, 1))
            if shingles.size == 0:
                self.stat_update("no_shingles")
            return shingles

    for cls in (ScriptTokenizer, LanguageAwareMinhashSignature):  # pickled by reference as mmed.corpus.dedup.<name>
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return ScriptTokenizer, LanguageAwareMinhashSignature


@lru_cache(maxsize=1)
def _script_tokenizer() -> Any:
    # One instance per process: datatrove's load_word_tokenizer keeps every tokenizer instance it is given.
    return _classes()[0]()


def __getattr__(name: str) -> Any:
    if name == "ScriptTokenizer":
        return _classes()[0]
    if name == "LanguageAwareMinhashSignature":
        return _classes()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
