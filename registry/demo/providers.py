"""Demo providers: organisations with realistic names and individuals (teachers, coaches, 非遗)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime

from faker import Faker

from registry.demo.identity import make_resident_id
from registry.demo.places import home_address, street_address


@dataclass(frozen=True)
class BusinessType:
    """A kind of organisation: name suffix, USCC prefix, the courses it runs, how common it is."""

    suffix: str
    # 91: company (工商); 92: sole proprietorship (个体工商户);
    # 52: private non-enterprise unit (民办非企业单位).
    uscc_prefix: str
    courses: tuple[str, ...]
    weight: float
    lead: str


_B = BusinessType
BUSINESS_TYPES: tuple[BusinessType, ...] = (
    _B("青少年篮球俱乐部有限公司", "91", ("少儿篮球",), 3,
       "专注青少年篮球基础训练，自有标准室内场馆。"),
    _B("足球俱乐部有限公司", "91", ("足球启蒙",), 2,
       "中国足协注册青训机构，长期开展校园足球合作。"),
    _B("跆拳道馆", "92", ("跆拳道",), 2, "道馆面积约四百平方米，配备专业地垫与护具。"),
    _B("体育文化发展有限公司", "91", ("少儿篮球", "足球启蒙", "花样跳绳", "轮滑", "乒乓球"), 3,
       "综合性青少年体育培训机构。"),
    _B("武术培训学校", "52", ("武术", "跆拳道"), 1.5, "经区教育局审批设立的民办培训学校。"),
    _B("乒乓球俱乐部", "92", ("乒乓球",), 1.5, "拥有十二张比赛球台，教练多为退役专业运动员。"),
    _B("围棋道场", "92", ("围棋",), 1.5, "开办少儿围棋教学多年，定期组织等级赛。"),
    _B("轮滑运动俱乐部有限公司", "91", ("轮滑", "花样跳绳"), 1, "区轮滑协会会员单位。"),
    _B("艺术培训学校有限公司", "91",
       ("少儿国画", "素描", "软笔书法", "硬笔书法", "合唱", "拉丁舞"), 3,
       "综合性少儿艺术培训学校。"),
    _B("书法艺术工作室", "92", ("软笔书法", "硬笔书法"), 2, "由书法家协会会员创办的书法工作室。"),
    _B("美术工作室", "92", ("少儿国画", "素描", "陶艺"), 1.5, "小班授课的少儿美术工作室。"),
    _B("舞蹈艺术中心", "52", ("街舞", "拉丁舞"), 1.5, "拥有三间专业舞蹈教室。"),
    _B("音乐艺术培训中心", "52", ("非洲鼓", "尤克里里", "合唱"), 1.5, "以器乐与合唱教学为主。"),
    _B("陶艺工作室", "92", ("陶艺",), 0.8, "配备电窑和拉坯机的陶艺工作室。"),
    _B("科技教育中心", "52",
       ("机器人编程", "Scratch创意编程", "航模制作", "3D打印", "无人机"), 2.5,
       "青少年科技教育机构，多次指导学生参加市级科技竞赛。"),
    _B("机器人科技有限公司", "91", ("机器人编程", "Scratch创意编程", "3D打印"), 2,
       "从事青少年机器人与编程教育。"),
    _B("航空模型运动俱乐部", "91", ("航模制作", "无人机"), 1, "区航空模型运动协会会员单位。"),
    _B("青少年劳动教育实践中心", "52", ("烘焙", "木工", "园艺种植"), 1.2,
       "设有烘焙教室、木工坊和种植园。"),
    _B("烘焙工作室", "92", ("烘焙",), 0.8, "持食品经营许可证的烘焙工作室。"),
    _B("阅读文化传播有限公司", "91", ("绘本阅读", "经典诵读"), 1.2, "长期开展少儿阅读推广活动。"),
    _B("非遗文化传播有限公司", "91",
       ("剪纸", "泥塑（泥人张风格）", "风筝制作", "京剧脸谱", "杨柳青年画"), 1.5,
       "致力于天津非物质文化遗产进校园。"),
    _B("传统文化艺术中心", "52", ("剪纸", "京剧脸谱", "经典诵读", "软笔书法"), 1.2,
       "以传统文化普及教育为宗旨的民办非企业单位。"),
    _B("红色文化教育中心", "52", ("红色故事会", "经典诵读"), 0.6,
       "与区内多家红色教育基地合作开展研学讲解。"),
    _B("心理咨询有限公司", "91", ("心理游戏团辅",), 0.8, "由国家二级心理咨询师创办。"),
    _B("教育科技有限公司", "91",
       ("机器人编程", "绘本阅读", "心理游戏团辅", "花样跳绳", "烘焙", "Scratch创意编程"), 2,
       "提供多类别课后服务课程。"),
    _B("文化艺术发展有限公司", "91", ("合唱", "少儿国画", "剪纸", "红色故事会", "京剧脸谱"), 1.5,
       "从事文化艺术普及与少儿艺术教育。"),
)  # fmt: skip

_FIRST = "启博星智乐童青新华明育蓝金翰墨艺创雅卓飞扬晨阳睿鸿悦嘉航海朗"
_SECOND = "航雅辰动心苗禾帆源锐阳途蕾峰远翔跃韵林晴语朗成乐学桥"
_LONG_BRANDS = ("小海燕", "七色光", "金色童年", "津门", "海河之星", "小白鸽", "沽上", "满天星")


@dataclass(frozen=True)
class IndividualType:
    """A kind of individual provider the district lists admit (policy clause 7)."""

    key: str
    courses: tuple[str, ...]
    born: tuple[int, int]
    role: str
    # Years of practice before the first application (a retired teacher: since retiring).
    practice: tuple[int, int] | None


INDIVIDUAL_TYPES: tuple[IndividualType, ...] = (
    IndividualType("teacher", ("软笔书法", "硬笔书法", "少儿国画", "经典诵读", "合唱", "绘本阅读"),
                   (1956, 1965), "授课教师（退休教师）", None),
    IndividualType("coach", ("乒乓球", "武术", "围棋", "跆拳道", "少儿篮球", "花样跳绳"),
                   (1972, 1990), "教练", (10, 19)),
    IndividualType("heritage", ("剪纸", "泥塑（泥人张风格）", "风筝制作", "杨柳青年画", "京剧脸谱"),
                   (1952, 1978), "非遗传承人", (20, 29)),
)  # fmt: skip

_HERITAGE_PROJECTS = {
    "剪纸": "{place}剪纸",
    "泥塑（泥人张风格）": "{place}彩塑技艺",
    "风筝制作": "{place}风筝制作技艺",
    "杨柳青年画": "杨柳青木版年画",
    "京剧脸谱": "京剧脸谱绘制技艺",
}


@dataclass
class ProviderPlan:
    """One provider: who it is, where it is, what it can teach."""

    index: int
    kind: str
    name: str
    district_code: str
    legal_representative: str
    contact_name: str
    contact_phone: str
    contact_email: str
    address: str
    description: str
    courses: tuple[str, ...]
    staff_role: str = "授课教师"
    uscc_prefix: str = ""
    # Set once the listings are planned (founding precedes the first application).
    founded_on: date | None = None
    created_at: datetime | None = None
    uscc: str | None = None
    resident_id: str | None = None
    # Individuals: birth date and years of practice, to date the start of their practice.
    born: date | None = None
    practice: tuple[int, int] | None = None
    listings: list[int] = field(default_factory=list)


def _brand(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(_LONG_BRANDS)
    first = rng.choice(_FIRST)
    second = rng.choice([c for c in _SECOND if c != first])
    return first + second


def person_name(fake: Faker, rng: random.Random, male: bool | None = None) -> tuple[str, bool]:
    """A synthetic Chinese name and whether it is male."""
    male = rng.random() < 0.5 if male is None else male
    return (fake.name_male() if male else fake.name_female()), male


def mobile(fake: Faker) -> str:
    """A mobile phone number."""
    return str(fake.phone_number())


def make_organisation(
    rng: random.Random, fake: Faker, index: int, code: str, district: str, taken: set[str]
) -> ProviderPlan:
    """An organisation with a unique realistic name in its district."""
    business = rng.choices(BUSINESS_TYPES, weights=[b.weight for b in BUSINESS_TYPES])[0]
    for _ in range(200):
        name = f"天津市{district}{_brand(rng)}{business.suffix}"
        if name not in taken:
            break
    else:
        raise RuntimeError("ran out of organisation names")
    taken.add(name)
    legal, _ = person_name(fake, rng)
    contact = legal if rng.random() < 0.3 else person_name(fake, rng)[0]
    course_text = "、".join(business.courses[:4])
    tail = rng.choice(
        (
            "授课人员均持证上岗，已与区内多所中小学合作开展课后服务。",
            "坚持小班教学，建立了完善的学员接送与安全管理制度。",
            "课程体系成熟，注重兴趣培养与习惯养成。",
        )
    )
    return ProviderPlan(
        index=index,
        kind="organisation",
        name=name,
        district_code=code,
        legal_representative=legal,
        contact_name=contact,
        contact_phone=mobile(fake),
        contact_email=str(fake.free_email()),
        address=street_address(rng, code, district),
        description=f"{business.lead}主要开设{course_text}等课程，{tail}",
        courses=business.courses,
        uscc_prefix=business.uscc_prefix,
    )


def make_individual(
    rng: random.Random, fake: Faker, index: int, code: str, district: str, taken_ids: set[str]
) -> ProviderPlan:
    """A retired teacher, licensed coach or intangible-heritage inheritor applying in person."""
    kind = rng.choices(INDIVIDUAL_TYPES, weights=(4, 3, 3))[0]
    name, male = person_name(fake, rng)
    born = date(rng.randint(*kind.born), rng.randint(1, 12), rng.randint(1, 28))
    while True:
        resident_id = make_resident_id(rng, born, male)
        if resident_id not in taken_ids:
            taken_ids.add(resident_id)
            break
    speciality = rng.choice(kind.courses)
    if kind.key == "teacher":
        school = rng.choice(("小学", "中学", "少年宫"))
        description = (
            f"退休{school}教师，从教{rng.randint(28, 38)}年，擅长{speciality}教学，"
            "曾多次指导学生获市级奖项。"
        )
    elif speciality == "围棋":
        description = "围棋业余五段，持围棋指导员证书，从事少儿围棋教学十余年。"
    elif kind.key == "coach":
        description = f"国家二级运动员，持社会体育指导员证书，从事青少年{speciality}训练十余年。"
    else:
        place = district.removesuffix("区").removesuffix("新")
        project = _HERITAGE_PROJECTS[speciality].format(place=place)
        level = rng.choice(("区级", "区级", "市级"))
        description = f"{level}非物质文化遗产代表性项目「{project}」代表性传承人，从艺二十余年。"
    others = [c for c in kind.courses if c != speciality]
    return ProviderPlan(
        index=index,
        kind="individual",
        name=name,
        district_code=code,
        legal_representative="",
        contact_name=name,
        contact_phone=mobile(fake),
        contact_email=str(fake.free_email()) if rng.random() < 0.5 else "",
        address=home_address(rng, code, district),
        description=description,
        courses=(speciality, *rng.sample(others, 1)),
        staff_role=kind.role,
        resident_id=resident_id,
        born=born,
        practice=kind.practice,
    )
