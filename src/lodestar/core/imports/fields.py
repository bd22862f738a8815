"""What each kind of import can fill, and the column names (Chinese and English) that mean it.

The synonyms include the models' field names in both languages as the exports write them in
their headers ("名称", "name", "客户", "account" …), so an exported file imports again without
a manual step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lodestar.core.rules.results import Bilingual

__all__ = [
    "FIELDS",
    "KINDS",
    "FieldType",
    "Kind",
    "Option",
    "TargetField",
    "field_of",
]

Kind = Literal["accounts", "contacts", "products", "deals", "stage_history", "activities"]
KINDS: tuple[Kind, ...] = (
    "accounts",
    "contacts",
    "products",
    "deals",
    "stage_history",
    "activities",
)
FieldType = Literal[
    "text",
    "number",
    "money",
    "date",
    "datetime",
    "boolean",
    "choice",
    "email",
    "phone",
    "reference",
]


@dataclass(frozen=True, slots=True)
class Option:
    """One value of a choice field and the words a file may write for it."""

    key: str
    label: Bilingual
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TargetField:
    """A field an import fills. ``reference`` fields name another record (an account by name,
    a deal by its key …); ``refers_to`` says which."""

    key: str
    label: Bilingual
    synonyms: tuple[str, ...]
    type: FieldType = "text"
    required: bool = False
    max_length: int | None = None
    choices: tuple[Option, ...] = ()
    refers_to: str | None = None
    help: Bilingual | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label.as_dict(),
            "synonyms": list(self.synonyms),
            "type": self.type,
            "required": self.required,
            "max_length": self.max_length,
            "choices": [{"key": c.key, "label": c.label.as_dict()} for c in self.choices],
            "refers_to": self.refers_to,
            "help": self.help.as_dict() if self.help else None,
        }


def _f(
    key: str,
    zh: str,
    en: str,
    synonyms: tuple[str, ...],
    type_: FieldType = "text",
    **extra: object,
) -> TargetField:
    words = (zh, en, key, key.replace("_", " "), *synonyms)
    unique = tuple(dict.fromkeys(words))
    return TargetField(key, Bilingual(zh, en), unique, type_, **extra)  # type: ignore[arg-type]


_EXTERNAL_REF = (
    "外部编号",
    "external reference",
    "编号",
    "ID",
    "Id",
    "external id",
    "外部ID",
    "系统编号",
    "CRM编号",
    "record id",
)
_OWNER = (
    "负责人",
    "owner",
    "销售",
    "销售员",
    "销售代表",
    "业务员",
    "客户经理",
    "跟进人",
    "归属人",
    "owner name",
    "sales rep",
    "sales agent",
    "rep",
    "assigned to",
    "account owner",
    "opportunity owner",
)
_ACCOUNT_NAME = (
    "客户名称",
    "客户",
    "客户名",
    "公司名称",
    "公司",
    "单位名称",
    "企业名称",
    "account",
    "account name",
    "company",
    "company name",
    "customer",
    "customer name",
    "organization",
)

TIER_OPTIONS = (
    Option("key", Bilingual("重点客户", "Key account"), ("重点", "大客户", "vip", "a", "key")),
    Option("standard", Bilingual("普通客户", "Standard"), ("普通", "一般", "b", "standard")),
    Option("small", Bilingual("小微客户", "Small"), ("小微", "小客户", "c", "small")),
)

STATUS_OPTIONS = (
    Option("open", Bilingual("进行中", "Open"), ("跟进中", "open", "进行", "未关闭")),
    Option("won", Bilingual("赢单", "Won"), ("成交", "已成交", "won", "closed won", "签约")),
    Option("lost", Bilingual("输单", "Lost"), ("丢单", "失败", "lost", "closed lost", "输")),
)

ACCOUNTS: tuple[TargetField, ...] = (
    _f("name", "名称", "name", _ACCOUNT_NAME, required=True, max_length=200),
    _f(
        "industry",
        "行业",
        "industry",
        ("所属行业", "行业类别", "sector", "industry sector", "vertical"),
        max_length=100,
    ),
    _f(
        "tier",
        "客户等级",
        "tier",
        ("等级", "客户级别", "级别", "customer tier", "account tier", "客户类型"),
        "choice",
        choices=TIER_OPTIONS,
    ),
    _f(
        "region",
        "区域",
        "region",
        (
            "地区",
            "省份",
            "城市",
            "所在地",
            "所在地区",
            "office location",
            "location",
            "city",
            "state",
            "province",
            "country",
            "billing city",
        ),
        max_length=100,
    ),
    _f("repurchase_rate", "复购率", "repurchase rate", ("回购率", "复购比例"), "number"),
    _f("owner", "负责人", "owner", _OWNER, "reference", refers_to="member"),
    _f("external_ref", "外部编号", "external reference", _EXTERNAL_REF, max_length=100),
)

CONTACTS: tuple[TargetField, ...] = (
    _f(
        "name",
        "姓名",
        "name",
        (
            "名称",
            "联系人",
            "联系人姓名",
            "联系人名称",
            "客户联系人",
            "contact",
            "contact name",
            "full name",
            "Name",
        ),
        required=True,
        max_length=100,
    ),
    _f(
        "account",
        "客户",
        "account",
        _ACCOUNT_NAME,
        "reference",
        required=True,
        refers_to="account",
    ),
    _f(
        "account_key",
        "客户外部编号",
        "account external reference",
        ("account id", "accountid", "客户编号", "客户ID"),
        "reference",
        refers_to="account_key",
    ),
    _f(
        "title",
        "职务",
        "title",
        ("标题", "职位", "岗位", "头衔", "job title", "position", "Title"),
        max_length=100,
    ),
    _f(
        "phone",
        "电话",
        "phone",
        (
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "移动电话",
            "座机",
            "mobile",
            "mobile phone",
            "cell",
            "telephone",
            "tel",
            "phone number",
            "mobilephone",
        ),
        "phone",
        max_length=32,
    ),
    _f(
        "email",
        "邮件",
        "e-mail",
        ("电子邮件", "邮箱", "电子邮箱", "email", "email address", "mail", "E-mail"),
        "email",
        max_length=254,
    ),
    _f(
        "is_decision_maker",
        "决策人",
        "decision maker",
        ("是否决策人", "关键决策人", "is decision maker", "decision-maker"),
        "boolean",
    ),
    _f(
        "decision_role",
        "决策链角色",
        "decision-chain role",
        ("角色", "决策角色", "decision role", "buying role", "role"),
        "reference",
        refers_to="decision_role",
    ),
    _f("external_ref", "外部编号", "external reference", _EXTERNAL_REF, max_length=100),
)

PRODUCTS: tuple[TargetField, ...] = (
    _f(
        "name",
        "名称",
        "name",
        ("产品", "产品名称", "品名", "商品名称", "商品", "product", "product name"),
        required=True,
        max_length=200,
    ),
    _f(
        "model_number",
        "型号",
        "model number",
        ("规格型号", "产品型号", "model", "sku", "part number", "product code", "产品编码"),
        max_length=100,
    ),
    _f(
        "category",
        "类别",
        "category",
        ("分类", "产品类别", "产品系列", "系列", "产品线", "series", "product line", "family"),
        max_length=100,
    ),
    _f(
        "list_price",
        "目录价",
        "list price",
        ("价格", "单价", "标准价", "售价", "报价", "price", "sales price", "unit price"),
        "money",
    ),
    _f(
        "aliases",
        "别名",
        "aliases",
        ("其他名称", "简称", "alias", "also known as"),
        help=Bilingual("多个别名用逗号或顿号分隔。", "Separate several aliases with commas."),
    ),
    _f("external_ref", "外部编号", "external reference", _EXTERNAL_REF, max_length=100),
)

DEALS: tuple[TargetField, ...] = (
    _f(
        "name",
        "名称",
        "name",
        (
            "商机名称",
            "商机",
            "项目名称",
            "项目",
            "机会名称",
            "opportunity",
            "opportunity name",
            "deal",
            "deal name",
        ),
        max_length=200,
        help=Bilingual(
            "为空时用“客户 · 产品”命名。", "When empty, the deal is named “account · product”."
        ),
    ),
    _f(
        "account",
        "客户",
        "account",
        _ACCOUNT_NAME,
        "reference",
        required=True,
        refers_to="account",
    ),
    _f(
        "account_key",
        "客户外部编号",
        "account external reference",
        ("account id", "accountid", "客户编号", "客户ID"),
        "reference",
        refers_to="account_key",
    ),
    _f("owner", "负责人", "owner", _OWNER, "reference", refers_to="member"),
    _f(
        "team",
        "团队",
        "team",
        ("销售团队", "部门", "小组", "sales team"),
        "reference",
        refers_to="team",
    ),
    _f(
        "product",
        "产品",
        "product",
        ("产品名称", "意向产品", "product name", "商品"),
        "reference",
        refers_to="product",
    ),
    _f(
        "stage",
        "阶段",
        "stage",
        (
            "销售阶段",
            "商机阶段",
            "当前阶段",
            "阶段名称",
            "deal stage",
            "stage name",
            "sales stage",
            "pipeline stage",
            "stagename",
        ),
        "choice",
        required=True,
    ),
    _f(
        "status",
        "状态",
        "status",
        ("商机状态", "赢单/输单", "结果", "deal status", "outcome"),
        "choice",
        choices=STATUS_OPTIONS,
    ),
    _f(
        "amount",
        "金额",
        "amount",
        (
            "商机金额",
            "预计金额",
            "合同金额",
            "成交金额",
            "销售额",
            "value",
            "deal value",
            "close value",
            "opportunity amount",
            "amount (cny)",
        ),
        "money",
    ),
    _f("currency", "币种", "currency", ("货币", "币别", "currency code", "currencyisocode")),
    _f(
        "close_date",
        "成交日期",
        "close date",
        ("关单日期", "结单日期", "签约日期", "closedate"),
        "date",
        help=Bilingual(
            "赢单或输单的商机:关闭日期;进行中的商机:预计成交日期。",
            "Won or lost deals: the date they closed; open deals: the expected close date.",
        ),
    ),
    _f(
        "expected_close_date",
        "预计成交日期",
        "expected close date",
        ("预计签约日期", "预计关单日期", "expected close", "estimated close date"),
        "date",
    ),
    _f(
        "closed_at",
        "关闭时间",
        "closed at",
        ("关闭日期", "赢单日期", "输单日期", "actual close date", "closed date", "date closed"),
        "datetime",
    ),
    _f(
        "created_at",
        "创建时间",
        "created at",
        (
            "创建日期",
            "录入时间",
            "立项日期",
            "发现日期",
            "created date",
            "createddate",
            "created",
            "date created",
            "open date",
        ),
        "datetime",
    ),
    _f(
        "stage_entered_at",
        "进入阶段时间",
        "entered stage at",
        ("进入当前阶段时间", "阶段变更时间", "last stage change date", "stage changed at"),
        "datetime",
    ),
    _f(
        "external_ref",
        "外部编号",
        "external reference",
        (*_EXTERNAL_REF, "商机编号", "商机ID", "opportunity id", "deal id", "opportunityid"),
    ),
)

STAGE_HISTORY: tuple[TargetField, ...] = (
    _f(
        "deal",
        "商机",
        "opportunity",
        ("商机编号", "商机ID", "opportunity id", "opportunityid", "deal", "deal id", "deal key"),
        "reference",
        required=True,
        refers_to="deal_key",
    ),
    _f(
        "stage",
        "阶段",
        "stage",
        ("目标阶段", "to stage", "新阶段", "stage name", "stagename", "deal stage"),
        "choice",
        required=True,
    ),
    _f(
        "changed_at",
        "变更时间",
        "changed at",
        (
            "发生时间",
            "occurred at",
            "时间",
            "日期",
            "变更日期",
            "date",
            "created date",
            "createddate",
            "stage date",
            "changed date",
        ),
        "datetime",
        required=True,
    ),
    _f("from_stage", "原阶段", "from stage", ("旧阶段", "fromopportunitystagename"), "choice"),
    _f("amount", "金额", "amount", ("商机金额", "value"), "money"),
    _f("external_ref", "外部编号", "external reference", _EXTERNAL_REF, max_length=100),
)

ACTIVITY_TYPES: tuple[Option, ...] = (
    Option("call", Bilingual("电话沟通", "Call"), ("电话", "打电话", "通话", "call", "phone call")),
    Option(
        "meeting.held",
        Bilingual("会议", "Meeting held"),
        ("拜访", "上门拜访", "面谈", "见面", "会议", "meeting", "visit"),
    ),
    Option("email.sent", Bilingual("发出邮件", "E-mail sent"), ("邮件", "email", "e-mail")),
    Option(
        "chat.message",
        Bilingual("聊天消息", "Chat message"),
        ("微信", "企业微信", "钉钉", "聊天", "chat", "wechat", "message"),
    ),
    Option("demo.held", Bilingual("演示已完成", "Demo held"), ("演示", "demo")),
    Option("proposal.sent", Bilingual("发送方案", "Proposal sent"), ("方案", "proposal")),
    Option("quote.sent", Bilingual("发送报价", "Quote sent"), ("报价", "quote", "quotation")),
)

ACTIVITIES: tuple[TargetField, ...] = (
    _f(
        "type",
        "类型",
        "type",
        ("活动类型", "跟进方式", "沟通方式", "方式", "activity type", "kind", "event type"),
        "choice",
        required=True,
        choices=ACTIVITY_TYPES,
    ),
    _f(
        "occurred_at",
        "发生时间",
        "occurred at",
        (
            "时间",
            "日期",
            "跟进时间",
            "拜访时间",
            "活动时间",
            "date",
            "activity date",
            "time",
            "when",
        ),
        "datetime",
        required=True,
    ),
    _f(
        "deal",
        "商机编号",
        "opportunity id",
        ("商机ID", "opportunityid", "deal id", "deal key"),
        "reference",
        refers_to="deal_key",
    ),
    _f("account", "客户", "account", _ACCOUNT_NAME, "reference", refers_to="account"),
    _f(
        "contact",
        "联系人",
        "contact",
        ("客户联系人", "拜访对象", "contact name"),
        "reference",
        refers_to="contact",
    ),
    _f("owner", "负责人", "owner", (*_OWNER, "actor", "执行人"), "reference", refers_to="member"),
    _f(
        "summary",
        "内容",
        "summary",
        (
            "跟进内容",
            "沟通内容",
            "备注",
            "摘要",
            "主题",
            "subject",
            "notes",
            "description",
            "comments",
            "text",
        ),
        max_length=10_000,
    ),
    _f("minutes", "时长(分钟)", "minutes", ("时长", "通话时长", "duration"), "number"),
    _f("external_ref", "外部编号", "external reference", _EXTERNAL_REF, max_length=100),
)

FIELDS: dict[str, tuple[TargetField, ...]] = {
    "accounts": ACCOUNTS,
    "contacts": CONTACTS,
    "products": PRODUCTS,
    "deals": DEALS,
    "stage_history": STAGE_HISTORY,
    "activities": ACTIVITIES,
}

KIND_LABELS: dict[Kind, Bilingual] = {
    "accounts": Bilingual("客户", "Accounts"),
    "contacts": Bilingual("联系人", "Contacts"),
    "products": Bilingual("产品", "Products"),
    "deals": Bilingual("商机", "Deals"),
    "stage_history": Bilingual("阶段历史", "Stage history"),
    "activities": Bilingual("跟进活动", "Activities"),
}


def field_of(kind: str, key: str) -> TargetField | None:
    for target in FIELDS.get(kind, ()):
        if target.key == key:
            return target
    return None
