"""Words that give away school-subject tutoring (the policy admits non-subject training only)."""

from __future__ import annotations

# Words that show a course teaches school-subject content (the subjects themselves, then typical
# tutoring words). Bare 阅读/诵读/科学/思维 are allowed activities, so only their subject forms
# (阅读理解, 数学思维) are listed; 教材/几何/复习 are left out for their everyday uses (等级教材,
# 几何体, 复习动作).
SUBJECT_WORDS: tuple[str, ...] = (
    "语文", "数学", "英语", "英文", "外语", "日语", "俄语", "物理", "化学", "生物", "历史", "地理",
    "政治", "道德与法治",
    "作文", "写作", "阅读理解", "文言文", "拼音", "识字",
    "奥数", "数学思维", "口算", "速算", "应用题",
    "新概念英语", "英语口语", "自然拼读", "音标", "单词", "语法",
    "同步辅导", "同步练习", "同步课程", "作业辅导", "学科辅导", "补习", "补课", "培优", "提分",
    "刷题", "真题", "考点", "应试", "考前", "期中考试", "期末考试", "中考", "高考", "小升初",
    "幼小衔接", "课本", "新课", "预习",
)  # fmt: skip
# Phrases that contain a subject word but describe an allowed activity: stories of history are
# civics and heritage (红色文化, 非遗), 生物多样性 is nature study, a 新课程 is just a new course.
NOT_SUBJECT_PHRASES: tuple[str, ...] = (
    "历史故事", "历史文化", "历史渊源", "历史悠久", "生物多样性", "地理位置", "新课程",
)  # fmt: skip
_LONGEST_FIRST = sorted(SUBJECT_WORDS, key=len, reverse=True)


def subject_words(text: str) -> list[str]:
    """The subject-tutoring words in `text`, longest match first, each once, in reading order."""
    for phrase in NOT_SUBJECT_PHRASES:
        text = text.replace(phrase, "\0" * len(phrase))
    found: list[str] = []
    position = 0
    while position < len(text):
        word = next((w for w in _LONGEST_FIRST if text.startswith(w, position)), None)
        if word is None:
            position += 1
            continue
        if word not in found:
            found.append(word)
        position += len(word)
    return found
