"""Every row checked: values parsed, references looked up, history built, problems located."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from lodestar.core.imports import (
    ColumnMapping,
    LookupContext,
    Problem,
    RowResult,
    check_rows,
    read_table,
    suggest_mapping,
)
from tests.core.imports.data import STAGES

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTEXT = LookupContext(
    stages=STAGES,
    products={"GTX Pro": 1, "GTX Basic": 2, "MG Special": 3},
    accounts={"华东机电": 10},
    members={"王芳": 5, "wangfang": 5},
    deal_keys={"D-1": 100},
    timezone="Asia/Shanghai",
)


def _check(
    kind: str, text: str, context: LookupContext = CONTEXT, **maps: object
) -> list[RowResult]:
    table = read_table(text.encode(), "x.csv")
    mapping = suggest_mapping(kind, table.headers, table.rows)
    for target, values in maps.items():
        mapping.value_maps[target] = dict(values)  # type: ignore[call-overload]
    return list(check_rows(kind, mapping, table, context))


def _only(result: RowResult) -> Problem:
    (problem,) = result.problems
    return problem


def test_a_date_that_is_no_date_is_an_error_at_its_row_and_column() -> None:
    (_, bad) = _check(
        "deals", "客户,阶段,预计成交日期\n华东机电,线索,2024-03-05\n华东机电,线索,下周\n"
    )

    problem = _only(bad)
    assert (problem.row, problem.column, problem.code) == (3, "预计成交日期", "date_invalid")
    assert problem.severity == "error"
    assert problem.hint is not None
    assert "2024-03-05" in problem.hint.zh


def test_an_unknown_stage_says_which_stage_it_probably_means() -> None:
    (result,) = _check("deals", "客户,阶段\n华东机电,确认需\n")

    problem = _only(result)
    assert problem.code == "stage_unknown"
    assert problem.hint is not None
    assert "确认需求" in problem.hint.zh


def test_a_product_missing_from_the_catalogue_names_the_nearest_one() -> None:
    (result,) = _check("deals", "客户,阶段,产品\n华东机电,线索,GTXPro\n")

    problem = _only(result)
    assert (problem.code, problem.severity) == ("product_unknown", "warning")
    assert problem.hint is not None
    assert "GTX Pro" in problem.hint.en
    assert result.references["product"].id is None


def test_a_product_value_map_fixes_the_name() -> None:
    (result,) = _check(
        "deals", "客户,阶段,产品\n华东机电,线索,GTXPro\n", product={"GTXPro": "GTX Pro"}
    )

    assert result.problems == []
    assert result.references["product"].id == 1


def test_a_deal_with_an_empty_account_is_warned_about_not_dropped() -> None:
    (result,) = _check("deals", "客户,阶段,产品\n,线索,GTX Pro\n")

    problem = _only(result)
    assert (problem.code, problem.severity, problem.column) == ("account_empty", "warning", "客户")
    assert result.values["name"] == "GTX Pro"
    assert result.ok
    assert "account" not in result.references


def test_a_contact_with_an_empty_account_is_an_error() -> None:
    (result,) = _check("contacts", "客户名称,联系人\n,王总\n")

    assert (_only(result).code, result.ok) == ("required_empty", False)


def test_an_account_not_yet_known_is_created() -> None:
    (known, new) = _check("contacts", "客户名称,联系人,手机\n华东机电,王总,1\n北方重工,李工,2\n")

    assert known.references["account"].id == 10
    assert new.references["account"].create


def test_a_repeated_key_is_an_error_on_the_later_row_only() -> None:
    first, second = _check(
        "deals", "商机编号,客户,阶段\nA-1,华东机电,线索\nA-1,华东机电,方案演示\n"
    )

    assert first.problems == []
    problem = _only(second)
    assert (problem.code, problem.row) == ("duplicate_key", 3)
    assert "2" in problem.message.zh


def test_rows_without_a_key_column_are_keyed_by_a_stable_hash() -> None:
    text = "客户名称,行业\n华东机电,制造\n"

    (one,) = _check("accounts", text)
    (two,) = _check("accounts", text.replace("制造", "机械"))

    assert one.key.startswith("h-")
    assert one.key == two.key  # an account is known by its name


def test_the_same_account_twice_in_a_file_is_a_duplicate() -> None:
    _, again = _check("accounts", "客户名称\n华东机电\n华东机电 \n")

    assert _only(again).code == "duplicate_key"


def test_a_required_field_left_empty_is_an_error() -> None:
    (result,) = _check("accounts", "客户名称,行业\n,制造\n")

    assert _only(result).code == "required_empty"


def test_a_number_that_is_no_number_is_an_error() -> None:
    (result,) = _check("deals", "客户,阶段,金额\n华东机电,线索,很多\n")

    assert (_only(result).code, _only(result).column) == ("number_invalid", "金额")


def test_a_won_deal_gets_its_status_close_time_and_amount() -> None:
    (result,) = _check("deals", '客户,阶段,金额,成交日期\n华东机电,赢单,"¥1,200",2024/3/5\n')

    assert result.values["status"] == "won"
    assert result.values["stage"] == "won"
    assert result.values["amount"] == Decimal(1200)
    assert result.values["closed_at"] == dt.datetime(2024, 3, 5, tzinfo=SHANGHAI)


def test_an_open_deals_close_date_is_its_expected_close_date() -> None:
    (result,) = _check("deals", "客户,阶段,成交日期\n华东机电,商务谈判,2024/3/5\n")

    assert result.values["expected_close_date"] == dt.date(2024, 3, 5)
    assert "closed_at" not in result.values


def test_a_status_column_closes_a_deal_whose_stage_is_still_open() -> None:
    (result,) = _check("deals", "客户,阶段,状态,关闭时间\n华东机电,商务谈判,输单,2024-03-05\n")

    assert (result.values["stage"], result.values["status"]) == ("lost", "lost")


def test_stage_dates_in_columns_become_the_deals_history_in_time_order() -> None:
    table = read_table(
        "客户,阶段,演示日期,关闭时间\n华东机电,赢单,2024-02-01,2024-03-05 10:00\n".encode(), "x.csv"
    )
    mapping = suggest_mapping("deals", table.headers, table.rows)
    mapping.columns[2] = mapping.columns[2].__class__("演示日期", "stage_at:@working:3")

    (result,) = check_rows("deals", mapping, table, CONTEXT)

    assert [(h.stage, h.at) for h in result.history] == [
        ("demo", dt.datetime(2024, 2, 1, tzinfo=SHANGHAI)),
        ("won", dt.datetime(2024, 3, 5, 10, tzinfo=SHANGHAI)),
    ]
    assert result.values["created_at"] == dt.datetime(2024, 2, 1, tzinfo=SHANGHAI)


def test_a_deal_without_a_name_is_named_after_its_account_and_product() -> None:
    (result,) = _check("deals", "客户,阶段,产品\n华东机电,线索,GTX Pro\n")

    assert result.values["name"] == "华东机电 · GTX Pro"


def test_an_owner_who_is_no_member_is_a_warning() -> None:
    known, unknown = _check("deals", "客户,阶段,负责人\n华东机电,线索,王芳\n华东机电,线索,张三\n")

    assert known.references["owner"].id == 5
    assert (_only(unknown).code, unknown.ok) == ("member_unknown", True)


def test_stage_history_rows_need_a_known_deal() -> None:
    known, unknown = _check(
        "stage_history",
        "商机编号,阶段,变更时间\nD-1,方案演示,2024-03-05\nD-9,方案演示,2024-03-05\n",
    )

    assert known.history[0].stage == "demo"
    assert known.references["deal"].id == 100
    assert _only(unknown).code == "deal_unknown"


def test_activities_read_their_type_from_chinese_words() -> None:
    (result,) = _check(
        "activities", "客户,跟进方式,跟进时间,跟进内容\n华东机电,拜访,2024-03-05 14:00,谈价格\n"
    )

    assert result.values["type"] == "meeting.held"
    assert result.values["summary"] == "谈价格"
    assert result.problems == []


def test_an_unknown_activity_type_is_an_error_with_the_choices() -> None:
    (result,) = _check("activities", "客户,跟进方式,跟进时间\n华东机电,飞鸽传书,2024-03-05\n")

    problem = _only(result)
    assert problem.code == "activity_type_unknown"
    assert problem.hint is not None
    assert "电话沟通" in problem.hint.zh


def test_custom_values_are_parsed_by_their_type() -> None:
    (result,) = _check(
        "accounts", '客户名称,员工数,成立日期,上市\n华东机电,"1,200",2001-05-01,是\n'
    )

    assert result.custom == {
        "yuan_gong_shu": Decimal(1200),
        "cheng_li_ri_qi": dt.date(2001, 5, 1),
        "shang_shi": True,
    }


def test_a_custom_choice_outside_its_list_is_an_error() -> None:
    table = read_table("客户名称,渠道\n甲,代理\n乙,代理\n丙,直销\n丁,直销\n".encode(), "x.csv")
    mapping = suggest_mapping("accounts", table.headers, table.rows)
    table.rows.append(["戊", "电商"])
    table.row_numbers.append(6)

    results = list(check_rows("accounts", mapping, table, CONTEXT))

    assert (_only(results[-1]).code, _only(results[-1]).row) == ("choice_unknown", 6)


def test_an_invalid_email_is_dropped_with_a_warning() -> None:
    (result,) = _check("contacts", "客户,姓名,邮箱\n华东机电,王总,not-an-email\n")

    assert (_only(result).code, result.values["email"]) == ("email_invalid", None)


def test_first_and_last_name_columns_join_into_one_name() -> None:
    mapping = ColumnMapping.from_dict({"kind": "contacts", "columns": [
        {"column": "FirstName", "target": "name"}, {"column": "LastName", "target": "name"},
        {"column": "Company", "target": "account"}]})  # fmt: skip
    table = read_table(b"FirstName,LastName,Company\nBertha,Boxer,Farmers Coop\n", "x.csv")

    (result,) = check_rows("contacts", mapping, table, CONTEXT)

    assert result.values["name"] == "Bertha Boxer"


def test_progress_is_reported_as_rows_are_checked() -> None:
    table = read_table(
        ("客户名称\n" + "".join(f"客户{i}\n" for i in range(2500))).encode(), "x.csv"
    )
    mapping = suggest_mapping("accounts", table.headers, table.rows)
    seen: list[tuple[int, int]] = []

    list(check_rows("accounts", mapping, table, CONTEXT, progress=lambda d, t: seen.append((d, t))))

    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_a_row_whose_key_was_imported_before_is_marked_as_existing() -> None:
    context = LookupContext(stages=STAGES, existing_keys=frozenset({"A-1"}))

    old, new = _check("deals", "商机编号,客户,阶段\nA-1,甲,线索\nA-2,乙,线索\n", context)

    assert (old.exists, new.exists) == (True, False)


def test_a_deal_created_after_it_closed_starts_at_its_first_stage_date() -> None:
    (result,) = _check(
        "deals", "客户,阶段,创建时间,关闭时间\n华东机电,赢单,2024-05-01,2024-03-05\n"
    )

    assert (_only(result).code, _only(result).severity) == ("created_after_history", "warning")
    assert result.values["created_at"] == dt.datetime(2024, 3, 5, tzinfo=SHANGHAI)
