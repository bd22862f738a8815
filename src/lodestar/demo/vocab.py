"""Word lists for the demo data: people, companies, products, titles and what people say.

All of it is made up for Lodestar; any resemblance to a real company is accidental.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建文斌宇浩凯健俊帆帅旭宁婷雪琳"
    "晨欣怡佳悦子涵梓轩思远博文嘉豪一鸣志强海燕晓东春梅国庆立新振华永康成龙德胜云峰"
)

CITIES = (
    "绍兴",
    "杭州",
    "宁波",
    "嘉兴",
    "湖州",
    "金华",
    "台州",
    "温州",
    "义乌",
    "诸暨",
    "上虞",
    "柯桥",
    "苏州",
    "无锡",
    "常州",
    "南通",
    "上海",
    "南京",
    "合肥",
    "芜湖",
)
BRAND_HEADS = "恒华鑫永宏瑞天博嘉中德汇金新锦盛泰信达凯东海万隆富创精昌明远宝兴"
BRAND_TAILS = "达锐源盛远成丰科通力泰和昌辉诚洋鼎航威展腾达越峰华隆恒发业安邦"

INDUSTRIAL_SUFFIXES = (
    ("机械", "通用机械"),
    ("自动化", "自动化设备"),
    ("纺织", "纺织印染"),
    ("印染", "纺织印染"),
    ("汽车零部件", "汽车零部件"),
    ("精密制造", "精密加工"),
    ("电机", "电机制造"),
    ("化纤", "化纤"),
    ("食品", "食品饮料"),
    ("包装", "包装印刷"),
    ("医疗器械", "医疗器械"),
    ("新材料", "新材料"),
)
SAAS_SUFFIXES = (
    ("科技", "互联网科技"),
    ("信息技术", "信息技术服务"),
    ("跨境电商", "跨境电商"),
    ("教育科技", "教育"),
    ("供应链管理", "物流供应链"),
    ("医疗器械", "医疗器械"),
    ("连锁商业", "连锁零售"),
    ("电子商务", "电子商务"),
    ("智能制造", "制造业"),
    ("咨询", "专业服务"),
)


class Title(NamedTuple):
    key: str
    name_zh: str
    name_en: str
    # How colleagues address someone with this title after their surname (王总, 李工).
    honorific: str
    decision_maker: bool


# The per-organization decision-chain list: the seed's fixed list of 8 signer roles, with the
# keys of the industrial_equipment template's contact roles so gates on signer titles match.
TITLES = (
    Title("cto", "CTO", "CTO", "总", True),
    Title("purchasing_director", "采购总监", "Purchasing director", "总监", True),
    Title("plant_manager", "生产厂长", "Plant manager", "厂长", True),
    Title("general_manager", "总经理", "General manager", "总", True),
    Title("equipment_manager", "设备部经理", "Equipment manager", "经理", False),
    Title("chief_engineer", "总工程师", "Chief engineer", "工", True),
    Title("cfo", "财务总监", "CFO", "总", True),
    Title("project_manager", "项目经理", "Project manager", "经理", False),
)
# Titles likely met at each kind of customer, most common first.
INDUSTRIAL_TITLES = (
    "equipment_manager",
    "plant_manager",
    "purchasing_director",
    "chief_engineer",
    "general_manager",
    "cfo",
    "project_manager",
)
SAAS_TITLES = (
    "project_manager",
    "cto",
    "general_manager",
    "purchasing_director",
    "cfo",
    "chief_engineer",
)


class ProductSpec(NamedTuple):
    name: str
    model_number: str
    category: str
    list_price: Decimal
    aliases: tuple[str, ...]


INDUSTRIAL_PRODUCTS = (
    ProductSpec("小型PLC 控制器", "LX-1200", "PLC", Decimal("4800.00"), ("PLC", "可编程控制器")),
    ProductSpec("中型PLC 控制器", "LX-1500", "PLC", Decimal("18600.00"), ("PLC", "中型机")),
    ProductSpec(
        "交流伺服电机 750W", "SV-750", "伺服电机", Decimal("2650.00"), ("伺服", "伺服电机")
    ),
    ProductSpec(
        "交流伺服电机 2kW", "SV-2000", "伺服电机", Decimal("5900.00"), ("伺服", "伺服电机")
    ),
    ProductSpec("通用变频器 7.5kW", "VF-7R5", "变频器", Decimal("3980.00"), ("变频器", "变频")),
    ProductSpec("矢量变频器 22kW", "VF-22", "变频器", Decimal("9800.00"), ("变频器", "矢量变频")),
    ProductSpec("光电传感器", "PS-30N", "传感器", Decimal("260.00"), ("传感器", "光电开关")),
    ProductSpec("压力变送器", "PT-16", "传感器", Decimal("1280.00"), ("传感器", "变送器")),
    ProductSpec("7 寸触摸屏 HMI", "HM-700", "HMI", Decimal("2200.00"), ("HMI", "触摸屏")),
    ProductSpec("10 寸触摸屏 HMI", "HM-1000", "HMI", Decimal("3600.00"), ("HMI", "触摸屏")),
)
SAAS_PRODUCTS = (
    ProductSpec(
        "销售导航 标准版(席位/年)", "NAV-STD", "SaaS 席位", Decimal("1800.00"), ("标准版", "席位")
    ),
    ProductSpec(
        "销售导航 专业版(席位/年)", "NAV-PRO", "SaaS 席位", Decimal("3200.00"), ("专业版", "席位")
    ),
    ProductSpec("营销自动化模块", "MOD-MA", "SaaS 模块", Decimal("36000.00"), ("营销自动化", "MA")),
    ProductSpec("数据分析模块", "MOD-BI", "SaaS 模块", Decimal("28000.00"), ("BI", "数据分析")),
    ProductSpec("API 集成包", "MOD-API", "SaaS 模块", Decimal("20000.00"), ("API", "集成")),
    ProductSpec("实施与培训服务", "SVC-IMPL", "服务", Decimal("15000.00"), ("实施", "培训")),
)

# Documents reps share, by product category.
DOCUMENTS = {
    "PLC": ("PLC选型表", "IO点位清单", "控制柜方案"),
    "伺服电机": ("伺服选型表", "负载惯量计算书", "报价单"),
    "变频器": ("变频器选型表", "节能改造测算", "报价单"),
    "传感器": ("传感器清单", "安装示意图", "报价单"),
    "HMI": ("HMI画面草图", "通讯协议说明", "报价单"),
    "SaaS 席位": ("席位报价单", "试用账号说明", "实施计划"),
    "SaaS 模块": ("模块功能清单", "集成方案", "报价单"),
    "服务": ("实施计划", "培训大纲", "服务报价"),
}

# Chat lines a rep sends; {who} is how the contact is addressed, {doc} a document, {product}
# the product category.
REP_CHAT = (
    "{who},您要的{doc}已更新",
    "{who},{doc}已发您邮箱,请查收",
    "{who},明天下午两点方便通个电话吗?想和您确认一下{product}的需求",
    "{who},上次提到的{product}方案我们技术同事已经在整理了",
    "{who},演示会议的链接已发到群里",
    "{who},合同初稿已发法务,预计周五前给您回复",
    "{who},我们可以安排工程师下周去现场看一下",
    "{who},试用账号已开通,用户名和初始密码发您了",
    "{who},本周三有空的话我带技术总监过去拜访您",
    "{who},行业案例包已发您,里面有同行的改造效果数据",
)
CUSTOMER_CHAT = (
    "收到,我们内部讨论一下",
    "价格还能再优惠一点吗?",
    "交期最快多久?",
    "这个型号和我们现在用的能兼容吗?",
    "好的,下周一给你答复",
    "老板出差了,等他回来再定",
    "技术参数我们工程师看过了,没问题",
    "能不能先发个报价过来",
    "预算在走审批,别着急",
    "我们还在对比另外两家",
)
CONFIRMATIONS = ("已确认", "技术方案已确认,可以走下一步", "已确认,按这个方案报价")
CALL_SUMMARIES = (
    "电话沟通需求,客户关注交期和售后",
    "确认了设备数量和预算区间",
    "客户反馈价格偏高,约定下周再谈",
    "跟进试用情况,客户希望增加培训",
    "客户采购流程需要三家比价",
)
EMAIL_SUBJECTS_OUT = (
    "{product}方案及报价",
    "会议纪要与后续安排",
    "行业案例包",
    "试用账号开通通知",
    "合同草案请审阅",
)
EMAIL_SUBJECTS_IN = ("回复:{product}方案及报价", "关于付款条件的意见", "补充需求说明", "询价")
MEETING_TOPICS = (
    "需求调研会",
    "现场勘察",
    "技术交流会",
    "方案评审会",
    "商务洽谈",
    "高层拜访",
)
LOST_REASONS = ("价格偏高", "选择了竞品", "预算取消", "项目延期", "需求变更")
EXEMPTION_REASONS = (
    "客户{who}出差海外,约两周后回国再联系",
    "客户{who}休产假,交接人尚未确定",
    "客户公司内部组织调整,采购暂停两周",
    "客户工厂停产检修,{who}暂时无法安排会面",
    "客户临时失联,电话和微信均未回复,已发邮件说明",
)

# Minutes from customer meetings. Some are short notes (under 300 characters), some full.
MINUTES_OPENINGS = (
    "会议时间:{date}。参会人员:客户方{who}等,我方销售及技术支持。",
    "{date} 于客户现场召开{topic},客户方{who}出席。",
)
MINUTES_BODY = (
    "客户介绍了现有产线的运行情况,两条线的设备使用超过八年,故障率偏高,停机主要集中在传动和控制部分。",
    "客户希望在今年第四季度完成改造,预算已经列入年度计划,具体金额需要财务总监最终审批。",
    "我方演示了系统的核心功能,客户对自动任务提醒和漏斗健康度评分很感兴趣,提出希望与现有ERP打通。",
    "讨论了三种备选方案的优劣:方案一投入低但扩展性有限,方案二兼顾成本与扩展,方案三一步到位但周期长。",
    "客户技术总监提出通讯协议需要兼容现有设备,我方承诺在一周内提供兼容性测试报告。",
    "采购方面,客户需要至少三家供应商比价,付款条件倾向于三三四分期,质保期要求两年。",
    "双方约定由我方先提供试用环境,客户安排五名一线人员试用两周,并在试用结束后召开评审会。",
    "客户关注售后响应时间,要求四小时内响应、二十四小时内到场,我方说明了本地服务团队的配置。",
    "竞品方面,客户目前也在接触另外两家供应商,对方报价略低,但交期和本地服务不如我方。",
)
MINUTES_CLOSINGS = (
    "下一步:我方在三个工作日内提交方案和报价,并预约下次会议时间。",
    "待办:技术支持整理参数对照表;销售跟进预算审批进度。",
)
SHORT_MINUTES = (
    "与{who}简短沟通,客户对方案无异议,等内部审批。",
    "{topic},{who}参加,确认了需求范围,下周再约。",
    "电话会议纪要:客户关注价格和交期,待报价。",
)

OBJECTION_HANDBOOK = """《高频异议应答手册》

一、“价格太高了”
先确认对比对象:是和竞品报价比,还是和预算比。和竞品比时,拆开总拥有成本:设备寿命、能耗、停机损失、
售后响应;和预算比时,提供分期或分阶段实施方案,先上见效最快的部分。

二、“我们再考虑一下”
问清楚卡在哪一方:技术、采购还是老板。约定一个具体的回复时间,并把下次沟通写进日程。

三、“现在用的系统/设备还能凑合”
用同行案例说明改造前后的差距(停机时间、人工、转化率),邀请客户参观已改造的产线或试用两周。

四、“竞品答应给更多折扣”
不先跟价。强调交期、本地服务和质保条款,必要时申请阶梯返点,并说明适用条件。

五、“预算已经用完了”
确认下一个预算周期的时间点,先完成技术方案确认和立项材料,帮助客户内部申请预算。

六、“需要老板拍板”
争取与决策人直接见面;准备一页纸的投资回报测算,方便对接人向上汇报。
"""

HANDBOOKS = (
    ("objection-handbook", "《高频异议应答手册》", OBJECTION_HANDBOOK),
    (
        "demo-checklist",
        "《产品演示准备清单》",
        "演示前 2 小时内完成:准备行业案例包;开通试用账号;确认参会决策人不少于 2 人;"
        "确认客户预算范围;演示后 24 小时内上传会议纪要并发送定制化方案。",
    ),
    (
        "key-account-actions",
        "《重点客户月度规定动作》",
        "每个重点客户每月:1 次设备巡检报告上传,2 次技术参数同步,1 次竞品动态分享。",
    ),
)
CASES = (
    (
        "case-textile-retrofit",
        "绍兴某印染厂产线变频改造案例",
        "两条印染线更换矢量变频器和PLC,能耗下降 18%,故障停机时间减少 40%,投资回收期 14 个月。",
    ),
    (
        "case-auto-parts-servo",
        "宁波汽车零部件厂伺服升级案例",
        "冲压线伺服化改造后节拍提升 12%,良品率提高 2.3 个百分点。",
    ),
    (
        "case-saas-conversion",
        "杭州 SaaS 公司销售转化率提升案例",
        "七阶段流程和自动任务上线三个月,转化率从 6.5% 提升到 8.3%,任务按时完成率从 61% 升至 89%。",
    ),
)

DAILY_REPORT_LINES = (
    "今日拜访客户 {visits} 家,推进商机 {moved} 个。",
    "电话沟通 {calls} 次,发送方案/报价 {quotes} 份。",
    "明日计划:跟进{account}的报价确认,准备下周的演示。",
    "需要支持:{account}提出的兼容性问题需要技术支持介入。",
)

POC_FEEDBACK = (
    "试用两周,一线销售反馈任务提醒很实用,希望增加移动端离线功能",
    "POC 测试通过,和现有ERP的接口联调还需要一周",
    "试用人员反馈报表导出格式需要调整,其他没问题",
)
TECH_SYNC = (
    "同步了新产线的IO点数和通讯协议参数",
    "更新了伺服负载参数和节拍要求",
    "同步了变频器功率清单和现场电网条件",
)
COMPETITOR_NOTES = (
    "竞品本月对同型号降价 5%,但交期延长到 6 周",
    "竞品在客户处做了免费试用,客户反馈响应慢",
    "竞品推出了新一代小型PLC,价格与我方持平",
)
