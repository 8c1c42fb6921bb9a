"""A student's name as a consent allows it to be shown: in full, by surname only (王同学 / "Student Wang"), or not.

The English surname is its Hanyu Pinyin; the table holds the common surnames, and a rare one is shown in
characters rather than guessed.
"""

from django.utils.translation import gettext as _

from bangfu.showcase.models import NameShown

COMPOUND_SURNAMES = {
    "欧阳": "Ouyang",
    "司马": "Sima",
    "诸葛": "Zhuge",
    "上官": "Shangguan",
    "东方": "Dongfang",
    "皇甫": "Huangfu",
    "令狐": "Linghu",
    "慕容": "Murong",
    "司徒": "Situ",
    "夏侯": "Xiahou",
    "尉迟": "Yuchi",
    "长孙": "Zhangsun",
    "公孙": "Gongsun",
    "端木": "Duanmu",
    "宇文": "Yuwen",
}

_SINGLE = """
王:Wang 李:Li 张:Zhang 刘:Liu 陈:Chen 杨:Yang 黄:Huang 赵:Zhao 吴:Wu 周:Zhou 徐:Xu 孙:Sun 马:Ma 朱:Zhu 胡:Hu 郭:Guo
何:He 林:Lin 罗:Luo 高:Gao 郑:Zheng 梁:Liang 谢:Xie 宋:Song 唐:Tang 许:Xu 邓:Deng 韩:Han 冯:Feng 曹:Cao 彭:Peng
曾:Zeng 肖:Xiao 萧:Xiao 田:Tian 董:Dong 潘:Pan 袁:Yuan 蔡:Cai 蒋:Jiang 余:Yu 于:Yu 杜:Du 叶:Ye 程:Cheng 魏:Wei
苏:Su 吕:Lü 丁:Ding 任:Ren 卢:Lu 姚:Yao 沈:Shen 钟:Zhong 姜:Jiang 崔:Cui 谭:Tan 陆:Lu 范:Fan 汪:Wang 廖:Liao 石:Shi
金:Jin 韦:Wei 贾:Jia 夏:Xia 付:Fu 傅:Fu 方:Fang 邹:Zou 熊:Xiong 白:Bai 孟:Meng 秦:Qin 邱:Qiu 侯:Hou 江:Jiang 尹:Yin
薛:Xue 闫:Yan 阎:Yan 段:Duan 雷:Lei 龙:Long 黎:Li 史:Shi 陶:Tao 贺:He 毛:Mao 郝:Hao 顾:Gu 龚:Gong 邵:Shao 万:Wan
覃:Qin 武:Wu 钱:Qian 戴:Dai 严:Yan 莫:Mo 孔:Kong 向:Xiang 常:Chang 汤:Tang 康:Kang 易:Yi 乔:Qiao 赖:Lai 文:Wen
施:Shi 洪:Hong 辛:Xin 柳:Liu 温:Wen 牛:Niu 樊:Fan 葛:Ge 邢:Xing 安:An 齐:Qi 伍:Wu 庞:Pang 颜:Yan 倪:Ni 聂:Nie
章:Zhang 鲁:Lu 岳:Yue 翟:Zhai 殷:Yin 詹:Zhan 申:Shen 耿:Geng 关:Guan 兰:Lan 焦:Jiao 俞:Yu 左:Zuo 柴:Chai 甘:Gan
祝:Zhu 包:Bao 宁:Ning 尚:Shang 符:Fu 舒:Shu 阮:Ruan 柯:Ke 纪:Ji 梅:Mei 童:Tong 凌:Ling 毕:Bi 单:Shan 季:Ji 裴:Pei
霍:Huo 涂:Tu 成:Cheng 苗:Miao 谷:Gu 盛:Sheng 曲:Qu 翁:Weng 冉:Ran 骆:Luo 蓝:Lan 路:Lu 游:You 靳:Jin 欧:Ou 管:Guan
柏:Bai 华:Hua 卫:Wei 饶:Rao 景:Jing 滕:Teng 解:Xie 虞:Yu 宫:Gong 蒲:Pu 尤:You 仇:Qiu 闵:Min 桂:Gui 褚:Chu 米:Mi
容:Rong 车:Che 巩:Gong 房:Fang 吉:Ji 衣:Yi 卜:Bu 宗:Zong 隋:Sui 丛:Cong 姬:Ji 郁:Yu 苟:Gou 沙:Sha 邬:Wu 穆:Mu 娄:Lou
屈:Qu 鞠:Ju 牟:Mou 商:Shang 晏:Yan 佟:Tong 宾:Bin 邝:Kuang 索:Suo 谈:Tan 荣:Rong 党:Dang 戚:Qi 丘:Qiu 朴:Piao 祁:Qi
薄:Bo 鲍:Bao 郎:Lang 杭:Hang 明:Ming 项:Xiang 凤:Feng 席:Xi 井:Jing 连:Lian 艾:Ai
"""
SURNAMES = dict(pair.split(":") for pair in _SINGLE.split())


def surname_of(name: str) -> str:
    name = name.strip()
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]


def surname_in_english(surname: str) -> str:
    return COMPOUND_SURNAMES.get(surname) or SURNAMES.get(surname) or surname


def shown_name(name: str, name_shown: str, language: str) -> str:
    """The name the public page prints, in `language` ("en" or "zh-hans")."""
    if name_shown == NameShown.FULL:
        return name
    if name_shown == NameShown.SURNAME and name.strip():
        surname = surname_of(name)
        if language == "en":
            surname = surname_in_english(surname)
        # Translated as "%(surname)s同学".
        return _("Student %(surname)s") % {"surname": surname}
    return _("A student")
