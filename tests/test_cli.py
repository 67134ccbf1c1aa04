"""The command line speaks Chinese when it is used wrongly, as the rest of the product does."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def kaigong(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_a_missing_argument_is_said_in_chinese():
    run = kaigong("metrics")
    assert run.returncode == 2
    assert "kaigong metrics：参数错误：缺少必需的参数：--as-of（查看说明：kaigong metrics --help）" in run.stderr
    assert run.stderr.startswith("用法：") and "the following arguments" not in run.stderr


def test_a_wrong_choice_names_the_value_and_the_choices():
    run = kaigong("metrics", "--as-of", "2020-03-31", "--by", "地市")
    assert run.returncode == 2
    assert "参数 --by 的取值 '地市' 无效，可选：'city'" in run.stderr
    assert "invalid choice" not in run.stderr


XINZHOU = """忻州市2022年工业重点项目调度表（截至5月底）
单位：万元
序号,县区,项目名称,建设单位,总投资,年度计划投资,本年累计完成投资,建设状态,备注
一、忻府区,,,,,,,,
1,忻府区,甲项目,甲公司,1000,300,120,在建,
2,忻府区,乙项目,乙公司,2000,500,200,新开工,
,小计（2个）,,,3000,800,320,,
,合计,,,3500,900,370,,
"""


def test_ingest_says_what_it_read_and_json_carries_the_reading(tmp_path):
    import json

    import duckdb

    f = tmp_path / "忻州调度表.csv"
    f.write_text(XINZHOU, encoding="utf-8")
    run = kaigong("--db", str(tmp_path / "a.duckdb"), "ingest", str(f), "--region", "忻州市", "--tier", "市级千项")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == ["忻州调度表.csv：读取情况", "  报告期截止日：2022-05-31（标题“忻州市2022年工业重点项目调度表（截至5月底）”）"]
    assert "  报送周期：月报（标题含“截至5月底”）" in lines
    assert any(x.startswith("  建设状态列：「建设状态」") for x in lines)
    assert "  未读取的列：「序号」（序号）、「备注」（未识别的列）" in lines
    assert "  行：项目 2 行，小计/合计 2 行，区县标题 1 行" in lines
    # the 合计 says 3,500 万元 over two projects of 3,000: the check says so, before and after the load
    assert any(x.startswith("  合计核对：2 个小计/合计行中有不符：第 8 行「合计」总投资：文件 3,500 万元，所列项目合计 3,000 万元")
               for x in lines)
    with duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True) as con:
        assert con.execute("SELECT report_date::VARCHAR, frequency FROM submissions").fetchall() == [("2022-05-31", "month")]

    run = kaigong("--db", str(tmp_path / "b.duckdb"), "ingest", str(f), "--region", "忻州市", "--tier", "市级千项",
                  "--frequency", "week", "--json")
    assert run.returncode == 0, run.stderr
    [out] = json.loads(run.stdout)
    assert (out["status"], out["projects"], out["report_date"], out["frequency"]) == ("loaded", 2, "2022-05-31", "week")
    reading = out["reading"]
    assert (reading["frequency_source"], reading["stage_column"]) == ("上传时指定", "建设状态")
    assert reading["report_date_source"] == "标题“忻州市2022年工业重点项目调度表（截至5月底）”"
    assert {"column": "建设单位", "field": "company", "field_zh": "企业名称", "how": "表头"} in reading["columns"]
    assert {"column": "备注", "field": None, "field_zh": None, "how": "未识别的列"} in reading["columns"]
    assert reading["rows"] == {"项目": 2, "小计/合计": 2, "区县标题": 1}
    assert reading["totals_checked"] == 2 and len(reading["totals_off"]) == 3  # 总投资, 年度计划, 本年累计 of the 合计
    assert "报送周期：周报（上传时指定）" in reading["lines"]


def test_ingest_json_of_a_refused_file_still_says_what_was_read(tmp_path):
    import json

    f = tmp_path / "调度表.csv"
    f.write_text(XINZHOU.replace("（截至5月底）", ""), encoding="utf-8")
    run = kaigong("--db", str(tmp_path / "a.duckdb"), "ingest", str(f), "--region", "忻州市", "--tier", "市级千项",
                  "--json")
    assert run.returncode == 1
    [out] = json.loads(run.stdout)
    assert out["status"] == "refused" and out["report_date"] is None
    assert any("缺少报告期截止日" in e for e in out["errors"])
    assert out["reading"]["lines"][0].startswith("报告期截止日：未找到")
