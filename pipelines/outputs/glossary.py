"""指标口径 in words, for the user guide (docs/zh/指标口径.md) and the app's 帮助 page, from the one place
each is defined: metrics.FORMULA_ZH, the project lights' rules (metrics.lights.formulas_zh), the change
audit's kinds (warehouse.changes.KIND_ZH) and the 更正说明's kinds. Nothing here is written by hand twice:
`make docs` writes the file and tests/test_docs.py checks it is current.

    python -m pipelines.outputs.glossary > docs/zh/指标口径.md
"""

from __future__ import annotations

from pipelines import metrics
from pipelines.metrics.lights import formulas_zh
from pipelines.views.corrections import KIND_HELP_ZH as CORRECTION_ZH
from pipelines.warehouse.changes import KIND_ZH as CHANGE_ZH

HEAD = """# 指标口径

本页由程序从计算指标的代码中生成（`make docs`），与页面脚注、简报和命令行使用同一份定义，请勿手工修改。
金额以万元存储，页面按亿元显示；比率显示为百分数；“百分点”指两个百分数之差。
"""


def markdown() -> str:
    """The whole page, Markdown."""
    out = [HEAD, "## 主要指标", ""]
    out += [f"- {text}" for text in metrics.FORMULA_ZH.values()]
    out += ["", "## 项目亮灯规则（亮灯清单）", "", "阈值为部署时的设置（见管理员手册）；以下为当前值。", ""]
    out += [f"- {rule}" for rule in formulas_zh()]
    out += ["", "## 本期变动（报送时的变动核查）", "", "每次报送与上期相比，出现下列情况时在预览和「本期变动」中列出：", ""]
    out += [f"- {text}" for text in CHANGE_ZH.values()]
    out += ["", "## 更正说明", "",
            "简报发出后，对已通报报告期的数据修改在下一期简报的「更正说明」中列出，并说明对已发简报主要指标的影响：", ""]
    out += [f"- {text}" for text in CORRECTION_ZH.values()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
