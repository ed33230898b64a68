"""Deterministic demo data for the ``seed_demo`` command: a city modelled on Quanzhou.

Pure data, no Django: the area tree (city → district → street → community → alley, with
unified statistical codes), the alley convention template, the four event classes A–D
and their item types, the departments and state enterprises with their duty lists
(权责清单), and helpers that make fake but well-formed person names and phone numbers.

Every value is computed from fixed lists and codes (CRC32, never ``hash()``), so two runs
produce exactly the same data. Names of people and phone numbers are fictitious.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

AreaLevel = Literal["city", "district", "street", "community", "alley"]
Tier = Literal["alley", "community", "street", "district", "city"]
ServiceKind = Literal["police", "city_management", "doctor", "mediator", "lawyer", "other"]
DepartmentLevel = Literal["district", "city"]
DepartmentKind = Literal["government", "state_enterprise", "public_service"]

AREA_LEVELS: Final[tuple[AreaLevel, ...]] = ("city", "district", "street", "community", "alley")
AREA_CODE_LENGTHS: Final[Mapping[AreaLevel, int]] = MappingProxyType(
    {"city": 4, "district": 6, "street": 9, "community": 12, "alley": 15}
)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class AlleyProfileSeed:
    """What the alley's board shows: size, character and reception hours."""

    households: int
    shops: int
    resident_units: int
    features: str
    office_hours: str
    board_contact_phone: str


@dataclass(frozen=True, slots=True)
class AreaSeed:
    """One node of the area tree; ``profile`` is set on alleys only."""

    code: str
    name: str
    level: AreaLevel
    children: tuple[AreaSeed, ...] = ()
    profile: AlleyProfileSeed | None = None


@dataclass(frozen=True, slots=True)
class CategoryClassSeed:
    """An event class (A–D) graded by difficulty, with the highest tier its cases climb to by themselves."""

    code: str
    name: str
    description: str
    top_tier: Tier


@dataclass(frozen=True, slots=True)
class CategoryTypeSeed:
    """An item type; ``default_department_role`` is a department role key, or None for alley-team matters."""

    code: str
    name: str
    class_code: str
    default_department_role: str | None
    service_kind: ServiceKind | None
    needs_contact: bool
    fix_photo_required: bool
    common: bool
    icon: str
    keywords: tuple[str, ...]
    alert_tier: Tier | None = None


@dataclass(frozen=True, slots=True)
class DepartmentSeed:
    """A district/city department or an enterprise; ``category_codes`` is its duty list."""

    code: str
    name: str
    level: DepartmentLevel
    area_code: str
    kind: DepartmentKind
    role_key: str
    leader_name: str
    leader_phone: str
    contact_name: str
    contact_phone: str
    category_codes: tuple[str, ...]


# --------------------------------------------------------------------------- people

PEOPLE_SURNAMES: Final[tuple[str, ...]] = (
    "陈", "林", "黄", "王", "李", "张", "吴", "蔡", "郑", "刘", "洪", "许", "杨", "苏",
    "庄", "施", "曾", "谢", "郭", "周", "何", "颜", "傅", "柯", "卢", "丁", "蒋", "叶",
    "高", "潘", "方", "戴", "康", "杜", "骆", "尤", "龚", "汪", "赖", "粘", "留",
)  # fmt: skip

PEOPLE_GIVEN_NAMES: Final[tuple[str, ...]] = (
    "建华", "丽娟", "志强", "秀英", "国平", "美玲", "明辉", "淑珍", "文彬", "雅琴",
    "晓东", "惠玲", "振兴", "素梅", "海涛", "金花", "俊杰", "碧云", "荣生", "玉兰",
    "清泉", "雪芳", "伟民", "静", "鹏", "婷婷", "家豪", "思琪", "永福", "月娥",
    "泽民", "丽华", "少华", "佳慧", "天赐", "阿娇", "宏伟", "燕", "志明", "美珠",
    "再兴", "秀琴", "添财", "梅芳", "德胜", "宝珠", "嘉诚", "紫涵", "炳坤", "丽云",
    "昌盛", "素娥", "少鹏", "晓燕", "文龙", "雅婷", "锦程", "秋菊", "春生", "巧玲",
    "建国", "惠珍", "子轩", "欣怡", "伟", "敏", "启明", "淑芬", "清华", "若曦",
    "耀宗", "丽清", "国栋", "玉珍", "景行", "心怡", "福来", "宝莲", "逸飞", "晨",
)  # fmt: skip


def person_name(index: int) -> str:
    """A fictitious Chinese name; distinct for 0 <= index < 41 * 80 (the list lengths are coprime)."""
    if index < 0:
        raise ValueError("index must be non-negative")
    surname = PEOPLE_SURNAMES[index % len(PEOPLE_SURNAMES)]
    given = PEOPLE_GIVEN_NAMES[(index * 7) % len(PEOPLE_GIVEN_NAMES)]
    return surname + given


def phone(index: int, prefix: str = "139") -> str:
    """A fake, well-formed 11-digit mobile number: a 3-digit 1xx prefix and the index in 8 digits."""
    if not 0 <= index < 10**8:
        raise ValueError("index must be in 0..99999999")
    if len(prefix) != 3 or not prefix.isdigit() or not prefix.startswith("1"):
        raise ValueError("prefix must be three digits starting with 1")
    return f"{prefix}{index:08d}"


# --------------------------------------------------------------------------- area tree

CITY_CODE: Final[str] = "3505"
CITY_NAME: Final[str] = "泉州市"

# (3-digit street suffix, street name, community names) per district.
_StreetSpec = tuple[str, str, tuple[str, ...]]
_DistrictSpec = tuple[str, str, tuple[_StreetSpec, ...]]

_DISTRICTS: Final[tuple[_DistrictSpec, ...]] = (
    (
        "350502",
        "鲤城区",
        (
            ("001", "海滨街道", ("胜利社区", "聚宝社区", "风池社区", "释雅社区", "新门社区")),
            ("002", "临江街道", ("五堡社区", "义全社区", "宝海社区", "聚津社区", "富美社区")),
            ("003", "鲤中街道", ("新华社区", "镇抚社区", "溪亭社区", "三朝社区", "中山社区", "县后社区")),
            ("004", "开元街道", ("开元社区", "新春社区", "双塔社区", "象峰社区", "甲第社区")),
        ),
    ),
    (
        "350503",
        "丰泽区",
        (
            ("001", "东湖街道", ("东湖社区", "少林社区", "铭湖社区", "东凤社区", "圣湖社区", "仁风社区")),
            ("002", "丰泽街道", ("丰泽社区", "东美社区", "坪山社区", "云山社区", "宝洲社区")),
            ("003", "泉秀街道", ("泉秀社区", "浦西社区", "刺桐社区", "田安社区")),
            ("007", "城东街道", ("东星社区", "东霞社区", "金屿社区", "后茂社区")),
        ),
    ),
)

# Well-known lanes used first (interleaved with generated ones), then prefix × suffix names.
_NOTABLE_ALLEYS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "350502": (
            "金鱼巷", "井亭巷", "象峰巷", "甲第巷", "旧馆驿", "三朝巷", "胭脂巷", "裴巷",
            "会通巷", "古榕巷", "打锡巷", "奎霞巷", "花巷", "通政巷", "孝感巷", "承天巷",
            "模范巷", "镇抚巷", "台魁巷", "敷仁巷", "水门巷", "青龙巷", "聚宝街", "新门街",
            "涂门街", "许厝埕", "三教铺", "菜巷", "土地巷", "后城巷", "县后街", "中和巷",
            "亭店巷", "花园头", "释雅巷", "奎章巷", "梅石巷", "讲堂巷", "竹街", "凤池巷",
            "溪亭巷", "金刚巷", "状元街",
        ),
        "350503": ("法石街", "蟳埔巷", "东岳巷", "后茂街", "云谷里", "东禅巷"),
    }
)  # fmt: skip
_ALLEY_PREFIXES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "350502": (
            "桂坛", "文锦", "榕荫", "南岳", "鹦哥", "燕尾", "温陵", "紫云", "泮宫", "府学",
            "朱紫", "锦绣", "聚津", "富美", "五堡", "义全", "宝海", "西隅", "东隅", "南俊",
            "洗马", "金池", "升平", "万寿", "新春", "双塔", "清军", "花桥", "鸿渐", "雅正",
            "后埔", "百源", "旧馆", "铺尾", "天后",
        ),
        "350503": (
            "东凤", "少林", "铭湖", "圣湖", "仁风", "松林", "凤山", "坪山", "云山", "宝洲",
            "津淮", "田安", "刺桐", "泉秀", "浦西", "东星", "东霞", "金屿", "丰海", "湖心",
            "东美", "美山", "华丰", "丰盛", "清源", "东海", "霞美", "后坂", "圳边", "坪埔",
            "桥头", "新塘", "前头", "尾厝", "东门",
        ),
    }
)  # fmt: skip
_ALLEY_SUFFIXES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "350502": ("巷", "后巷", "横巷", "里", "埕", "弄"),
        "350503": ("巷", "街", "里", "后巷", "横巷", "弄"),
    }
)

# (feature text, whether it means a busy commercial alley)
_FEATURES: Final[Mapping[str, tuple[tuple[str, bool], ...]]] = MappingProxyType(
    {
        "350502": (
            ("古城历史街区", False), ("骑楼商铺", True), ("老旧小区", False), ("古厝集中", False),
            ("学校周边", False), ("菜市场周边", True), ("宫庙宗祠", False), ("游客较多", True),
            ("独居老人较多", False), ("出租屋集中", False), ("沿街餐饮", True), ("石板路窄巷", False),
        ),
        "350503": (
            ("商品房小区", False), ("城中村", False), ("商业综合体周边", True), ("学校周边", False),
            ("医院周边", True), ("出租屋集中", False), ("农贸市场周边", True), ("新建道路", False),
            ("沿街餐饮", True), ("老旧小区", False), ("机关单位集中", False), ("独居老人较多", False),
        ),
    }
)  # fmt: skip

OFFICE_HOURS_CHOICES: Final[tuple[str, ...]] = (
    "每周二、四 9:00-11:00 巷长接待",
    "每周一、三、五 15:00-17:00 巷长接待",
    "每周六 9:00-11:30 服务团队联合接待",
    "每周三 19:30-21:00 夜间接待",
    "每日 8:30-9:30 巷口公示牌处接待",
    "每周一 9:00-11:00 巷长、民警联合接待",
    "每周五 15:00-17:30 巷长、律师联合接待",
)


def _mix(code: str, salt: int) -> int:
    """A stable pseudo-random number derived from a code (CRC32, identical on every run)."""
    return zlib.crc32(f"{code}:{salt}".encode())


def _alley_names(district_code: str) -> Iterator[str]:
    """Unique alley names for a district: notable lanes interleaved with prefix × suffix names."""
    notable = _NOTABLE_ALLEYS[district_code]
    prefixes = _ALLEY_PREFIXES[district_code]
    suffixes = _ALLEY_SUFFIXES[district_code]
    # Coprime list lengths make (k mod len(suffixes), k mod len(prefixes)) hit every pair once.
    generated = (
        prefixes[k % len(prefixes)] + suffixes[k % len(suffixes)]
        for k in range(len(prefixes) * len(suffixes))
    )
    seen: set[str] = set()
    notable_iter = iter(notable)
    for name in generated:
        for candidate in (next(notable_iter, None), name):
            if candidate is not None and candidate not in seen:
                seen.add(candidate)
                yield candidate


def _alley_profile(district_code: str, code: str, serial: int) -> AlleyProfileSeed:
    features = _FEATURES[district_code]
    m = _mix(code, 1)
    first = m % len(features)
    picked = [features[first]]
    if m % 3:
        offset = 1 + (m // len(features)) % (len(features) - 1)
        picked.append(features[(first + offset) % len(features)])
    commercial = any(busy for _, busy in picked)
    shops_seed = _mix(code, 2)
    shops = 20 + shops_seed % 41 if commercial else shops_seed % 21
    return AlleyProfileSeed(
        households=40 + _mix(code, 3) % 361,
        shops=shops,
        resident_units=_mix(code, 4) % 9,
        features="、".join(text for text, _ in picked),
        office_hours=OFFICE_HOURS_CHOICES[_mix(code, 5) % len(OFFICE_HOURS_CHOICES)],
        board_contact_phone=f"0595-2218{serial:04d}",
    )


@functools.cache
def build_city() -> AreaSeed:
    """Build the whole area tree (cached; the same object every call)."""
    serial = 0
    districts: list[AreaSeed] = []
    for district_code, district_name, streets in _DISTRICTS:
        names = _alley_names(district_code)
        street_nodes: list[AreaSeed] = []
        for suffix, street_name, community_names in streets:
            street_code = district_code + suffix
            community_nodes: list[AreaSeed] = []
            for c_index, community_name in enumerate(community_names, start=1):
                community_code = f"{street_code}{c_index:03d}"
                alleys: list[AreaSeed] = []
                for a_index in range(1, 7 + _mix(community_code, 0) % 5):
                    alley_code = f"{community_code}{a_index:03d}"
                    name = next(names, None)
                    if name is None:
                        raise RuntimeError(f"alley names for {district_code} exhausted")
                    serial += 1
                    profile = _alley_profile(district_code, alley_code, serial)
                    alleys.append(AreaSeed(alley_code, name, "alley", (), profile))
                community_nodes.append(AreaSeed(community_code, community_name, "community", tuple(alleys)))
            street_nodes.append(AreaSeed(street_code, street_name, "street", tuple(community_nodes)))
        districts.append(AreaSeed(district_code, district_name, "district", tuple(street_nodes)))
    return AreaSeed(CITY_CODE, CITY_NAME, "city", tuple(districts))


def iter_areas(root: AreaSeed) -> Iterator[AreaSeed]:
    """Depth-first, parents before children, in code order."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


CITY: Final[AreaSeed] = build_city()
DISTRICT_CODES: Final[tuple[str, ...]] = tuple(d.code for d in CITY.children)


# --------------------------------------------------------------------------- convention

ALLEY_CONVENTION: Final[str] = """{alley}街巷公约

为共建整洁、平安、文明、和睦的{alley}，经本巷党员、居民、商户和驻巷单位代表共同商议，制定本公约，大家共同遵守。

第一条 爱党爱国，遵纪守法，支持巷长和服务团队开展工作，积极参加街巷议事协商。
第二条 爱护环境卫生，垃圾分类、定时定点投放，不乱扔乱倒，商户落实“门前三包”。
第三条 文明停车，机动车、电动车和共享单车有序停放，不占用消防通道、盲道和巷道。
第四条 注意消防安全，楼道不堆放杂物，不飞线充电，电动车不进楼入户，商铺配齐灭火器材。
第五条 爱护古厝、骑楼和公共设施，不私搭乱建，不乱贴乱画，不损毁绿化。
第六条 邻里和睦，互谅互让；有矛盾先找巷长和调解员商量，做到“小事不出巷、矛盾不上交”。
第七条 关爱独居老人、残疾人和困难家庭，积极参加志愿服务和邻里互助。
第八条 装修施工、娱乐活动避开休息时间；文明养犬，出门牵绳，及时清理粪便。
第九条 商户诚信经营，不占道、不出店经营，油烟、噪音达标排放。
第十条 发现问题及时扫描巷口公示牌二维码或向巷长反映，如实评价办理结果，共同监督本公约执行。

本公约经{alley}居民会议讨论通过，自公布之日起施行。
"""


def render_convention(alley_name: str) -> str:
    """The convention text for one alley."""
    return ALLEY_CONVENTION.format(alley=alley_name)


# --------------------------------------------------------------------------- categories

CATEGORY_CLASSES: Final[tuple[CategoryClassSeed, ...]] = (
    CategoryClassSeed("A", "简单事项（巷内即办）", "巷长和服务团队当场或当天可以解决的小事，小事不出巷，超期最多上报社区。", "community"),
    CategoryClassSeed("B", "一般事项（社区协调）", "需要社区协调物业、商户或公共服务企业处理的一般事项，大事不出街道。", "street"),
    CategoryClassSeed("C", "较难事项（街道吹哨）", "涉及执法或多个部门，需要街道审核后吹哨、部门报到的较难事项。", "district"),
    CategoryClassSeed("D", "疑难事项（区级派单）", "涉及规划、资金或历史遗留问题，由区委组织部派单、必要时提交市级的疑难事项。", "city"),
)  # fmt: skip


def _ct(
    code: str,
    name: str,
    role: str | None,
    kind: ServiceKind | None,
    icon: str,
    keywords: str,
    *,
    contact: bool = False,
    photo: bool = True,
    talk: bool = False,
    common: bool = False,
    alert: Tier | None = None,
) -> CategoryTypeSeed:
    """``talk`` marks disputes, consultations and care visits: call the reporter back, no fix photo.

    ``alert``: safety hazards tell the community (and street) at once, with the alley's team.
    """
    if talk:
        contact, photo = True, False
    return CategoryTypeSeed(
        code=code,
        name=name,
        class_code=code[0],
        default_department_role=role,
        service_kind=kind,
        needs_contact=contact,
        fix_photo_required=photo,
        common=common,
        icon=icon,
        keywords=tuple(keywords.split()),
        alert_tier=alert,
    )


_CM: Final = "city_management"

# fmt: off
CATEGORY_TYPES: Final[tuple[CategoryTypeSeed, ...]] = (
    # A: 简单事项（巷内即办）
    _ct("A01", "路灯不亮", "cg", _CM, "lamp", "路灯 不亮 灯坏 照明", common=True),
    _ct("A02", "下水道堵塞", "ps", _CM, "drain", "下水道 堵塞 反水 排水沟", common=True),
    _ct("A03", "垃圾清运不及时", "hw", _CM, "trash", "垃圾 清运 垃圾桶 满溢", common=True),
    _ct("A04", "楼道堆物", "xf", "other", "fire", "楼道 堆放 杂物 堵塞通道"),
    _ct("A05", "飞线充电", "xf", "other", "power", "飞线 充电 电动车 私拉电线"),
    _ct("A06", "共享单车乱停", "cg", _CM, "bike", "共享单车 乱停 电动车 堵路"),
    _ct("A07", "小广告乱贴乱画", "cg", _CM, "wall", "小广告 牛皮癣 涂鸦 乱贴"),
    _ct("A08", "沿街乱晾晒", "cg", _CM, "other", "晾晒 衣被 沿街 挂晒"),
    _ct("A09", "卫生死角", "hw", _CM, "trash", "卫生 死角 脏乱 异味"),
    _ct("A10", "垃圾分类不规范", "hw", "other", "trash", "垃圾分类 混投 桶边垃圾"),
    _ct("A11", "大件垃圾清运", "hw", "other", "trash", "大件垃圾 旧家具 清运"),
    _ct("A12", "楼道灯损坏", None, "other", "lamp", "楼道灯 声控灯 灯坏"),
    _ct("A13", "健身器材损坏", "wl", "other", "other", "健身器材 损坏 锻炼"),
    _ct("A14", "宠物扰民", None, "mediator", "pet", "狗叫 宠物 遛狗 粪便", talk=True),
    _ct("A15", "邻里纠纷", "sf", "mediator", "dispute", "邻里 纠纷 矛盾 吵架", talk=True, common=True),
    _ct("A16", "家庭矛盾", "sf", "mediator", "dispute", "家庭 婚姻 赡养 矛盾", talk=True),
    _ct("A17", "独居老人关爱", "mz", "other", "care", "独居 老人 探访 关爱", talk=True),
    _ct("A18", "残疾人帮扶", "mz", "other", "care", "残疾人 帮扶 辅具", talk=True),
    _ct("A19", "医疗卫生咨询", "wj", "doctor", "health", "看病 体检 慢病 咨询", talk=True),
    _ct("A20", "法律咨询", "sf", "lawyer", "legal", "法律 咨询 合同 继承", talk=True),
    _ct("A21", "政策咨询", None, "other", "info", "政策 咨询 办事 证明", talk=True),
    _ct("A22", "社保医保咨询", "rs", "other", "info", "社保 医保 养老金 参保", talk=True),
    _ct("A23", "门前三包不落实", "cg", _CM, "shop", "门前三包 商户 卫生"),
    _ct("A24", "绿化带毁损", "cg", _CM, "tree", "绿化 草坪 踩踏 毁绿"),
    # B: 一般事项（社区协调）
    _ct("B01", "占道经营", "cg", _CM, "shop", "占道 摆摊 流动摊贩 出店经营", common=True),
    _ct("B02", "违法停车", "jj", "police", "parking", "乱停车 违停 堵路 占用车位", common=True),
    _ct("B03", "噪音扰民", "ga", "police", "noise", "噪音 扰民 广场舞 装修", talk=True, common=True),
    _ct("B04", "消防隐患", "xf", "other", "fire", "消防 隐患 灭火器 私拉电线", common=True, alert="street"),
    _ct("B05", "油烟扰民", "hb", _CM, "smoke", "油烟 餐饮 排烟 熏人"),
    _ct("B06", "井盖缺失", "cg", _CM, "manhole", "井盖 缺失 破损 松动"),
    _ct("B07", "道路破损", "cg", _CM, "road", "路面 坑洼 破损 石板路"),
    _ct("B08", "树木倒伏", "cg", _CM, "tree", "树木 倒伏 断枝 台风"),
    _ct("B09", "树木遮挡需修剪", "cg", _CM, "tree", "修剪 树枝 遮挡 采光"),
    _ct("B10", "物业纠纷", "zj", "mediator", "dispute", "物业 物业费 业委会 维修基金", contact=True, photo=False),
    _ct("B11", "供水停水", "gs", "other", "water", "停水 没水 水压低", talk=True),
    _ct("B12", "水管漏水", "gs", "other", "water", "漏水 爆管 水管 水表"),
    _ct("B13", "停电", "gd", "other", "power", "停电 跳闸 电压不稳", talk=True),
    _ct("B14", "电线老化裸露", "gd", "other", "power", "电线 裸露 老化 电杆"),
    _ct("B15", "通信线缆杂乱", "tx", "other", "cable", "线缆 飞线 蜘蛛网 光缆"),
    _ct("B16", "手机信号差", "yd", "other", "cable", "信号 基站 网络", talk=True),
    _ct("B17", "燃气隐患", "rq", "other", "gas", "燃气 煤气 泄漏 异味", contact=True, alert="street"),
    _ct("B18", "无障碍设施损坏", "cg", _CM, "road", "盲道 坡道 无障碍"),
    _ct("B19", "公交站亭损坏", "gj", "other", "road", "公交 站亭 站牌"),
    _ct("B20", "交通设施损坏", "jj", "police", "road", "红绿灯 标志 标线 护栏"),
    _ct("B21", "消防通道占用", "xf", "other", "fire", "消防通道 占用 堵塞", alert="community"),
    _ct("B22", "出租屋安全隐患", "ga", "police", "building", "出租屋 群租 隐患", alert="community"),
    _ct("B23", "治安隐患", "ga", "police", "other", "治安 盗窃 监控 照明", contact=True),
    _ct("B24", "流浪犬只", "ga", "police", "pet", "流浪狗 犬只 伤人"),
    _ct("B25", "无证经营", "sj", _CM, "shop", "无证 经营 营业执照"),
    _ct("B26", "食品安全隐患", "sj", "other", "shop", "食品 过期 卫生 餐饮", contact=True),
    _ct("B27", "消费纠纷", "sj", "mediator", "dispute", "消费 价格 投诉 退款", talk=True),
    _ct("B28", "劳资纠纷", "rs", "lawyer", "dispute", "欠薪 工资 劳动合同", talk=True),
    _ct("B29", "建筑垃圾乱倒", "cg", _CM, "trash", "建筑垃圾 渣土 装修垃圾"),
    _ct("B30", "化粪池满溢", "ps", _CM, "drain", "化粪池 粪水 外溢"),
    _ct("B31", "施工噪音扰民", "hb", _CM, "noise", "施工 夜间 噪音 工地", talk=True),
    _ct("B32", "困难群众救助", "mz", "other", "care", "低保 救助 困难家庭", talk=True),
    _ct("B33", "退役军人服务", "tj", "other", "care", "退役军人 优抚 服务", talk=True),
    _ct("B34", "传染病防控", "wj", "doctor", "health", "传染病 消杀 防疫 登革热", contact=True),
    _ct("B35", "广告牌松动", "cg", _CM, "wall", "广告牌 招牌 松动 坠落"),
    _ct("B36", "校园周边安全", "ga", "police", "other", "学校 周边 上下学 安全"),
    # C: 较难事项（街道吹哨）
    _ct("C01", "违章搭建", "cg", _CM, "building", "违建 搭建 加盖 铁皮房"),
    _ct("C02", "积水内涝", "sw", _CM, "flood", "积水 内涝 水淹 暴雨"),
    _ct("C03", "房屋渗漏及外墙脱落", "zj", "other", "building", "外墙 脱落 渗漏 瓷砖"),
    _ct("C04", "电梯故障", "sj", "other", "building", "电梯 困人 故障 年检"),
    _ct("C05", "老旧小区加装电梯", "zj", "mediator", "building", "加装电梯 协商 老旧小区", contact=True, photo=False),
    _ct("C06", "扬尘污染", "hb", _CM, "other", "扬尘 粉尘 工地 裸土"),
    _ct("C07", "河沟污染", "hb", _CM, "water", "河沟 黑臭 排污 水体"),
    _ct("C08", "三合一场所隐患", "xf", "police", "fire", "三合一 住人 仓库 作坊", alert="street"),
    _ct("C09", "危化品违规存放", "yj", "police", "fire", "危化品 液化气 违规储存", alert="street"),
    _ct("C10", "非法行医", "wj", "doctor", "health", "黑诊所 非法行医", contact=True),
    _ct("C11", "校外培训违规", "jy", "other", "other", "培训机构 违规 办学", contact=True),
    _ct("C12", "群体性矛盾纠纷", "sf", "mediator", "dispute", "群体 纠纷 信访", talk=True),
    _ct("C13", "养老机构服务问题", "mz", "other", "care", "养老院 服务 照料", contact=True),
    _ct("C14", "渣土车抛洒", "jj", "police", "road", "渣土车 抛洒 遗撒"),
    _ct("C15", "路面塌陷", "cg", _CM, "road", "塌陷 空洞 沉降", alert="street"),
    _ct("C16", "非法营运", "jt", "police", "parking", "黑车 非法营运 拉客"),
    _ct("C17", "古厝文物损坏", "wl", "other", "building", "古厝 文物 古建筑 保护"),
    _ct("C18", "市场周边秩序混乱", "sj", _CM, "shop", "菜市场 秩序 占道"),
    _ct("C19", "公厕缺失或损坏", "hw", _CM, "trash", "公厕 厕所 异味"),
    _ct("C20", "学校周边交通拥堵", "jj", "police", "parking", "接送 拥堵 学校"),
    # D: 疑难事项（区级派单）
    _ct("D01", "危房隐患", "zj", "other", "building", "危房 裂缝 倾斜 D级危房", contact=True, alert="street"),
    _ct("D02", "老旧小区改造", "zj", "other", "building", "老旧小区 改造 管网 立面", contact=True),
    _ct("D03", "征迁安置遗留问题", "zj", "lawyer", "dispute", "征迁 安置 补偿", talk=True),
    _ct("D04", "不动产登记历史遗留", "zr", "lawyer", "legal", "产权 不动产 办证 历史遗留", contact=True, photo=False),
    _ct("D05", "片区内涝综合治理", "sw", "other", "flood", "内涝 排涝 管网 改造"),
    _ct("D06", "供水管网改造", "gs", "other", "water", "老旧管网 水质 黄水"),
    _ct("D07", "电网改造", "gd", "other", "power", "电网 改造 线路入地"),
    _ct("D08", "瓶改管燃气入户", "rq", "other", "gas", "管道燃气 瓶改管 入户", contact=True),
    _ct("D09", "停车设施不足", "jt", "police", "parking", "停车难 停车场 车位"),
    _ct("D10", "断头路打通", "zr", "other", "road", "断头路 规划 打通"),
    _ct("D11", "农贸市场提升改造", "sj", "other", "shop", "农贸市场 改造 提升"),
    _ct("D12", "区域环境污染治理", "hb", "other", "smoke", "污染 异味 企业 治理"),
    _ct("D13", "城中村消防整治", "xf", "other", "fire", "城中村 消防 通道 整治"),
    _ct("D14", "入学学位紧张", "jy", "other", "info", "入学 学位 学区", talk=True),
    _ct("D15", "古城风貌保护修缮", "wl", "other", "building", "古城 风貌 修缮 骑楼"),
    _ct("D16", "环卫设施规划建设", "hw", "other", "trash", "垃圾中转站 环卫设施 规划"),
)
# fmt: on
CATEGORY_TYPES_BY_CODE: Final[Mapping[str, CategoryTypeSeed]] = MappingProxyType(
    {t.code: t for t in CATEGORY_TYPES}
)


# --------------------------------------------------------------------------- departments

# Role key → (code suffix, name pattern with {d} for the district name) for district departments.
_DISTRICT_ROLES: Final[tuple[tuple[str, str, str], ...]] = (
    ("cg", "CG", "{d}城市管理局"),
    ("zj", "ZJ", "{d}住房和城乡建设局"),
    ("sj", "SJ", "{d}市场监督管理局"),
    ("xf", "XF", "{d}消防救援大队"),
    ("wj", "WJ", "{d}卫生健康局"),
    ("sf", "SF", "{d}司法局"),
    ("mz", "MZ", "{d}民政局"),
    ("hb", "HB", "泉州市生态环境局{d}分局"),
    ("jj", "JJ", "{d}交警大队"),
    ("ga", "GA", "{d}公安分局"),
    ("yj", "YJ", "{d}应急管理局"),
    ("sw", "SW", "{d}水利局"),
    ("jy", "JY", "{d}教育局"),
    ("rs", "RS", "{d}人力资源和社会保障局"),
    ("tj", "TJ", "{d}退役军人事务局"),
    ("wl", "WL", "{d}文化体育和旅游局"),
)
_DISTRICT_PREFIX: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"350502": ("LC", "鲤城"), "350503": ("FZ", "丰泽")}
)
# City-level bodies: (role key, code, name, kind).
_CITY_BODIES: Final[tuple[tuple[str, str, str, DepartmentKind], ...]] = (
    ("cg", "QZ-CG", "泉州市城市管理局", "government"),
    ("zj", "QZ-ZJ", "泉州市住房和城乡建设局", "government"),
    ("zr", "QZ-ZR", "泉州市自然资源和规划局", "government"),
    ("jt", "QZ-JT", "泉州市交通运输局", "government"),
    ("hb", "QZ-HB", "泉州市生态环境局", "government"),
    ("sw", "QZ-SW", "泉州市水利局", "government"),
    ("wj", "QZ-WJ", "泉州市卫生健康委员会", "government"),
    ("ga", "QZ-GA", "泉州市公安局", "government"),
    ("sj", "QZ-SJ", "泉州市市场监督管理局", "government"),
    ("yj", "QZ-YJ", "泉州市应急管理局", "government"),
    ("gd", "QZ-GD", "国网泉州供电公司", "state_enterprise"),
    ("tx", "QZ-DX", "中国电信泉州分公司", "state_enterprise"),
    ("yd", "QZ-YD", "中国移动泉州分公司", "state_enterprise"),
    ("lt", "QZ-LT", "中国联通泉州市分公司", "state_enterprise"),
    ("gs", "QZ-GS", "泉州市自来水有限公司", "public_service"),
    ("rq", "QZ-RQ", "泉州燃气有限公司", "public_service"),
    ("hw", "QZ-HW", "泉州市环境卫生服务公司", "public_service"),
    ("ps", "QZ-PS", "泉州市城市排水有限公司", "public_service"),
    ("gj", "QZ-GJ", "泉州市公共交通有限公司", "public_service"),
)
# Duties beyond the types a role is the default for (shared or supporting responsibility).
_EXTRA_DUTIES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "cg": ("B05", "C18"),
        "zj": ("C06", "B31"),
        "ga": ("C12", "B02"),
        "sf": ("B10", "B27", "B28"),
        "xf": ("C09",),
        "mz": ("A21",),
        "jj": ("A06",),
        "wj": ("C13",),
        "tx": ("B16",),
        "yd": ("B15",),
        "lt": ("B15", "B16"),
    }
)


def _duties(role_key: str, *, escalation_only: bool) -> tuple[str, ...]:
    """The duty list of a role; ``escalation_only`` keeps the C/D types (a city body above districts)."""
    codes = {t.code for t in CATEGORY_TYPES if t.default_department_role == role_key}
    codes.update(_EXTRA_DUTIES.get(role_key, ()))
    if escalation_only:
        codes = {c for c in codes if c[0] in "CD"}
    return tuple(sorted(codes))


def _build_departments() -> tuple[DepartmentSeed, ...]:
    district_roles = {role for role, _, _ in _DISTRICT_ROLES}
    rows: list[tuple[str, str, DepartmentLevel, str, DepartmentKind, str, tuple[str, ...]]] = []
    for district_code in DISTRICT_CODES:
        ascii_prefix, short_name = _DISTRICT_PREFIX[district_code]
        district_name = short_name + "区"
        for role, suffix, pattern in _DISTRICT_ROLES:
            name = pattern.format(d=district_name if pattern.startswith("{d}") else short_name)
            duties = _duties(role, escalation_only=False)
            rows.append(
                (f"{ascii_prefix}-{suffix}", name, "district", district_code, "government", role, duties)
            )
    for role, code, name, kind in _CITY_BODIES:
        duties = _duties(role, escalation_only=kind == "government" and role in district_roles)
        rows.append((code, name, "city", CITY_CODE, kind, role, duties))
    return tuple(
        DepartmentSeed(
            code=code,
            name=name,
            level=level,
            area_code=area_code,
            kind=kind,
            role_key=role,
            leader_name=person_name(3001 + 2 * i),
            leader_phone=phone(2 * i + 1, "138"),
            contact_name=person_name(3002 + 2 * i),
            contact_phone=phone(2 * i + 2, "138"),
            category_codes=duties,
        )
        for i, (code, name, level, area_code, kind, role, duties) in enumerate(rows)
    )


DEPARTMENTS: Final[tuple[DepartmentSeed, ...]] = _build_departments()
DEPARTMENTS_BY_CODE: Final[Mapping[str, DepartmentSeed]] = MappingProxyType({d.code: d for d in DEPARTMENTS})
