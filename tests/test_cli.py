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
