"""Search terms for the service catalog: character bigrams for Chinese, words for English.

Chinese is written without spaces, and a dictionary-based word segmenter
(jieba and the like) is a heavy dependency whose dictionary would still miss
government vocabulary. Bigrams (二元切分) need nothing: "开办企业" becomes
开办 / 办企 / 企业, and an item whose name or keywords contain 企业 shares a
term with it. The index (``SearchTerm`` rows) and the query are split the
same way in Python, so matching is an exact lookup on an indexed column and
works identically on SQLite and PostgreSQL (ADR 0016).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# CJK Unified Ideographs (with extension A) and the compatibility block.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9a-z]+")
_STOP_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"})
MAX_TERM_LENGTH = 40

# How much a term found in each field counts when ranking.
NAME_WEIGHT = 4
KEYWORD_WEIGHT = 3
CONDITIONS_WEIGHT = 1


def _normalize(text: str) -> str:
    # NFKC folds full-width letters and digits (ＡＢＣ１２３) into ASCII.
    return unicodedata.normalize("NFKC", str(text or "")).casefold()


def _word(word: str) -> str:
    # A crude English plural fold: "registrations" finds "registration".
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:MAX_TERM_LENGTH]


def query_terms(text: str) -> list[str]:
    """Return the distinct terms of a search query, in order.

    Each run of Chinese characters gives its bigrams (a single character gives
    itself); each English word or number gives itself, stop words excepted.
    """
    normalized = _normalize(text)
    found: list[str] = []
    for run in _CJK_RUN.findall(normalized):
        found.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    found.extend(_word(word) for word in _WORD.findall(normalized) if word not in _STOP_WORDS)
    return list(dict.fromkeys(found))


def index_terms(text: str) -> set[str]:
    """Return the terms ``text`` is found by: its query terms plus every single Chinese character."""
    terms = set(query_terms(text))
    for run in _CJK_RUN.findall(_normalize(text)):
        terms.update(run)
    return terms


def weighted_terms(fields: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Return each term of the ``(text, weight)`` fields with the highest weight it occurs with."""
    weights: dict[str, int] = {}
    for text, weight in fields:
        for term in index_terms(text):
            weights[term] = max(weight, weights.get(term, 0))
    return weights


def compact(text: str) -> str:
    """Return ``text`` normalized without spaces (for the whole-phrase bonus)."""
    return "".join(_normalize(text).split())
