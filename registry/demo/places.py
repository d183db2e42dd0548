"""Tianjin places for demo data: roads and towns per district, addresses and school names."""

from __future__ import annotations

import random

# Relative number of providers per district: the inner six and Binhai New Area have most.
DISTRICT_WEIGHTS: dict[str, float] = {
    "120101": 2.2, "120102": 2.4, "120103": 3.2, "120104": 3.4, "120105": 2.4, "120106": 1.8,
    "120110": 1.2, "120111": 1.5, "120112": 1.2, "120113": 1.3, "120114": 1.3, "120115": 0.8,
    "120116": 4.0, "120117": 0.6, "120118": 0.8, "120119": 0.8,
}  # fmt: skip

ROADS: dict[str, tuple[str, ...]] = {
    "120101": ("南京路", "滨江道", "岳阳道", "成都道", "营口道", "西康路", "哈密道", "曲阜道"),
    "120102": ("津塘路", "十一经路", "六纬路", "华昌大街", "卫国道", "新开路", "大直沽中路"),
    "120103": ("友谊路", "围堤道", "解放南路", "大沽南路", "马场道", "琼州道", "黑牛城道"),
    "120104": ("鞍山西道", "白堤路", "复康路", "黄河道", "长江道", "西湖道", "红旗路"),
    "120105": ("中山路", "金钟河大街", "光复道", "昆纬路", "江都路", "狮子林大街", "志成道"),
    "120106": ("芥园道", "咸阳北路", "光荣道", "西青道", "勤俭道", "北马路", "湘潭道"),
    "120110": ("津塘公路", "先锋路", "东丽大道", "跃进路", "华明大道", "成林道"),
    "120111": ("柳口路", "中北大道", "津静公路", "赛达大道", "丽江道", "精武路"),
    "120112": ("津沽公路", "雅润路", "卫津南路", "咸葛路", "微山南路", "雅观路"),
    "120113": ("北辰道", "京津公路", "龙门东路", "辰昌路", "果园南道", "北仓道"),
    "120114": ("泉州路", "雍阳西道", "京津公路", "翠亨路", "前进道", "振华路"),
    "120115": ("南三路", "建设路", "广川路", "钰华街", "开元路", "南关大街"),
    "120116": ("洞庭路", "福州道", "杭州道", "中央大道", "世纪大道", "黄海路", "新港二号路"),
    "120117": ("光明路", "新华道", "商业街", "沿河路", "振兴路"),
    "120118": ("胜利南路", "迎宾大道", "东方红路", "团泊大道", "华康街", "德馨路"),
    "120119": ("人民西大街", "渔阳北路", "兴华大街", "文昌街", "中昌北大道", "迎宾路"),
}

# Towns and neighbourhoods that suburban schools are named after.
TOWNS: dict[str, tuple[str, ...]] = {
    "120110": ("张贵庄", "军粮城", "华明", "金桥", "新立", "无瑕", "金钟", "万新"),
    "120111": ("杨柳青", "中北", "大寺", "李七庄", "张家窝", "精武", "辛口", "王稳庄"),
    "120112": ("咸水沽", "双港", "八里台", "北闸口", "小站", "葛沽", "辛庄", "双桥河"),
    "120113": ("果园新村", "天穆", "北仓", "宜兴埠", "西堤头", "双街", "集贤里", "小淀"),
    "120114": ("杨村", "下朱庄", "东蒲洼", "黄庄", "徐官屯", "王庆坨", "崔黄口", "大良"),
    "120115": ("宝平", "海滨", "钰华", "口东", "大口屯", "牛家牌", "林亭口", "霍各庄"),
    "120116": ("塘沽", "汉沽", "大港", "新港", "泰达", "新北", "胡家园", "新城"),
    "120117": ("芦台", "桥北", "潘庄", "丰台", "东棘坨", "七里海", "板桥", "造甲城"),
    "120118": ("静海", "大邱庄", "团泊", "唐官屯", "独流", "陈官屯", "子牙", "王口"),
    "120119": ("渔阳", "下营", "邦均", "马伸桥", "别山", "上仓", "官庄", "穿芳峪"),
}

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 45 → 四十五, 101 → 一百零一 (for school numbers up to 199)."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + _DIGITS[rest] if rest < 10 else chinese_number(rest))
    if 10 <= rest < 20:
        tail = "一" + tail
    return _DIGITS[n // 100] + "百" + tail


def street_address(rng: random.Random, district_code: str, district_name: str) -> str:
    """An office address on a real road of the district."""
    road = rng.choice(ROADS[district_code])
    number = rng.randint(1, 399)
    suffix = rng.choice(
        (
            "",
            f"{rng.randint(1, 5)}层",
            f"{rng.choice('ABCD')}座{rng.randint(2, 18)}层",
            f"{rng.randint(1, 12)}号楼底商",
            f"文化活动中心{rng.randint(2, 4)}楼",
        )
    )
    return f"天津市{district_name}{road}{number}号{suffix}"


def home_address(rng: random.Random, district_code: str, district_name: str) -> str:
    """A residential address in the district."""
    road = rng.choice(ROADS[district_code])
    return (
        f"天津市{district_name}{road}{rng.randint(1, 199)}号"
        f"{rng.randint(1, 24)}号楼{rng.randint(1, 6)}门{rng.randint(1, 18)}0{rng.randint(1, 4)}"
    )


def _primary_name(rng: random.Random, code: str, name: str) -> str:
    towns = TOWNS.get(code)
    if towns is None:
        pattern = rng.random()
        if pattern < 0.6:
            return f"天津市{name}{rng.choice(ROADS[code])}小学"
        if pattern < 0.85:
            return f"天津市{name}第{chinese_number(rng.randint(1, 12))}中心小学"
        return f"天津市{name}{rng.choice(('实验', '师范附属', '逸阳', '育才'))}小学"
    town = rng.choice(towns)
    pattern = rng.random()
    if pattern < 0.45:
        return f"天津市{name}{town}第{chinese_number(rng.randint(1, 8))}小学"
    if pattern < 0.75:
        return f"天津市{name}{town}中心小学"
    if pattern < 0.9:
        return f"天津市{name}{town}小学"
    return f"天津市{name}{rng.choice(('实验', '育才', '英华'))}小学"


def _middle_name(rng: random.Random, code: str, name: str, numbers: list[int]) -> str:
    towns = TOWNS.get(code)
    if towns is None:
        # City-numbered middle schools are in the inner districts ("天津市第二十中学").
        if numbers and rng.random() < 0.75:
            return f"天津市第{chinese_number(numbers.pop())}中学"
        return f"天津市{name}{rng.choice(ROADS[code])}中学"
    town = rng.choice(towns)
    if rng.random() < 0.6:
        return f"天津市{name}{town}第{chinese_number(rng.randint(1, 6))}中学"
    return f"天津市{name}{town}中学"


def school_names(
    rng: random.Random, districts: list[tuple[str, str]]
) -> list[tuple[str, str, str]]:
    """15-25 schools per district, about two thirds primary: (district code, name, level)."""
    numbers = list(range(1, 110))
    rng.shuffle(numbers)
    seen: set[str] = set()
    schools: list[tuple[str, str, str]] = []
    for code, name in districts:
        count = rng.randint(15, 25)
        made = 0
        for _ in range(count * 50):
            if made == count:
                break
            level = "primary" if rng.random() < 0.65 else "middle"
            school = (
                _primary_name(rng, code, name)
                if level == "primary"
                else _middle_name(rng, code, name, numbers)
            )
            if school in seen:
                continue
            seen.add(school)
            schools.append((code, school, level))
            made += 1
        else:
            raise RuntimeError(f"ran out of school names for district {code}")
    return schools
