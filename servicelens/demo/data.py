"""Static vocabulary of the demo company "澜图电器 (Lantu Appliances)": regions, cities, products,
names and the Chinese text templates tickets and comments are built from.

Everything here is plain data so the generator stays readable; the order of every tuple matters
(the generator draws from them by index, so reordering changes what a seed produces).
"""

from __future__ import annotations

from typing import Final, NamedTuple

COMPANY: Final = "澜图电器"
COMPANY_EN: Final = "Lantu Appliances"
# A reserved TLD (RFC 2606) so no generated address can ever reach a real mailbox.
MAIL_DOMAIN: Final = "lantu.example"


class City(NamedTuple):
    name: str
    full: str  # as written in an address
    lat: float
    lng: float
    weight: float  # share of the region's customers
    districts: tuple[str, ...]


class RegionSpec(NamedTuple):
    code: str
    name: str
    name_en: str
    weight: float  # share of all customers (and so of tickets)
    cities: tuple[City, ...]
    phone: str  # "cn" | "hk" | "mo" | "tw": how phone numbers look


REGIONS: Final[tuple[RegionSpec, ...]] = (
    RegionSpec(
        "east",
        "华东",
        "East China",
        0.26,
        (
            City(
                "上海",
                "上海市",
                31.2304,
                121.4737,
                0.24,
                ("浦东新区", "徐汇区", "闵行区", "静安区", "杨浦区"),
            ),
            City("杭州", "浙江省杭州市", 30.2741, 120.1551, 0.14, ("西湖区", "拱墅区", "滨江区", "余杭区")),
            City("南京", "江苏省南京市", 32.0603, 118.7969, 0.12, ("鼓楼区", "玄武区", "江宁区", "建邺区")),
            City("苏州", "江苏省苏州市", 31.2989, 120.5853, 0.10, ("姑苏区", "工业园区", "吴中区")),
            City("宁波", "浙江省宁波市", 29.8683, 121.5440, 0.08, ("鄞州区", "海曙区", "江北区")),
            City("合肥", "安徽省合肥市", 31.8206, 117.2272, 0.08, ("蜀山区", "包河区", "庐阳区")),
            City("福州", "福建省福州市", 26.0745, 119.2965, 0.06, ("鼓楼区", "台江区", "仓山区")),
            City("济南", "山东省济南市", 36.6512, 117.1201, 0.07, ("历下区", "市中区", "槐荫区")),
            City("青岛", "山东省青岛市", 36.0671, 120.3826, 0.06, ("市南区", "崂山区", "黄岛区")),
            City("厦门", "福建省厦门市", 24.4798, 118.0894, 0.05, ("思明区", "湖里区", "集美区")),
        ),
        "cn",
    ),
    RegionSpec(
        "north",
        "华北",
        "North China",
        0.16,
        (
            City("北京", "北京市", 39.9042, 116.4074, 0.42, ("朝阳区", "海淀区", "丰台区", "东城区", "通州区")),
            City("天津", "天津市", 39.3434, 117.3616, 0.20, ("和平区", "南开区", "河西区")),
            City("石家庄", "河北省石家庄市", 38.0428, 114.5149, 0.12, ("长安区", "桥西区", "裕华区")),
            City("太原", "山西省太原市", 37.8706, 112.5489, 0.10, ("小店区", "迎泽区", "杏花岭区")),
            City("呼和浩特", "内蒙古呼和浩特市", 40.8424, 111.7490, 0.08, ("新城区", "赛罕区", "回民区")),
            City("唐山", "河北省唐山市", 39.6305, 118.1802, 0.08, ("路北区", "路南区")),
        ),
        "cn",
    ),
    RegionSpec(
        "south",
        "华南",
        "South China",
        0.18,
        (
            City(
                "广州",
                "广东省广州市",
                23.1291,
                113.2644,
                0.28,
                ("天河区", "越秀区", "海珠区", "番禺区", "白云区"),
            ),
            City("深圳", "广东省深圳市", 22.5431, 114.0579, 0.26, ("南山区", "福田区", "宝安区", "龙岗区")),
            City("东莞", "广东省东莞市", 23.0207, 113.7518, 0.12, ("南城街道", "东城街道", "长安镇")),
            City("佛山", "广东省佛山市", 23.0215, 113.1214, 0.12, ("禅城区", "南海区", "顺德区")),
            City("南宁", "广西南宁市", 22.8170, 108.3665, 0.10, ("青秀区", "兴宁区", "西乡塘区")),
            City("海口", "海南省海口市", 20.0440, 110.1999, 0.06, ("龙华区", "美兰区")),
            City("珠海", "广东省珠海市", 22.2710, 113.5767, 0.06, ("香洲区", "金湾区")),
        ),
        "cn",
    ),
    RegionSpec(
        "central",
        "华中",
        "Central China",
        0.12,
        (
            City("武汉", "湖北省武汉市", 30.5928, 114.3055, 0.32, ("武昌区", "江汉区", "洪山区", "江岸区")),
            City("长沙", "湖南省长沙市", 28.2282, 112.9388, 0.24, ("岳麓区", "芙蓉区", "天心区")),
            City("郑州", "河南省郑州市", 34.7466, 113.6254, 0.22, ("金水区", "二七区", "中原区")),
            City("南昌", "江西省南昌市", 28.6820, 115.8579, 0.12, ("东湖区", "红谷滩区", "青山湖区")),
            City("宜昌", "湖北省宜昌市", 30.6919, 111.2865, 0.05, ("西陵区", "伍家岗区")),
            City("洛阳", "河南省洛阳市", 34.6197, 112.4540, 0.05, ("洛龙区", "涧西区")),
        ),
        "cn",
    ),
    RegionSpec(
        "southwest",
        "西南",
        "Southwest China",
        0.11,
        (
            City("成都", "四川省成都市", 30.5728, 104.0668, 0.36, ("武侯区", "锦江区", "高新区", "青羊区")),
            City("重庆", "重庆市", 29.5630, 106.5516, 0.32, ("渝中区", "江北区", "南岸区", "渝北区")),
            City("昆明", "云南省昆明市", 24.8801, 102.8329, 0.14, ("五华区", "盘龙区", "官渡区")),
            City("贵阳", "贵州省贵阳市", 26.6470, 106.6302, 0.12, ("南明区", "云岩区", "观山湖区")),
            City("绵阳", "四川省绵阳市", 31.4675, 104.6796, 0.04, ("涪城区", "游仙区")),
            City("拉萨", "西藏拉萨市", 29.6520, 91.1721, 0.02, ("城关区",)),
        ),
        "cn",
    ),
    RegionSpec(
        "northwest",
        "西北",
        "Northwest China",
        0.06,
        (
            City("西安", "陕西省西安市", 34.3416, 108.9398, 0.48, ("雁塔区", "碑林区", "未央区")),
            City("兰州", "甘肃省兰州市", 36.0611, 103.8343, 0.17, ("城关区", "七里河区")),
            City("银川", "宁夏银川市", 38.4872, 106.2309, 0.12, ("兴庆区", "金凤区")),
            City("西宁", "青海省西宁市", 36.6171, 101.7782, 0.08, ("城中区", "城西区")),
            City("乌鲁木齐", "新疆乌鲁木齐市", 43.8256, 87.6168, 0.15, ("天山区", "沙依巴克区")),
        ),
        "cn",
    ),
    RegionSpec(
        "northeast",
        "东北",
        "Northeast China",
        0.07,
        (
            City("沈阳", "辽宁省沈阳市", 41.8057, 123.4315, 0.30, ("和平区", "沈河区", "皇姑区")),
            City("大连", "辽宁省大连市", 38.9140, 121.6147, 0.22, ("中山区", "沙河口区", "甘井子区")),
            City("长春", "吉林省长春市", 43.8171, 125.3235, 0.20, ("朝阳区", "南关区")),
            City("哈尔滨", "黑龙江省哈尔滨市", 45.8038, 126.5350, 0.22, ("南岗区", "道里区", "香坊区")),
            City("吉林", "吉林省吉林市", 43.8378, 126.5496, 0.06, ("船营区", "昌邑区")),
        ),
        "cn",
    ),
    RegionSpec(
        "hmt",
        "港澳台",
        "Hong Kong, Macao & Taiwan",
        0.04,
        (
            City("香港", "香港", 22.3193, 114.1694, 0.50, ("九龙城区", "沙田区", "湾仔区", "观塘区")),
            City("澳门", "澳门", 22.1987, 113.5439, 0.12, ("花地玛堂区", "大堂区")),
            City("台北", "台湾台北市", 25.0330, 121.5654, 0.26, ("大安区", "信义区", "中山区")),
            City("高雄", "台湾高雄市", 22.6273, 120.3014, 0.12, ("苓雅区", "前镇区")),
        ),
        "hk",
    ),
)

STREETS: Final = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "长江路",
    "黄河路",
    "文化路",
    "新华路",
    "友谊路",
    "青年路",
    "胜利路",
    "迎宾大道",
    "科技路",
    "滨河路",
)
COMMUNITIES: Final = (
    "阳光花园",
    "锦绣家园",
    "翠湖苑",
    "金色家园",
    "幸福里",
    "御景湾",
    "紫荆苑",
    "和平小区",
    "滨江花园",
    "春华苑",
    "明珠新村",
    "绿洲雅苑",
)

# (surname, pinyin, relative frequency): the common surnames, roughly by frequency.
SURNAMES: Final[tuple[tuple[str, str, float], ...]] = (
    ("王", "wang", 7.1),
    ("李", "li", 7.0),
    ("张", "zhang", 6.7),
    ("刘", "liu", 5.4),
    ("陈", "chen", 4.5),
    ("杨", "yang", 3.1),
    ("黄", "huang", 2.2),
    ("赵", "zhao", 2.0),
    ("吴", "wu", 2.0),
    ("周", "zhou", 1.9),
    ("徐", "xu", 1.3),
    ("孙", "sun", 1.3),
    ("马", "ma", 1.2),
    ("朱", "zhu", 1.1),
    ("胡", "hu", 1.1),
    ("郭", "guo", 1.0),
    ("何", "he", 0.9),
    ("林", "lin", 0.9),
    ("高", "gao", 0.9),
    ("罗", "luo", 0.9),
    ("郑", "zheng", 0.8),
    ("梁", "liang", 0.8),
    ("谢", "xie", 0.6),
    ("宋", "song", 0.6),
    ("唐", "tang", 0.6),
    ("许", "xu", 0.5),
    ("韩", "han", 0.5),
    ("邓", "deng", 0.5),
    ("冯", "feng", 0.5),
    ("曹", "cao", 0.5),
    ("彭", "peng", 0.5),
    ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.5),
    ("田", "tian", 0.4),
    ("董", "dong", 0.4),
    ("潘", "pan", 0.4),
    ("袁", "yuan", 0.4),
    ("蔡", "cai", 0.4),
    ("蒋", "jiang", 0.4),
    ("余", "yu", 0.4),
    ("于", "yu", 0.4),
    ("杜", "du", 0.4),
    ("叶", "ye", 0.4),
    ("程", "cheng", 0.4),
    ("魏", "wei", 0.3),
    ("苏", "su", 0.3),
    ("吕", "lv", 0.3),
    ("丁", "ding", 0.3),
    ("任", "ren", 0.3),
    ("卢", "lu", 0.3),
    ("姚", "yao", 0.3),
    ("沈", "shen", 0.3),
    ("钟", "zhong", 0.3),
    ("姜", "jiang", 0.3),
    ("崔", "cui", 0.3),
    ("谭", "tan", 0.3),
    ("陆", "lu", 0.3),
    ("范", "fan", 0.2),
    ("汪", "wang", 0.2),
    ("廖", "liao", 0.2),
    ("石", "shi", 0.2),
    ("金", "jin", 0.2),
    ("韦", "wei", 0.2),
    ("贾", "jia", 0.2),
    ("夏", "xia", 0.2),
    ("方", "fang", 0.2),
    ("邹", "zou", 0.2),
    ("熊", "xiong", 0.2),
    ("白", "bai", 0.2),
    ("孟", "meng", 0.2),
    ("秦", "qin", 0.2),
    ("邱", "qiu", 0.2),
    ("侯", "hou", 0.2),
    ("江", "jiang", 0.2),
    ("尹", "yin", 0.2),
    ("薛", "xue", 0.2),
    ("段", "duan", 0.2),
    ("雷", "lei", 0.2),
    ("龙", "long", 0.2),
    ("黎", "li", 0.2),
    ("陶", "tao", 0.2),
    ("贺", "he", 0.2),
    ("顾", "gu", 0.2),
    ("毛", "mao", 0.2),
    ("郝", "hao", 0.2),
    ("龚", "gong", 0.2),
    ("邵", "shao", 0.2),
    ("万", "wan", 0.2),
    ("钱", "qian", 0.2),
    ("戴", "dai", 0.2),
    ("严", "yan", 0.2),
    ("欧阳", "ouyang", 0.05),
    ("司马", "sima", 0.02),
)

GIVEN_CHARS: Final[tuple[tuple[str, str], ...]] = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀", "xiu"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂", "gui"),
    ("英", "ying"),
    ("华", "hua"),
    ("玉", "yu"),
    ("兰", "lan"),
    ("萍", "ping"),
    ("红", "hong"),
    ("建", "jian"),
    ("文", "wen"),
    ("辉", "hui"),
    ("鹏", "peng"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("琳", "lin"),
    ("晨", "chen"),
    ("欣", "xin"),
    ("怡", "yi"),
    ("佳", "jia"),
    ("梓", "zi"),
    ("涵", "han"),
    ("子", "zi"),
    ("轩", "xuan"),
    ("博", "bo"),
    ("思", "si"),
    ("雨", "yu"),
    ("嘉", "jia"),
    ("俊", "jun"),
    ("凯", "kai"),
    ("斌", "bin"),
    ("海", "hai"),
    ("波", "bo"),
    ("峰", "feng"),
    ("亮", "liang"),
    ("春", "chun"),
    ("燕", "yan"),
    ("丹", "dan"),
    ("慧", "hui"),
    ("颖", "ying"),
    ("倩", "qian"),
    ("晓", "xiao"),
    ("志", "zhi"),
    ("国", "guo"),
    ("立", "li"),
    ("永", "yong"),
    ("健", "jian"),
    ("鑫", "xin"),
    ("昊", "hao"),
    ("宁", "ning"),
    ("欢", "huan"),
    ("悦", "yue"),
    ("瑶", "yao"),
    ("蕾", "lei"),
    ("璐", "lu"),
    ("阳", "yang"),
    ("帆", "fan"),
    ("然", "ran"),
    ("泽", "ze"),
    ("晴", "qing"),
    ("诗", "shi"),
    ("梦", "meng"),
    ("安", "an"),
    ("成", "cheng"),
    ("荣", "rong"),
    ("德", "de"),
    ("淑", "shu"),
    ("珍", "zhen"),
    ("飞", "fei"),
)

# Mailbox providers of individual customers, on the reserved .example TLD.
PERSONAL_MAIL: Final = ("qq.example", "163.example", "126.example", "sina.example", "foxmail.example")

# Company-name building blocks for business customers (hotels, property managers… buy in bulk).
COMPANY_WORDS: Final[tuple[tuple[str, str], ...]] = (
    ("宏达", "hongda"),
    ("恒信", "hengxin"),
    ("华美", "huamei"),
    ("嘉和", "jiahe"),
    ("锦程", "jincheng"),
    ("瑞丰", "ruifeng"),
    ("鑫源", "xinyuan"),
    ("安居", "anju"),
    ("永盛", "yongsheng"),
    ("金桥", "jinqiao"),
    ("德润", "derun"),
    ("海悦", "haiyue"),
    ("天成", "tiancheng"),
    ("万家", "wanjia"),
    ("君悦", "junyue"),
    ("远航", "yuanhang"),
    ("信诚", "xincheng"),
    ("盛世", "shengshi"),
    ("百合", "baihe"),
    ("博雅", "boya"),
)
COMPANY_TRADES: Final = (
    "酒店管理",
    "物业服务",
    "餐饮管理",
    "公寓管理",
    "健身服务",
    "美容美发",
    "教育科技",
    "置业",
    "装饰工程",
    "电器销售",
    "连锁超市",
    "养老服务",
)

CN_MOBILE_PREFIXES: Final = (
    "133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159",
    "176", "177", "178", "180", "181", "182", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip

# Engineer skills; each component needs one of them (dispatch matches on it).
SKILLS: Final = (
    "compressor",
    "refrigeration",
    "heater",
    "gas",
    "electrical",
    "motor",
    "plumbing",
    "water_treatment",
    "installation",
)


class ComponentSpec(NamedTuple):
    code: str
    name: str
    skill: str
    weight: float  # relative failure frequency within its product


class ProductSpec(NamedTuple):
    code: str
    name: str
    category: str
    short: str  # how customers name it in a subject line
    weight: float  # relative share of tickets
    season: str  # "summer" | "winter" | "" : when its tickets peak
    components: tuple[ComponentSpec, ...]


# The product whose compressor drives the Pareto chart (user story 5: ~23 % of repairs).
HOT_PRODUCT: Final = "LT-AC35V"
HOT_COMPONENT: Final = "compressor"
HOT_SHARE: Final = 0.23

PRODUCTS: Final[tuple[ProductSpec, ...]] = (
    ProductSpec(
        "LT-WH60E",
        "电热水器 60L",
        "热水器",
        "电热水器",
        0.13,
        "winter",
        (
            ComponentSpec("heater", "加热管", "heater", 0.30),
            ComponentSpec("thermostat", "温控器", "electrical", 0.22),
            ComponentSpec("anode", "镁棒", "plumbing", 0.14),
            ComponentSpec("mainboard", "主控板", "electrical", 0.18),
            ComponentSpec("safety_valve", "安全阀", "plumbing", 0.10),
            ComponentSpec("tank", "内胆", "heater", 0.06),
        ),
    ),
    ProductSpec(
        "LT-GH16",
        "燃气热水器 16L",
        "热水器",
        "燃气热水器",
        0.09,
        "winter",
        (
            ComponentSpec("igniter", "点火器", "gas", 0.28),
            ComponentSpec("gas_valve", "燃气比例阀", "gas", 0.18),
            ComponentSpec("fan", "风机", "motor", 0.16),
            ComponentSpec("flow_sensor", "水流传感器", "electrical", 0.16),
            ComponentSpec("mainboard", "主控板", "electrical", 0.14),
            ComponentSpec("heat_exchanger", "换热器", "heater", 0.08),
        ),
    ),
    ProductSpec(
        HOT_PRODUCT,
        "变频空调 1.5匹 挂机",
        "空调",
        "空调",
        0.16,
        "summer",
        (
            ComponentSpec("compressor", "压缩机 QXB-141", "compressor", 0.30),
            ComponentSpec("mainboard", "主控板", "electrical", 0.22),
            ComponentSpec("fan_motor", "风扇电机", "motor", 0.16),
            ComponentSpec("sensor", "温度传感器", "electrical", 0.12),
            ComponentSpec("reversing_valve", "四通阀", "refrigeration", 0.10),
            ComponentSpec("remote", "遥控器", "electrical", 0.05),
            ComponentSpec("refrigerant_pipe", "冷媒管路", "refrigeration", 0.05),
        ),
    ),
    ProductSpec(
        "LT-AC72V",
        "变频空调 3匹 柜机",
        "空调",
        "柜式空调",
        0.07,
        "summer",
        (
            ComponentSpec("compressor", "压缩机 QXF-260", "compressor", 0.18),
            ComponentSpec("mainboard", "主控板", "electrical", 0.26),
            ComponentSpec("fan_motor", "风扇电机", "motor", 0.20),
            ComponentSpec("sensor", "温度传感器", "electrical", 0.14),
            ComponentSpec("reversing_valve", "四通阀", "refrigeration", 0.12),
            ComponentSpec("display", "显示屏", "electrical", 0.10),
        ),
    ),
    ProductSpec(
        "LT-RF450",
        "对开门冰箱 450L",
        "冰箱",
        "冰箱",
        0.10,
        "summer",
        (
            ComponentSpec("compressor", "压缩机 RC-90", "compressor", 0.20),
            ComponentSpec("thermostat", "温控器", "electrical", 0.20),
            ComponentSpec("defrost_heater", "化霜加热丝", "refrigeration", 0.18),
            ComponentSpec("fan", "风扇电机", "motor", 0.16),
            ComponentSpec("door_seal", "门封条", "installation", 0.16),
            ComponentSpec("ice_maker", "制冰机", "refrigeration", 0.10),
        ),
    ),
    ProductSpec(
        "LT-RF300",
        "三门冰箱 300L",
        "冰箱",
        "冰箱",
        0.06,
        "summer",
        (
            ComponentSpec("compressor", "压缩机 RC-60", "compressor", 0.22),
            ComponentSpec("thermostat", "温控器", "electrical", 0.26),
            ComponentSpec("defrost_heater", "化霜加热丝", "refrigeration", 0.20),
            ComponentSpec("door_seal", "门封条", "installation", 0.20),
            ComponentSpec("light", "照明灯", "electrical", 0.12),
        ),
    ),
    ProductSpec(
        "LT-WM10D",
        "滚筒洗衣机 10kg",
        "洗衣机",
        "滚筒洗衣机",
        0.12,
        "",
        (
            ComponentSpec("motor", "直驱电机", "motor", 0.18),
            ComponentSpec("drain_pump", "排水泵", "plumbing", 0.24),
            ComponentSpec("door_lock", "门锁", "electrical", 0.18),
            ComponentSpec("mainboard", "主控板", "electrical", 0.16),
            ComponentSpec("bearing", "轴承", "motor", 0.14),
            ComponentSpec("inlet_valve", "进水阀", "plumbing", 0.10),
        ),
    ),
    ProductSpec(
        "LT-WM8P",
        "波轮洗衣机 8kg",
        "洗衣机",
        "波轮洗衣机",
        0.06,
        "",
        (
            ComponentSpec("motor", "电机", "motor", 0.22),
            ComponentSpec("clutch", "离合器", "motor", 0.22),
            ComponentSpec("drain_valve", "排水阀", "plumbing", 0.22),
            ComponentSpec("mainboard", "主控板", "electrical", 0.20),
            ComponentSpec("lid_switch", "安全开关", "electrical", 0.14),
        ),
    ),
    ProductSpec(
        "LT-WP600",
        "RO反渗透净水器 600G",
        "净水器",
        "净水器",
        0.14,
        "",
        (
            ComponentSpec("ro_membrane", "RO膜", "water_treatment", 0.26),
            ComponentSpec("filter", "复合滤芯", "water_treatment", 0.26),
            ComponentSpec("booster_pump", "增压泵", "motor", 0.16),
            ComponentSpec("solenoid", "进水电磁阀", "plumbing", 0.14),
            ComponentSpec("faucet", "龙头", "plumbing", 0.10),
            ComponentSpec("tds_sensor", "TDS探头", "electrical", 0.08),
        ),
    ),
    ProductSpec(
        "LT-HD900",
        "侧吸式油烟机",
        "厨电",
        "油烟机",
        0.07,
        "",
        (
            ComponentSpec("motor", "风机电机", "motor", 0.30),
            ComponentSpec("switch_panel", "触控面板", "electrical", 0.26),
            ComponentSpec("check_valve", "止回阀", "installation", 0.20),
            ComponentSpec("light", "照明灯", "electrical", 0.12),
            ComponentSpec("oil_cup", "油杯", "installation", 0.12),
        ),
    ),
)

# Symptoms that are a safety risk: always urgent.
SAFETY_SYMPTOMS: Final = ("有燃气味", "一开机就跳闸", "内胆漏水")

# What customers say is wrong, per component code (shared across products).
SYMPTOMS: Final[dict[str, tuple[str, ...]]] = {
    "heater": ("不加热", "加热很慢，半天水不热", "一开机就跳闸"),
    "thermostat": ("水温忽冷忽热", "温度控制失灵", "冷藏室温度降不下来"),
    "anode": ("出水有异味发黄", "水里有白色沉淀"),
    "mainboard": ("显示屏报E1故障码", "通电后没有任何反应", "按键失灵，开不了机", "频繁自动断电重启"),
    "safety_valve": ("安全阀一直滴水", "泄压阀漏水"),
    "tank": ("内胆漏水", "机器底部渗水"),
    "igniter": ("打不着火", "点火时有爆燃声"),
    "gas_valve": ("火力忽大忽小", "有燃气味"),
    "fan": ("风机噪音大", "风扇不转"),
    "flow_sensor": ("开热水不启动", "用着用着突然变冷水"),
    "heat_exchanger": ("出水温度上不去", "换热器结垢严重"),
    "compressor": ("不制冷，压缩机不启动", "压缩机噪音很大", "外机嗡嗡响但不制冷", "制冷效果越来越差"),
    "fan_motor": ("内机风扇不转", "出风很小且有异响"),
    "sensor": ("显示温度不准", "报传感器故障"),
    "reversing_valve": ("不能制热", "制热时吹冷风"),
    "remote": ("遥控器没反应", "遥控器按键失灵"),
    "refrigerant_pipe": ("外机管路结霜", "缺氟制冷差"),
    "display": ("显示屏不亮", "显示屏乱码"),
    "defrost_heater": ("冷冻室结冰严重", "后背结霜不化"),
    "door_seal": ("门关不严漏冷气", "门封条脱落"),
    "ice_maker": ("制冰机不出冰", "制冰机漏水"),
    "light": ("照明灯不亮", "灯一闪一闪"),
    "motor": ("电机不转", "运转时声音很大", "吸力明显变小"),
    "drain_pump": ("不排水", "排水很慢报E21"),
    "door_lock": ("门锁打不开", "提示门未关好无法启动"),
    "bearing": ("脱水时异响很大", "滚筒晃动严重"),
    "inlet_valve": ("不进水", "进水一直不停"),
    "clutch": ("不能脱水", "波轮不转"),
    "drain_valve": ("排水阀漏水", "不排水"),
    "lid_switch": ("盖门报警无法运行", "安全开关失灵"),
    "ro_membrane": ("出水量很小", "TDS值偏高，水有怪味"),
    "filter": ("滤芯到期提醒一直亮", "出水浑浊"),
    "booster_pump": ("增压泵一直响", "不出纯水"),
    "solenoid": ("关机后还在排废水", "停机后一直流水"),
    "faucet": ("龙头漏水", "龙头出水断断续续"),
    "tds_sensor": ("水质显示异常", "TDS显示一直为0"),
    "switch_panel": ("触控面板失灵", "按键没反应"),
    "check_valve": ("倒灌油烟味", "止回阀异响"),
    "oil_cup": ("油杯漏油", "油杯装不上"),
}

GREETINGS: Final = ("您好，", "你好，", "", "客服您好，", "麻烦问一下，")
PURCHASES: Final = (
    "去年在官方商城",
    "前年在线下专卖店",
    "两年前在电商平台旗舰店",
    "今年初在家电卖场",
    "装修时通过工程渠道",
    "一年半前在官方商城",
)
IMPACTS: Final = (
    "家里老人孩子都等着用",
    "已经影响正常生活了",
    "这几天天气热实在受不了",
    "冬天洗不了澡很麻烦",
    "之前也出现过一次",
    "昨天晚上开始出现的",
    "邻居家同款也有类似问题",
)
ASKS: Final = (
    "麻烦尽快安排师傅上门。",
    "请问在保修期内吗？",
    "希望今天能有人联系我。",
    "方便的话周末上门。",
    "工程师来之前请先打电话。",
    "请尽快处理，谢谢。",
)
BUSINESS_IMPACTS: Final = (
    "我们酒店有十几个房间受影响，客人已经投诉",
    "公司员工宿舍都在用，影响很大",
    "门店营业受到影响",
    "公寓租户一直在催",
)

# (subject, category, agent answer) for inquiries: the first reply usually answers them.
INQUIRIES: Final[tuple[tuple[str, str, str], ...]] = (
    (
        "{p}怎么清洗滤网",
        "使用咨询",
        "滤网建议每月清洗一次：断电后打开面板取出滤网，用清水冲洗晾干后装回即可。",
    ),
    (
        "{p}显示E4代码是什么意思",
        "使用咨询",
        "E4表示进水异常，请先检查水龙头是否打开、进水管是否弯折，断电重启后再试。",
    ),
    (
        "请问{p}保修期多久",
        "使用咨询",
        "整机保修一年，主要部件（压缩机/加热管/电机）保修三至十年，凭购买凭证享受。",
    ),
    ("{p}怎么预约安装", "安装", "您可以在公众号或APP提交安装预约，我们会在24小时内联系您确认上门时间。"),
    ("{p}耗电量大概多少", "使用咨询", "该型号为一级能效，正常使用日均耗电约1-2度，具体以使用习惯为准。"),
    ("延保服务怎么购买", "使用咨询", "购机一年内可在官方商城购买延保服务，延保期内享受免费维修。"),
    ("{p}滤芯多久换一次", "使用咨询", "复合滤芯建议12个月更换，RO膜建议24个月更换，机器会自动提醒。"),
    ("订单什么时候发货", "物流", "您的订单已出库，预计2-3天送达，配送前快递员会电话联系您。"),
    ("以旧换新怎么参加", "使用咨询", "以旧换新活动可在官方商城下单时勾选，旧机由安装师傅上门回收并抵扣。"),
    ("发票怎么开", "退款", "电子发票会在确认收货后7天内发送到您的邮箱，也可在订单详情中下载。"),
    ("{p}可以自己安装吗", "安装", "为保证安全和保修，建议由我们的工程师免费上门安装，请勿自行拆装。"),
    ("安装需要另外收费吗", "安装", "标准安装免费，超出标准的辅材（如加长管、支架）按公示价格收费。"),
)
SUGGESTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("建议APP增加远程预约功能", "感谢您的建议，我们已反馈给产品团队评估。"),
    ("希望说明书增加图示", "感谢建议，新版说明书将增加图解步骤。"),
    ("建议延长主要部件保修期", "感谢您的建议，我们已转交相关部门评估。"),
    ("建议上门服务时统一穿鞋套", "感谢提醒，我们会在服务规范中再次强调。"),
    ("希望可以在线查看维修进度", "感谢建议，维修进度查询功能正在开发中。"),
    ("{p}遥控器按键设计不合理", "感谢您的反馈，已记录并转交设计团队。"),
    ("建议增加晚间上门时段", "感谢建议，部分城市已试点晚间服务，将逐步推广。"),
)
# (subject, category) for complaints; {p} is the product.
COMPLAINTS: Final[tuple[tuple[str, str], ...]] = (
    ("投诉上门工程师态度差", "服务态度"),
    ("客服电话一直打不通", "服务态度"),
    ("师傅上门迟到两个小时还不道歉", "服务态度"),
    ("客服答复敷衍，问题一直没人跟进", "服务态度"),
    ("报修三天了还没人上门", "维修时效"),
    ("配件等了一周还没到", "维修时效"),
    ("预约时间一改再改", "维修时效"),
    ("{p}刚买一个月就坏了，要求换新", "产品质量"),
    ("{p}反复维修仍未解决", "产品质量"),
    ("{p}漏水把地板泡坏了", "产品质量"),
    ("安装师傅乱收费", "安装"),
    ("安装不规范，外机没有固定", "安装"),
    ("送货延迟一周没人通知", "物流"),
    ("送货时外包装破损，机器有划痕", "物流"),
    ("退款申请两周还没到账", "退款"),
)
RETURNS: Final[tuple[tuple[str, str], ...]] = (
    ("{p}七天无理由退货", "退款"),
    ("收到的{p}有划痕，要求换货", "物流"),
    ("{p}尺寸不合适申请退换", "退款"),
    ("{p}开箱即坏，申请换新", "产品质量"),
    ("少发了配件，要求补发", "物流"),
    ("重复下单申请退款", "退款"),
)
SPAM: Final = ("低价代开各类发票，联系微信", "兼职刷单日结，加群了解", "恭喜中奖请点击链接领取")

COMPLAINT_DETAILS: Final = (
    "这已经是第二次反映了，",
    "打了好几次电话，",
    "对你们的服务非常失望，",
    "",
)
COMPLAINT_DEMANDS: Final = (
    "请给一个明确的说法。",
    "要求主管给我回电话。",
    "如果今天还不处理我就去消协投诉。",
    "希望尽快解决并给予补偿。",
)

# Agent texts. Placeholders: {name} customer, {p} product, {c} component, {eng} engineer, {n} number.
# First replies of a field engineer (in the first person: they own the repair) and of agents.
FIRST_REPLY_REPAIR: Final = (
    "您好{name}，我是工程师{eng}，已收到您的报修，非常抱歉给您带来不便，稍后电话联系您确认上门时间。",
    "您好，我是负责您报修的工程师{eng}，将在24小时内与您联系预约上门，请保持电话畅通。",
    "{name}您好，您反馈的{p}故障已受理，我（工程师{eng}）会优先安排上门检测。",
)
FIRST_REPLY_COMPLAINT: Final = (
    "您好{name}，非常抱歉给您带来不好的体验，您反馈的情况已记录并升级处理，主管会在今天内与您联系。",
    "您好，收到您的投诉，我们非常重视，正在核实具体情况，稍后给您回复处理方案。",
)
FIRST_REPLY_RETURN: Final = (
    "您好{name}，退换货申请已收到，我们正在核实订单信息。",
    "您好，已为您登记退换货，请保留好原包装和配件。",
)
FIRST_REPLY_GENERIC: Final = ("您好{name}，已收到您的反馈，我们正在处理，请耐心等待。",)
# (question an agent asks while the ticket waits on the customer, answers that fit it).
ASK_INFO: Final[dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "repair": (
        ("请问您明天下午2点到5点方便安排上门吗？", ("明天下午可以，家里有人。", "明天不行，后天上午可以吗？")),
        (
            "麻烦您提供一下机身铭牌照片和购买凭证，方便核实保修。",
            ("照片已经发过来了。", "发票找不到了，有订单截图可以吗？", "型号在机器侧面，已经拍照上传。"),
        ),
        ("请您先断电10分钟后重新开机，看看故障是否还在。", ("试过了，还是不行。", "重启后好了一会儿，又出现了。")),
    ),
    "return": (
        ("麻烦您上传一下商品照片和订单截图。", ("照片和截图都上传了。", "好的，已经发了。")),
        (
            "请确认取件地址和联系电话，我们安排快递上门取件。",
            ("地址没变，电话就是这个。", "改寄到公司地址，已在备注里写了。"),
        ),
    ),
    "complaint": (
        (
            "为了更好地核实情况，麻烦您说明一下具体的时间和工程师姓名。",
            ("上周六下午，师傅姓李。", "具体时间记不清了，是上个月月底。"),
        ),
    ),
    "inquiry": (
        (
            "麻烦您提供一下机器的具体型号（机身铭牌上有），方便我们准确答复。",
            ("型号在机器侧面，已经拍照上传。", "好的，麻烦尽快。"),
        ),
    ),
    "suggestion": (("方便的话能否详细说明一下您希望的使用场景？", ("主要是下班路上想提前打开。",)),),
}
INTERNAL_NOTES: Final = (
    "已电话联系客户，约定明天上午上门。",
    "客户情绪比较激动，沟通时注意方式。",
    "VIP客户，请优先处理。",
    "同一客户多次报修，建议安排资深工程师。",
    "已与物流核实，包裹在途。",
    "已申请备件，预计两天到货。",
    "需与厂家技术支持确认故障原因。",
)
HOLD_NOTES: Final = ("等待{c}配件到货", "备件缺货，已向总仓申请调拨{c}", "等待厂家技术支持确认")
RESOLUTIONS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "repair": (
        ("replaced_part", "工程师已上门检修，更换了{c}，试机运行正常。如有问题请随时联系我们。"),
        ("repaired_on_site", "经检测为{c}故障，已现场维修完毕，保修期内不收取任何费用。"),
        ("adjusted", "工程师已上门调试，设备恢复正常，并演示了正确的使用方法。"),
        ("remote_guidance", "已电话指导您完成复位操作，设备恢复正常。"),
    ),
    "complaint": (
        ("apologized", "已核实情况并向您致歉，相关人员已进行服务规范培训，感谢您的监督。"),
        ("compensated", "非常抱歉，已为您补偿100元优惠券，并安排专人跟进后续服务。"),
        ("explained", "已向您说明处理流程及原因，后续如有问题请直接联系专属客服。"),
    ),
    "return": (
        ("refunded", "已为您办理退货退款，款项预计3-5个工作日原路退回。"),
        ("exchanged", "换货新机已发出，预计3天内送达，送达时请当面验货。"),
        ("parts_sent", "缺少的配件已补发，请注意查收。"),
    ),
    "inquiry": (("answered", "如还有其他问题，欢迎随时联系我们。"),),
    "suggestion": (("feedback_recorded", "您的建议已记录，感谢您对{co}的支持！"),),
}
NO_RESPONSE_REPLY: Final = "由于一直未收到您的回复，工单先做解决处理；如仍有问题，直接回复即可重新打开。"
REOPEN_MESSAGES: Final = (
    "修完没两天又出现同样的问题了。",
    "还是不行，跟之前一样。",
    "退款还没收到，怎么回事？",
    "问题没有解决，请再派人来看看。",
)
FOLLOWUP_DESCRIPTIONS: Final = (
    "上次处理后问题又出现了，麻烦再安排一次。",
    "客户来电反映上次的问题仍未彻底解决，需要跟进。",
    "回访时客户表示仍有疑问，新建跟进工单。",
)
DUPLICATE_DESCRIPTIONS: Final = (
    "之前已经在APP上报过了，一直没人联系，再提交一次。",
    "重复反映：{s}",
    "电话里说过了，这里再留言一次，请尽快处理。",
)


# ---------------------------------------------------------------- distributions
# Ticket mix, channels and priorities per type; times in seconds.

TYPES: Final = ("inquiry", "repair", "complaint", "return", "suggestion")
TYPE_WEIGHTS: Final = (0.30, 0.38, 0.14, 0.10, 0.08)
CHANNELS: Final[dict[str, tuple[tuple[str, ...], tuple[float, ...]]]] = {
    "inquiry": (
        ("phone", "wechat", "web", "app", "email", "sms", "social"),
        (0.30, 0.30, 0.15, 0.12, 0.05, 0.03, 0.05),
    ),
    "repair": (
        ("phone", "wechat", "app", "web", "api", "email", "social"),
        (0.45, 0.25, 0.15, 0.08, 0.02, 0.02, 0.03),
    ),
    "complaint": (("phone", "wechat", "social", "email", "web", "app"), (0.45, 0.15, 0.15, 0.10, 0.10, 0.05)),
    "return": (("api", "phone", "wechat", "app", "web"), (0.35, 0.25, 0.20, 0.10, 0.10)),
    "suggestion": (("app", "web", "email", "wechat"), (0.30, 0.30, 0.20, 0.20)),
}
PRIORITIES: Final = ("low", "normal", "high", "urgent")
PRIORITY_WEIGHTS: Final[dict[str, tuple[float, ...]]] = {
    "inquiry": (0.30, 0.65, 0.05, 0.0),
    "repair": (0.05, 0.60, 0.28, 0.07),
    "complaint": (0.0, 0.35, 0.45, 0.20),
    "return": (0.10, 0.70, 0.18, 0.02),
    "suggestion": (0.70, 0.30, 0.0, 0.0),
}
# Desk time to the first reply, median seconds: ~90 % of tickets answered within 2 h (story 1).
RESPONSE_MEDIAN: Final = {
    "urgent": 10 * 60,
    "high": 20 * 60,
    "normal": 35 * 60,
    "low": 80 * 60,
}
# Business time from first response to resolution, median seconds (9 h = one desk day).
WORK_MEDIAN: Final = {
    "inquiry": 2 * 3600,
    "repair": 12 * 3600,
    "complaint": 7 * 3600,
    "return": 14 * 3600,
    "suggestion": 3600,
}
REOPEN_P: Final = {"inquiry": 0.03, "repair": 0.08, "complaint": 0.06, "return": 0.04, "suggestion": 0.0}
PENDING_P: Final = {"inquiry": 0.25, "repair": 0.45, "complaint": 0.3, "return": 0.6, "suggestion": 0.05}
# Where the hot compressor fails most (hot, humid south); normalised so the total stays at HOT_SHARE.
HOT_REGION_FACTOR: Final = {
    "south": 1.4,
    "east": 1.2,
    "central": 1.1,
    "hmt": 1.2,
    "southwest": 1.0,
    "north": 0.8,
    "northwest": 0.6,
    "northeast": 0.5,
}
HOUR_WEIGHTS: Final = (
    0.2,
    0.1,
    0.05,
    0.05,
    0.05,
    0.1,
    0.3,
    0.8,
    1.6,
    2.4,
    2.6,
    2.4,
    1.8,
    2.0,
    2.3,
    2.3,
    2.1,
    1.8,
    1.4,
    1.3,
    1.4,
    1.2,
    0.8,
    0.4,
)
WEEKDAY_FACTOR: Final = (1.15, 1.10, 1.05, 1.0, 1.0, 0.85, 0.72)
