"""Tokens for Chinese search: words, CJK unigrams and bigrams, their pinyin, and ASCII words.

Documents and queries are tokenised by the same rules, so that each engine only needs a plain
inverted index (FTS5 `unicode61`, PostgreSQL `simple` tsvector): both index every 1- and
2-character word, which trigram indexes silently miss (STACK-NOTES).

A query is read as words (issue 13): each CJK run is segmented with jieba over the registry's
own dictionary (words.json: districts and their short forms, categories, course words,
synonyms), and a query matches when each word matches (a word also matches its synonyms).
Within a word, substrings still match (a 3+ character word is the phrase of its bigrams), so
segmenting a query differently from a document never loses a match. Pinyin initials are
indexed per whole word (篮球 → lq, 东丽区 → dlq) and per pair of adjacent words, never per
bigram, so `lq` no longer matches 东丽区 or 杨柳青.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from markupsafe import Markup, escape
from pypinyin import Style, lazy_pinyin

from registry.reference import DISTRICTS, short_name

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEGMENT = re.compile(f"[{_CJK}]+|[a-z0-9]+")

# Every toneless syllable pypinyin knows (generated once from its character dictionary).
_SYLLABLE_TEXT = """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu
    ca cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou chu
    chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de
    den deng di dian diao die din ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang
    fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan
    guang gui gun guo ha hai han hang hao he hei hen heng hm hong hou hu hua huai huan huang hui
    hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke
    ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia
    lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve m ma mai man mang mao me
    mei men meng mi mian miao mie min ming miu mo mou mu n na nai nan nang nao ne nei nen neng ni
    nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei
    pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu
    quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao
    se sen seng sha shai shan shang shao she shen sheng shi shou shu shua shuai shuan shuang shui
    shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting
    tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wong wu xi xia xian xiang xiao
    xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue
    yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhen zheng zhi zhong zhou
    zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo"""
SYLLABLES = frozenset(_SYLLABLE_TEXT.split())
_LONGEST = max(map(len, SYLLABLES))

# A query: AND of clauses; a clause: OR of alternatives; an alternative: AND of tokens.
Query = list[list[list[str]]]


def normalise(text: str) -> str:
    """Full-width letters and digits to ASCII, lower case (NFKC keeps CJK as it is)."""
    return unicodedata.normalize("NFKC", text).lower()


@cache
def _opencc() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional characters to simplified (queries only: documents are written simplified)."""
    if text.isascii():
        return text
    return str(_opencc().convert(text))


@dataclass(frozen=True)
class Dictionary:
    """The registry's words (words.json): segmentation words, district short forms, synonyms."""

    words: tuple[str, ...]
    districts: dict[str, tuple[str, ...]]  # full name → short forms (registry.reference)
    synonyms: dict[str, tuple[str, ...]]


@cache
def dictionary() -> Dictionary:
    """The dictionary shipped in this package."""
    data = json.loads(resources.files(__package__).joinpath("words.json").read_text("utf-8"))
    return Dictionary(
        words=tuple(data["words"]),
        districts={name: (short_name(name),) for _, name, _ in DISTRICTS},
        synonyms={k: tuple(v) for k, v in data["synonyms"].items()},
    )


@cache
def _segmenter() -> Any:
    # A tokenizer of our own over our own words: jieba's 5 MB default dictionary (about
    # 100 MB once loaded) is never read. Unknown runs are grouped by jieba's small HMM.
    import jieba

    words = dictionary().words
    lines = "".join(f"{word} {100 * len(word)}\n" for word in words)
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(io.BytesIO(lines.encode()))
    tokenizer.initialized = True
    return tokenizer


@lru_cache(maxsize=65536)
def words_of(run: str) -> tuple[str, ...]:
    """A CJK run cut into words."""
    if len(run) <= 1:
        return (run,) if run else ()
    return tuple(w for w in _segmenter().cut(run, HMM=True) if w)


def segments(text: str) -> list[str]:
    """The CJK runs and ASCII words of a text, in order."""
    return _SEGMENT.findall(normalise(text))


def is_cjk(segment: str) -> bool:
    """Whether a segment is a run of CJK characters."""
    return not segment.isascii()


@lru_cache(maxsize=65536)
def run_pinyin(run: str) -> tuple[str, ...]:
    """One toneless syllable per character; pypinyin's phrases pick polyphones (长江 → chang)."""
    syllables = lazy_pinyin(run, style=Style.NORMAL, v_to_u=False, errors="default")
    # Rare characters without pinyin come back as they are: keep one entry per character.
    return tuple(syllables) if len(syllables) == len(run) else tuple(lazy_pinyin(list(run)))


def _run_tokens(run: str) -> Iterable[str]:
    syllables = run_pinyin(run)
    for index, char in enumerate(run):
        yield char
        if syllables[index].isascii():
            yield syllables[index]
        if index + 1 < len(run):
            yield run[index : index + 2]
            pair = syllables[index : index + 2]
            if all(s.isascii() and s.isalpha() for s in pair):
                yield pair[0] + pair[1]


def _pinyin_of(word: str) -> tuple[str, ...] | None:
    syllables = run_pinyin(word)
    return syllables if all(s.isascii() and s.isalpha() for s in syllables) else None


def word_pinyin(word: str) -> str | None:
    """A CJK word's toneless pinyin, syllables joined (篮球 → lanqiu), or None."""
    syllables = _pinyin_of(word)
    return "".join(syllables) if syllables else None


def query_pinyin(text: str) -> str:
    """A query's words in pinyin (篮球 → lanqiu), for showing a suggestion."""
    parts = []
    for segment in segments(text):
        parts.append(word_pinyin(segment) or segment if is_cjk(segment) else segment)
    return " ".join(parts)


def initials(word: str) -> str | None:
    """A CJK word's pinyin initials (篮球 → lq), or None."""
    syllables = _pinyin_of(word)
    return "".join(s[0] for s in syllables) if syllables else None


def _word_tokens(run: str) -> Iterable[str]:
    # Each word, its whole pinyin and initials; the initials of each pair of adjacent words
    # (篮球俱乐部 → lqjlb). Never initials of a bigram that straddles two words.
    words = words_of(run)
    for index, word in enumerate(words):
        yield word
        if len(word) > 1 and (syllables := _pinyin_of(word)):
            yield "".join(syllables)
            yield "".join(s[0] for s in syllables)
        if index + 1 < len(words):
            pair = initials(word + words[index + 1])
            if pair:
                yield pair


def _district_tokens(district_name: str) -> Iterable[str]:
    forms = (district_name, *dictionary().districts.get(district_name, ()))
    for form in forms:
        yield form
        if syllables := _pinyin_of(form):
            yield "".join(syllables)
            yield "".join(s[0] for s in syllables)


def _collect(seen: dict[str, None], texts: Iterable[str], partial: bool, whole: bool) -> None:
    for text in texts:
        for segment in segments(text):
            if not is_cjk(segment):
                seen.setdefault(segment, None)
                continue
            if partial:
                for token in _run_tokens(segment):
                    seen.setdefault(token, None)
            if whole:
                for token in _word_tokens(segment):
                    seen.setdefault(token, None)


def document_tokens(*texts: str) -> str:
    """The space-separated token string of a document (distinct tokens, first-seen order)."""
    seen: dict[str, None] = {}
    _collect(seen, texts, partial=True, whole=True)
    return " ".join(seen)


@dataclass(frozen=True)
class EntryTokens:
    """The three token columns of a whitelist entry, from broadest to narrowest."""

    search: str  # everything: name, courses, outlines, description, district (all matches)
    name: str  # name and course names, partial matches included (rank tier 1)
    words: str  # whole words of the name and course names only (rank tier 0)


def entry_tokens(
    name: str, courses: list[str], outlines: list[str], description: str, district_name: str
) -> EntryTokens:
    """The token columns of one whitelist entry."""
    words: dict[str, None] = {}
    _collect(words, [name, *courses], partial=False, whole=True)
    named = dict(words)
    _collect(named, [name, *courses], partial=True, whole=False)
    everything = dict(named)
    _collect(everything, [*outlines, description], partial=True, whole=True)
    # The district's name and short form (南开区, 南开): "南开" finds every listing there.
    for token in _district_tokens(district_name):
        everything.setdefault(token, None)
    return EntryTokens(" ".join(everything), " ".join(named), " ".join(words))


def split_syllables(word: str) -> list[str] | None:
    """A run of letters as pinyin syllables (fewest syllables wins), or None."""
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - _LONGEST), end):
            head = best[start]
            if head is not None and word[start:end] in SYLLABLES:
                candidate = [*head, word[start:end]]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(word)]


def _pairs(items: list[str]) -> list[str]:
    return [items[i] + items[i + 1] for i in range(len(items) - 1)] or items[:1]


def _literal(word: str) -> list[list[str]]:
    # 1 character → the unigram; 2 → the bigram; 3+ → all overlapping bigrams (AND), or the
    # whole word as one token (only whole-word columns hold it).
    if not is_cjk(word):
        return [[word]]
    if len(word) <= 2:
        return [[word]]
    return [_pairs(list(word)), [word]]


def synonyms(word: str) -> list[str]:
    """The words a query word also matches (舞蹈 → 中国舞, 街舞, …), nearest first."""
    table = dictionary().synonyms
    found: dict[str, None] = {}
    for synonym in table.get(word, ()):
        found.setdefault(synonym, None)
        for further in table.get(synonym, ()):
            found.setdefault(further, None)
    found.pop(word, None)
    return list(found)


def _cjk_clause(word: str) -> list[list[str]]:
    alternatives = _literal(word)
    for synonym in synonyms(word):
        for alternative in _literal(synonym):
            if alternative not in alternatives:
                alternatives.append(alternative)
    return alternatives


@cache
def _pinyin_words() -> dict[str, str]:
    # Dictionary words by their whole pinyin (wudao → 舞蹈): synonyms apply to pinyin too.
    found: dict[str, str] = {}
    for word in dictionary().words:
        pinyin = word_pinyin(word)
        if pinyin and len(word) > 1:
            found.setdefault(pinyin, word)
    return found


def _ascii_clause(words: list[str]) -> list[list[str]]:
    letters = "".join(words)
    syllables = [s for w in words for s in (split_syllables(w) or [w])]
    pinyin = letters.isalpha() and all(s in SYLLABLES for s in syllables) and len(syllables) > 1
    # Syllables typed apart mean one word (lan qiu → 篮球), not two syllables anywhere.
    alternatives: list[list[str]] = [] if pinyin and len(words) > 1 else [list(words)]
    if pinyin:
        alternatives.append(_pairs(syllables))
        if len(syllables) > 2:
            alternatives.append([letters])  # the whole word's pinyin (julebu)
        for synonym in synonyms(_pinyin_words().get(letters, "")):
            alternatives.extend(_literal(synonym))
    unique: list[list[str]] = []
    for alternative in alternatives:
        if alternative not in unique:
            unique.append(alternative)
    return unique


def _distance(a: str, b: str) -> int:
    """Edits between two words, two neighbours typed the wrong way round counting as one
    (lanqui → lanqiu), as people mistype (the optimal string alignment distance)."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            rows[i][j] = min(
                rows[i - 1][j] + 1,
                rows[i][j - 1] + 1,
                rows[i - 1][j - 1] + (a[i - 1] != b[j - 1]),
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def suggest(word: str) -> str | None:
    """The dictionary word whose pinyin is nearest a mistyped pinyin word (lanqu → 篮球)."""
    if not (word.isascii() and word.isalpha()) or len(word) < 4:
        return None
    known = _pinyin_words()
    if word in known:
        return None
    limit = 1 if len(word) <= 6 else 2
    best: tuple[int, str] | None = None
    for pinyin, chinese in known.items():
        if abs(len(pinyin) - len(word)) > limit:
            continue
        distance = _distance(word, pinyin)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, chinese)
    return best[1] if best else None


@dataclass(frozen=True)
class Word:
    """One word of a query as read, and the token alternatives that match it."""

    text: str
    clause: list[list[str]]


def read_query(text: str) -> list[Word]:
    """A query as words: traditional to simplified, CJK runs segmented, pinyin syllables
    typed apart (lan qiu) joined into one word."""
    words: list[Word] = []
    pending: list[str] = []
    for segment in [*segments(simplified(text)), ""]:
        if segment and not is_cjk(segment) and segment in SYLLABLES:
            pending.append(segment)
            continue
        if pending:
            words.append(Word("".join(pending), _ascii_clause(pending)))
            pending = []
        if not segment:
            continue
        if is_cjk(segment):
            words.extend(Word(w, _cjk_clause(w)) for w in words_of(segment))
        else:
            words.append(Word(segment, _ascii_clause([segment])))
    # A word typed twice is one condition.
    unique: dict[str, Word] = {}
    for word in words:
        unique.setdefault(word.text, word)
    return list(unique.values())


def parse_query(text: str) -> Query:
    """A query's clauses, one per word (see read_query)."""
    return [word.clause for word in read_query(text)]


def name_sort_key(name: str) -> str:
    """Toneless pinyin, syllable by syllable, then the name itself as the tiebreak."""
    parts: list[str] = []
    for segment in re.findall(f"[{_CJK}]+|[^{_CJK}]+", normalise(name)):
        if is_cjk(segment):
            parts.extend(run_pinyin(segment))
        elif segment.strip():
            parts.append(segment.strip())
    return (" ".join(parts)[:380] + "\x1f" + name)[:500]


class _Marker:
    """What one query marks in a text, prepared once per query instead of once per text."""

    def __init__(self, query: tuple[tuple[tuple[str, ...], ...], ...]) -> None:
        tokens = {token for clause in query for alt in clause for token in alt if token}
        self.words = {token for token in tokens if token.isascii()}
        # At each position the longest token wins; shorter ones there end inside its span.
        longest_first = sorted(tokens, key=len, reverse=True)
        self.literal = (
            re.compile("(?=(" + "|".join(map(re.escape, longest_first)) + "))") if tokens else None
        )

    def spans(self, text: str) -> list[tuple[int, int]]:
        normalised = normalise(text)
        lowered = normalised if len(normalised) == len(text) else text.lower()
        spans: list[tuple[int, int]] = []
        if self.literal is not None:  # literal matches: CJK words and ASCII words
            for match in self.literal.finditer(lowered):
                spans.append((match.start(), match.start() + len(match.group(1))))
        if not self.words:  # pinyin can only match ASCII query words
            return spans
        for match in re.finditer(f"[{_CJK}]+", text):
            run, syllables = match.group(), run_pinyin(match.group())
            for i in range(len(run)):
                if syllables[i] in self.words and len(syllables[i]) > 1:
                    spans.append((match.start() + i, match.start() + i + 1))
                pair = syllables[i : i + 2]
                if len(pair) == 2 and "".join(pair) in self.words:
                    spans.append((match.start() + i, match.start() + i + 2))
            # Whole words by their pinyin or initials, alone or with the next word, as
            # documents index them (lq marks 篮球, never the 丽区 of 东丽区).
            words, start = words_of(run), match.start()
            for index, word in enumerate(words):
                end = start + len(word)
                if len(word) > 1 and ({word_pinyin(word), initials(word)} & self.words):
                    spans.append((start, end))
                if index + 1 < len(words) and initials(word + words[index + 1]) in self.words:
                    spans.append((start, end + len(words[index + 1])))
                start = end
        return spans


@lru_cache(maxsize=256)
def _marker(query: tuple[tuple[tuple[str, ...], ...], ...]) -> _Marker:
    return _Marker(query)


def highlight(text: str, query: Query) -> Markup:
    """The text, HTML-escaped, with the words the query matched wrapped in <mark>."""
    frozen = tuple(tuple(tuple(alt) for alt in clause) for clause in query)
    return _highlight(text, frozen)


# Course names repeat across thousands of providers ("少儿篮球"): a page marks the same few
# texts again and again. The cache holds markup of text, never which providers are listed.
@lru_cache(maxsize=4096)
def _highlight(text: str, query: tuple[tuple[tuple[str, ...], ...], ...]) -> Markup:
    spans = sorted(_marker(query).spans(text)) if query else []
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out.append(escape(text[position:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        position = end
    out.append(escape(text[position:]))
    return Markup("").join(out)
