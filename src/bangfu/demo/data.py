"""Fixed tables the demo university is drawn from: departments, names, home regions, family situations.

This is demo data, not user interface text, so it is not marked for translation.
"""

from typing import NamedTuple

SCHOOL_CODE = "DEMO"
SCHOOL_NAME = "燕赵科技职业技术大学"
SCHOOL_NAME_EN = "Yanzhao Vocational University of Science and Technology"
PASSWORD = "bangfu-demo"


class MajorSpec(NamedTuple):
    code: str
    name: str
    name_en: str
    short: str  # the short form used in class names: 软件2401班


class DepartmentSpec(NamedTuple):
    code: str
    name: str
    name_en: str
    male_share: float  # share of male students, so that names and ID numbers look like the real intake
    size: float  # relative size of its classes
    majors: tuple[MajorSpec, ...]


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(
        "JD",
        "机电工程学院",
        "School of Mechanical and Electrical Engineering",
        0.85,
        1.0,
        (
            MajorSpec("JDYT", "机电一体化技术", "Mechatronics Technology", "机电"),
            MajorSpec("GYJQR", "工业机器人技术", "Industrial Robot Technology", "机器人"),
            MajorSpec("SK", "数控技术", "CNC Technology", "数控"),
        ),
    ),
    DepartmentSpec(
        "XX",
        "信息工程学院",
        "School of Information Engineering",
        0.62,
        1.0,
        (
            MajorSpec("RJ", "软件技术", "Software Technology", "软件"),
            MajorSpec("WL", "计算机网络技术", "Computer Network Technology", "网络"),
            MajorSpec("DSJ", "大数据技术", "Big Data Technology", "大数据"),
        ),
    ),
    DepartmentSpec(
        "QC",
        "汽车工程学院",
        "School of Automotive Engineering",
        0.88,
        0.9,
        (
            MajorSpec("XNY", "新能源汽车技术", "New Energy Vehicle Technology", "新能源"),
            MajorSpec("QJ", "汽车检测与维修技术", "Automotive Inspection and Maintenance Technology", "汽修"),
        ),
    ),
    DepartmentSpec(
        "JG",
        "经济管理学院",
        "School of Economics and Management",
        0.30,
        1.1,
        (
            MajorSpec("KJ", "大数据与会计", "Big Data and Accounting", "会计"),
            MajorSpec("DS", "电子商务", "E-commerce", "电商"),
            MajorSpec("WLGL", "现代物流管理", "Modern Logistics Management", "物流"),
        ),
    ),
    DepartmentSpec(
        "JZ",
        "建筑工程学院",
        "School of Civil Engineering and Architecture",
        0.72,
        0.9,
        (
            MajorSpec("JG", "建筑工程技术", "Building Engineering Technology", "建工"),
            MajorSpec("ZJ", "工程造价", "Construction Cost Engineering", "造价"),
        ),
    ),
    DepartmentSpec(
        "FZ",
        "服装与艺术设计学院",
        "School of Fashion and Art Design",
        0.28,
        0.9,
        (
            MajorSpec("FZ", "服装与服饰设计", "Fashion and Apparel Design", "服装"),
            MajorSpec("SM", "数字媒体艺术设计", "Digital Media Art Design", "数媒"),
            MajorSpec("HY", "环境艺术设计", "Environmental Art Design", "环艺"),
        ),
    ),
    DepartmentSpec(
        "HG",
        "化工与制药学院",
        "School of Chemical and Pharmaceutical Engineering",
        0.45,
        0.8,
        (
            MajorSpec("YP", "药品生产技术", "Pharmaceutical Production Technology", "药品"),
            MajorSpec("YH", "应用化工技术", "Applied Chemical Technology", "化工"),
        ),
    ),
)

# The department whose leader and counsellor are the `leader` and `helper` demo logins.
FEATURED_DEPARTMENT = "XX"

# Surnames weighted by their share of the population (per mille, rounded; northern China).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 75), ("李", 72), ("张", 70), ("刘", 60), ("赵", 30), ("杨", 28), ("陈", 26), ("高", 18),
    ("郭", 16), ("孙", 16), ("马", 15), ("周", 14), ("吴", 12), ("徐", 12), ("朱", 11), ("胡", 10),
    ("田", 10), ("韩", 10), ("董", 9), ("冯", 9), ("曹", 8), ("宋", 8), ("许", 8), ("郑", 8),
    ("谢", 6), ("于", 8), ("崔", 7), ("黄", 7), ("何", 6), ("林", 5), ("梁", 6), ("魏", 7),
    ("史", 5), ("贾", 6), ("任", 5), ("邢", 5), ("孟", 5), ("范", 5), ("侯", 5), ("白", 5),
    ("秦", 4), ("苏", 4), ("吕", 4), ("丁", 4), ("石", 4), ("闫", 4), ("薛", 4), ("常", 4),
    ("尹", 3), ("付", 3), ("康", 3), ("姜", 3), ("袁", 3), ("齐", 3), ("武", 3), ("葛", 2),
    ("杜", 3), ("牛", 3), ("霍", 2), ("申", 2), ("安", 2), ("焦", 2), ("庞", 2), ("耿", 2),
)  # fmt: skip

# Characters of given names for people born around 2005, and for their teachers born around 1980.
MALE_FIRST = "子浩宇嘉俊梓博一晨铭天思明泽家文志佳亚雨凯鹏浩建昊"
MALE_SECOND = "轩然航豪杰涵睿辰宇博鑫瑞阳凯轩磊龙翔帅飞伟亮强旭晨"
FEMALE_FIRST = "欣梓雨子诗思佳可一语若紫雅梦晓嘉心静美雪佳怡婉玉艺"
FEMALE_SECOND = "怡涵萱琪彤瑶琳婷妍雯璐菲悦欣蕾洁颖萌楠倩莹静丹娜月"
MALE_SINGLE = "浩杰磊鹏帅超强旭阳明博凯宇涛鑫龙"
FEMALE_SINGLE = "婷静欣悦琪雪丹璐颖倩莹楠萌娜琳敏"
STAFF_MALE = "建国志强海军立新永刚晓东伟华红军振宇国庆文斌卫东建军"
STAFF_FEMALE = "丽华秀英晓红海燕春梅玉兰雅琴淑芳丽娟彩霞桂芝晓燕小红"
STAFF_SINGLE_MALE = "伟军勇磊涛杰鹏刚强斌"
STAFF_SINGLE_FEMALE = "静敏红丽娜霞燕芳梅娟"


class County(NamedTuple):
    code: str  # the six-digit region code that starts an ID number
    name: str
    # Share of the county's students belonging to a minority: (ethnicity, share)
    minority: tuple[tuple[str, float], ...] = ()


class City(NamedTuple):
    province: str
    name: str
    weight: float  # how many of the school's students come from here (relative)
    counties: tuple[County, ...]


MANCHU = ("满族", 0.35)
HUI = ("回族", 0.3)

# Most students come from Hebei; the rest from neighbouring and western provinces.
CITIES: tuple[City, ...] = (
    City(
        "河北省",
        "石家庄市",
        14,
        (
            County("130104", "桥西区"),
            County("130108", "裕华区"),
            County("130109", "藁城区"),
            County("130111", "栾城区"),
            County("130123", "正定县"),
            County("130125", "行唐县"),
            County("130126", "灵寿县"),
            County("130129", "赞皇县"),
            County("130131", "平山县"),
            County("130133", "赵县"),
            County("130181", "辛集市"),
            County("130183", "晋州市"),
        ),
    ),
    City(
        "河北省",
        "唐山市",
        8,
        (
            County("130203", "路北区"),
            County("130208", "丰润区"),
            County("130224", "滦南县"),
            County("130225", "乐亭县"),
            County("130229", "玉田县"),
            County("130281", "遵化市"),
        ),
    ),
    City(
        "河北省",
        "秦皇岛市",
        4,
        (
            County("130302", "海港区"),
            County("130321", "青龙满族自治县", (MANCHU,)),
            County("130322", "昌黎县"),
            County("130324", "卢龙县"),
        ),
    ),
    City(
        "河北省",
        "邯郸市",
        10,
        (
            County("130403", "丛台区"),
            County("130408", "永年区"),
            County("130425", "大名县"),
            County("130426", "涉县"),
            County("130427", "磁县"),
            County("130434", "魏县"),
            County("130435", "曲周县"),
            County("130481", "武安市"),
        ),
    ),
    City(
        "河北省",
        "邢台市",
        10,
        (
            County("130503", "信都区"),
            County("130522", "临城县"),
            County("130525", "隆尧县"),
            County("130528", "宁晋县"),
            County("130529", "巨鹿县"),
            County("130531", "广宗县"),
            County("130533", "威县"),
            County("130581", "南宫市"),
        ),
    ),
    City(
        "河北省",
        "保定市",
        12,
        (
            County("130606", "莲池区"),
            County("130608", "清苑区"),
            County("130624", "阜平县"),
            County("130627", "唐县"),
            County("130630", "涞源县"),
            County("130633", "易县"),
            County("130634", "曲阳县"),
            County("130681", "涿州市"),
            County("130682", "定州市"),
        ),
    ),
    City(
        "河北省",
        "张家口市",
        6,
        (
            County("130705", "宣化区"),
            County("130722", "张北县"),
            County("130723", "康保县"),
            County("130724", "沽源县"),
            County("130726", "蔚县"),
            County("130727", "阳原县"),
        ),
    ),
    City(
        "河北省",
        "承德市",
        5,
        (
            County("130802", "双桥区"),
            County("130821", "承德县", (MANCHU,)),
            County("130825", "隆化县", (MANCHU,)),
            County("130826", "丰宁满族自治县", (("满族", 0.5),)),
            County("130827", "宽城满族自治县", (("满族", 0.5),)),
            County("130828", "围场满族蒙古族自治县", (("满族", 0.4), ("蒙古族", 0.1))),
        ),
    ),
    City(
        "河北省",
        "沧州市",
        8,
        (
            County("130903", "运河区"),
            County("130921", "沧县"),
            County("130925", "盐山县"),
            County("130929", "献县"),
            County("130930", "孟村回族自治县", (HUI,)),
            County("130981", "泊头市", (("回族", 0.08),)),
            County("130984", "河间市"),
        ),
    ),
    City(
        "河北省",
        "廊坊市",
        4,
        (
            County("131003", "广阳区"),
            County("131022", "固安县"),
            County("131028", "大厂回族自治县", (HUI,)),
            County("131081", "霸州市"),
        ),
    ),
    City(
        "河北省",
        "衡水市",
        7,
        (
            County("131102", "桃城区"),
            County("131121", "枣强县"),
            County("131122", "武邑县"),
            County("131124", "饶阳县"),
            County("131127", "景县"),
            County("131182", "深州市"),
        ),
    ),
    City("山西省", "忻州市", 1.5, (County("140922", "五台县"),)),
    City("山西省", "吕梁市", 1, (County("141124", "临县"),)),
    City("河南省", "周口市", 1.5, (County("411625", "郸城县"),)),
    City("河南省", "商丘市", 1, (County("411425", "虞城县"),)),
    City("山东省", "聊城市", 1, (County("371525", "冠县"),)),
    City("山东省", "德州市", 1, (County("371422", "宁津县"),)),
    City("天津市", "天津市", 1, (County("120119", "蓟州区"),)),
    City("内蒙古自治区", "赤峰市", 1, (County("150430", "敖汉旗", (("蒙古族", 0.3),)),)),
    City("辽宁省", "朝阳市", 0.7, (County("211322", "建平县", (("蒙古族", 0.1), ("满族", 0.05))),)),
    City("黑龙江省", "绥化市", 0.5, (County("231222", "兰西县"),)),
    City("甘肃省", "定西市", 0.8, (County("621121", "通渭县"),)),
    City("贵州省", "毕节市", 0.5, (County("520526", "威宁彝族回族苗族自治县", (("回族", 0.15),)),)),
)

# Everywhere else, a few students of the common northern minorities.
BACKGROUND_MINORITIES: tuple[tuple[str, float], ...] = (("回族", 0.012), ("满族", 0.015), ("蒙古族", 0.004))

TOWNS = ("城关镇", "大营镇", "王口镇", "北关镇", "南孟镇", "东王镇", "西河乡", "留村乡", "马庄镇", "李家庄乡")
VILLAGES = ("前街村", "后屯村", "东庄村", "西营村", "张家庄村", "小王庄村", "北辛庄村", "南刘村", "高家堡村", "王口村")
STREETS = ("建设路", "和平路", "中华大街", "胜利街", "新华路", "友谊大街", "光明街", "人民路", "育才街", "跃进路")
CROPS = ("小麦和玉米", "棉花", "谷子和红薯", "蔬菜", "苹果", "板栗")

PHONE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157",
    "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "191", "193", "195", "198", "199",
)  # fmt: skip

# Family situations by the student's most telling category; {placeholders} are filled per student.
FAMILY_SITUATIONS: dict[str, tuple[str, ...]] = {
    "orphan": (
        "父母早年因病去世，由祖父母抚养长大，祖父母年过七旬，靠种地和养老金生活。",
        "父亲车祸去世，母亲改嫁后失去联系，现由叔叔一家照顾。",
    ),
    "extreme_poverty": ("家中仅有年迈的奶奶，享受特困人员救助供养，生活主要依靠政府补助。",),
    "disabled": (
        "本人持有残疾人证（{disability}级），行动不便，家庭收入主要依靠父亲外出打工。",
        "本人听力残疾（{disability}级），佩戴助听器，父母务农收入微薄。",
    ),
    "disabled_parent": (
        "父亲因工伤致残，丧失劳动能力，母亲在家务农并照顾父亲。",
        "母亲为二级肢体残疾，常年需要照料，父亲打零工维持家用。",
    ),
    "subsistence_allowance": (
        "父亲患尿毒症需定期透析，医疗支出大，家庭享受最低生活保障。",
        "单亲家庭，母亲打零工收入不稳定，家庭享受最低生活保障。",
    ),
    "zero_employment": ("父母均无稳定工作，家中无就业人员，靠打零工和亲戚接济生活。",),
    "poverty_alleviated": (
        "家中{household}口人，父母在家务农，2016年被识别为建档立卡贫困户，2020年已脱贫。",
        "原建档立卡贫困户，父亲在外打零工，母亲务农，还有{siblings}个弟弟妹妹在上学。",
    ),
    "school_identified": (
        "母亲长期患病，医疗支出较大，家庭经济负担重。",
        "父母离异，随母亲生活，母亲在超市做收银员，收入较低。",
    ),
    "student_loan": ("家中兄妹{siblings}人同时上学，学费依靠生源地信用助学贷款。",),
    "rural": ("家住农村，父母种植{crop}为生，收入受年景影响大。",),
    "ethnic_minority": ("家住{county}，父母务农，家庭收入较低。",),
}
# The order in which a category decides which sentence describes the family.
SITUATION_ORDER = (
    "orphan",
    "extreme_poverty",
    "disabled",
    "disabled_parent",
    "subsistence_allowance",
    "zero_employment",
    "poverty_alleviated",
    "school_identified",
    "student_loan",
    "rural",
    "ethnic_minority",
)

LEAVE_REASONS = (
    "家庭经济状况好转，经学期复核退出台账。",
    "父母实现稳定就业，家庭收入提高，本人申请退出。",
)
HANDOVER_NOTES = (
    "该生性格内向，已完成三次谈心谈话，简历修改过两次，意向回家乡附近工作，方便照顾老人。",
    "该生专业成绩中上，想参加专升本考试，已推荐两个实习岗位，家长电话在学生档案中。",
    "该生已在勤工助学岗位工作一年，表现踏实，正在准备求职简历，需继续跟进招聘会。",
)

# Chinese names of the ledger categories, for the reasons written into the demo ledger.
CATEGORY_ZH = {
    "poverty_alleviated": "脱贫家庭",
    "subsistence_allowance": "低保家庭",
    "zero_employment": "零就业家庭",
    "disabled": "残疾学生",
    "extreme_poverty": "特困供养",
    "orphan": "孤儿",
    "disabled_parent": "残疾人子女",
    "ethnic_minority": "少数民族",
    "rural": "农村生源",
    "student_loan": "国家助学贷款",
    "school_identified": "学校认定家庭经济困难",
}

# The work ledger: what helpers write, where they go, whom they recommend.
ACTIVITY_NOTES = {
    "check_in": (
        "每月对接：学习生活正常，本月无挂科风险。",
        "每月对接：询问勤工助学情况，已按时领取助学金。",
        "每月对接：与宿舍同学相处融洽，情绪稳定。",
    ),
    "talk": (
        "谈心谈话：聊家庭近况和职业规划，学生希望回家乡附近工作，方便照顾祖父母。",
        "谈心谈话：学生对求职有些焦虑，帮助梳理自身优势。",
    ),
    "resume_revision": ("修改简历：突出实习经历和专业技能证书。", "修改简历：调整求职意向，精简自我评价。"),
    "event_together": ("陪同参加招聘会，投递简历三份。", "一起参加专场招聘，现场面试一家企业。"),
    "job_recommendation": ("推荐岗位，与专业对口，地点在省内。", "推荐岗位，学生表示愿意投递。"),
    "follow_up": ("离校跟踪：在岗稳定，试用期已转正。", "离校跟踪：工作适应良好，月薪有所提高。"),
    "other": ("职业生涯指导：讲解求职流程和就业政策。", "帮助学生申请求职创业补贴。"),
}
RECRUITMENT_EVENTS = (
    "2025届毕业生秋季大型双选会",
    "石家庄市高校毕业生专场招聘会",
    "河北省“职引未来”网络招聘会",
    "服装行业校企合作专场招聘",
)
EMPLOYERS = (
    ("河北冀之力商贸有限公司", "业务专员"),
    ("苏州爱依贝服饰有限公司", "服装设计助理"),
    ("石家庄东方制造有限公司", "机电设备维护员"),
    ("保定华创信息技术有限公司", "软件测试工程师"),
    ("邢台顺达物流有限公司", "仓储主管助理"),
)
# A minimal valid PDF that stands for a helper's revised résumé in the demo.
SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

# --- Employers, positions and destinations (src/bangfu/demo/opportunities.py) -----------------------------------


class EmployerSpec(NamedTuple):
    name: str
    authority: str  # the first two characters of the credit code: 91 enterprise, 12 public institution
    region: str  # the six-digit region code of the registering office
    industry: str  # GB/T 4754 section
    employer_type: str
    size: str
    province: str
    city: str
    partner: str  # I internship base, O order-class partner, W work-study host
    departments: str  # codes of the departments it recruits from, separated by spaces
    contact: str


# name | credit-code authority and region | industry | type | size | province and city | partner | departments | contact
_EMPLOYER_TABLE = """
石家庄华讯软件技术有限公司 | 91 130108 | I | private | medium | 河北省 石家庄市 | I | XX | 孙经理
河北冀云数据服务有限公司 | 91 130105 | I | state_owned | medium | 河北省 石家庄市 | - | XX JG | 王主管
保定锐驰新能源汽车零部件有限公司 | 91 130602 | C | private | large | 河北省 保定市 | IO | QC JD | 刘部长
唐山曹妃甸重工机械有限公司 | 91 130209 | C | state_owned | large | 河北省 唐山市 | I | JD | 张科长
廊坊京南智能装备有限公司 | 91 131003 | C | private | medium | 河北省 廊坊市 | - | JD XX | 赵经理
北京启明星数智科技有限公司 | 91 110108 | I | private | medium | 北京市 海淀区 | - | XX | 陈女士
北京顺鑫众合供应链管理有限公司 | 91 110113 | G | private | large | 北京市 顺义区 | - | JG | 杨经理
天津港海联国际物流有限公司 | 91 120116 | G | state_owned | large | 天津市 滨海新区 | I | JG | 周主任
天津泰达汽车技术服务有限公司 | 91 120116 | O | joint_venture | medium | 天津市 滨海新区 | - | QC | 吴经理
河北建工集团第三工程有限公司 | 91 130602 | E | state_owned | large | 河北省 保定市 | I | JZ | 郑工
沧州渤海工程造价咨询有限公司 | 91 130902 | M | private | small | 河北省 沧州市 | - | JZ | 冯经理
邢台恒信会计师事务所有限公司 | 91 130502 | L | private | small | 河北省 邢台市 | - | JG | 许主任
石家庄康泰制药有限公司 | 91 130185 | C | private | large | 河北省 石家庄市 | I | HG | 何部长
衡水瑞丰精细化工有限公司 | 91 131102 | C | private | medium | 河北省 衡水市 | - | HG | 高经理
保定雅韵服饰有限公司 | 91 130606 | C | private | medium | 河北省 保定市 | I | FZ | 林女士
北京星图数字传媒有限公司 | 91 110105 | R | private | small | 北京市 朝阳区 | - | FZ XX | 罗女士
廊坊万家惠电子商务有限公司 | 91 131003 | F | private | medium | 河北省 廊坊市 | - | JG FZ | 马经理
天津宝坻顺达汽车销售服务有限公司 | 91 120115 | F | private | small | 天津市 宝坻区 | - | QC | 梁经理
邯郸钢联精密铸造有限公司 | 91 130404 | C | private | medium | 河北省 邯郸市 | - | JD HG | 宋科长
石家庄市长安区社区卫生服务中心 | 12 130102 | Q | public_institution | medium | 河北省 石家庄市 | - | HG | 韩主任
燕赵科技职业技术大学后勤服务中心 | 12 130100 | O | public_institution | medium | 河北省 石家庄市 | W | - | 唐老师
"""


def _employers(table: str) -> tuple[EmployerSpec, ...]:
    specs = []
    for line in table.strip().splitlines():
        name, code, industry, kind, size, place, partner, departments, contact = (c.strip() for c in line.split("|"))
        authority, region = code.split()
        province, city = place.split()
        partner, departments = partner.strip("-"), departments.strip("-")
        specs.append(
            EmployerSpec(name, authority, region, industry, kind, size, province, city, partner, departments, contact)
        )
    return tuple(specs)


DEMO_EMPLOYERS = _employers(_EMPLOYER_TABLE)
# Job titles each department's graduates are recruited for, with the usual starting salary range (yuan a month).
JOB_TITLES: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "JD": (("机电设备维修员", "数控车工", "工业机器人运维员", "设备调试技术员"), (4500, 6500)),
    "XX": (("软件测试工程师", "网络运维工程师", "数据标注员", "Java开发助理工程师"), (5000, 8000)),
    "QC": (("新能源汽车检测员", "汽车售后技师", "电池装配技术员"), (4500, 7000)),
    "JG": (("出纳", "电商运营专员", "仓储主管助理", "财务助理"), (3800, 5500)),
    "JZ": (("施工员", "造价员", "资料员"), (4500, 6500)),
    "FZ": (("服装设计助理", "新媒体美工", "视频剪辑师"), (3800, 5500)),
    "HG": (("药品生产操作员", "质检员", "化验员"), (4200, 6000)),
}
INTERNSHIP_TITLES = ("岗位实习生", "暑期实习生")
INTERNSHIP_EVALUATIONS = (
    "工作认真负责，动手能力强。",
    "能按要求完成岗位任务，沟通良好。",
    "吃苦耐劳，受到带教师傅好评。",
)
WORK_STUDY_TITLES = ("图书馆助理", "食堂勤工助学岗", "学院办公室助理", "机房管理员", "宿舍楼值班员", "校园快递站助理")
EVENT_PLACES = ("学校体育馆", "图书馆一楼报告厅", "石家庄国际会展中心", "线上（河北省高校毕业生就业信息网）")
# Where graduates go besides the school's employers: (destination code, name of the employer or school).
OTHER_DESTINATIONS: dict[str, tuple[str, ...]] = {
    "employed": (
        "石家庄新华书店有限公司",
        "河北盛通物流有限公司",
        "保定天威电气设备有限公司",
        "北京美团三快科技有限公司石家庄分公司",
        "唐山市路北区顺风汽车修理厂",
        "沧州市运河区鑫源建材经销部",
    ),
    "80": ("河北科技大学", "河北经贸大学", "石家庄学院", "河北工程大学", "邢台学院"),
    "85": ("日本东京国际商务学院",),
    "46": ("中国人民解放军（河北省征兵办公室）",),
    "50": ("“三支一扶”计划（河北省人力资源和社会保障厅）",),
    "51": ("河北省大学生村官项目（石家庄市平山县）",),
    "75": ("石家庄市裕华区小美电商工作室", "邢台市信都区乐创汽车美容店"),
    "76": ("自由职业（新媒体设计）", "自由职业（网店运营）"),
    "77": ("灵活就业（社区团购）", "灵活就业（外卖配送）"),
}
FOLLOW_UP_NOTES = {
    "still_employed": ("离校跟踪：在岗稳定，试用期已转正。", "离校跟踪：工作适应良好，月薪有所提高。"),
    "changed_job": ("离校跟踪：已换到离家更近的单位，工作稳定。",),
    "unemployed": ("离校跟踪：原单位试用期未通过，正在求职，已推送岗位信息。",),
    "further_study": ("离校跟踪：已在本科院校报到，学习适应良好。",),
}
DECLINE_NOTES = {"other": "学生家中有事，暂不考虑外地岗位。"}
