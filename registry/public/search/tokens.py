"""Tokens for Chinese search: CJK unigrams and bigrams, their pinyin, and ASCII words.

Documents and queries are tokenised by the same rules, so that each engine only needs a plain
inverted index (FTS5 `unicode61`, PostgreSQL `simple` tsvector): both index every 1- and
2-character word, which trigram indexes silently miss (STACK-NOTES).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from markupsafe import Markup, escape
from pypinyin import Style, lazy_pinyin

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
                yield pair[0][0] + pair[1][0]


def document_tokens(*texts: str) -> str:
    """The space-separated token string of a document (distinct tokens, first-seen order)."""
    seen: dict[str, None] = {}
    for text in texts:
        for segment in segments(text):
            for token in _run_tokens(segment) if is_cjk(segment) else (segment,):
                seen.setdefault(token, None)
    return " ".join(seen)


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


def _cjk_clause(run: str) -> list[list[str]]:
    # 1 character → the unigram; 2 → the bigram; 3+ → all overlapping bigrams (AND).
    return [[run] if len(run) <= 2 else _pairs(list(run))]


def _ascii_clause(words: list[str]) -> list[list[str]]:
    letters = "".join(words)
    syllables = [s for w in words for s in (split_syllables(w) or [w])]
    pinyin = letters.isalpha() and all(s in SYLLABLES for s in syllables) and len(syllables) > 1
    # Syllables typed apart mean one word (lan qiu → 篮球), not two syllables anywhere.
    alternatives: list[list[str]] = [] if pinyin and len(words) > 1 else [list(words)]
    if pinyin:
        alternatives.append(_pairs(syllables))
    if len(words) == 1 and letters.isalpha() and 3 <= len(letters) <= 8 and not pinyin:
        alternatives.append(_pairs(list(letters)))  # initials of a longer word: lqjlb
    unique: list[list[str]] = []
    for alternative in alternatives:
        if alternative not in unique:
            unique.append(alternative)
    return unique


def parse_query(text: str) -> Query:
    """A query's clauses; consecutive pinyin syllables typed apart (lan qiu) form one clause."""
    clauses: Query = []
    pending: list[str] = []
    for segment in [*segments(text), ""]:
        if segment and not is_cjk(segment) and segment in SYLLABLES:
            pending.append(segment)
            continue
        if pending:
            clauses.append(_ascii_clause(pending))
            pending = []
        if not segment:
            continue
        clauses.append(_cjk_clause(segment) if is_cjk(segment) else _ascii_clause([segment]))
    return clauses


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
                if len(pair) == 2 and ({"".join(pair), pair[0][:1] + pair[1][:1]} & self.words):
                    spans.append((match.start() + i, match.start() + i + 2))
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
