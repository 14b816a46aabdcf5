"""deploy/targets.py: the pip tags of a board and the engine wheels that exist for it."""

from __future__ import annotations

import pytest

from edgepack.deploy.targets import make_target, plan_engines
from edgepack.errors import InputError


def test_platform_tags_cover_every_manylinux_level_up_to_the_boards_glibc():
    tags = make_target("linux_aarch64", "3.11").platform_tags()
    assert tags[0] == "manylinux_2_36_aarch64" and tags[-1] == "linux_aarch64"
    assert "manylinux_2_17_aarch64" in tags and "manylinux2014_aarch64" in tags
    assert "manylinux_2_16_aarch64" not in tags  # aarch64 manylinux starts at 2.17
    x86 = make_target("linux_x86_64", "3.11", "2.31").platform_tags()
    assert x86[0] == "manylinux_2_31_x86_64" and "manylinux1_x86_64" in x86 and "manylinux2010_x86_64" in x86


def test_pi_os_bookworm_arm64_gets_every_engine():
    plan = plan_engines(["ncnn", "mnn", "litert"], make_target("linux_aarch64", "3.11"))
    assert {e: w.dist for e, w in plan.chosen.items()} == {"ncnn": "ncnn", "mnn": "mnn", "litert": "ai-edge-litert"}
    assert not plan.refused


def test_litert_falls_back_to_tflite_runtime_below_glibc_2_35_whatever_its_tag_says():
    plan = plan_engines(["litert"], make_target("linux_aarch64", "3.11", "2.31"))
    assert plan.chosen["litert"].dist == "tflite-runtime"


def test_litert_refused_with_both_reasons_when_neither_runtime_fits():
    plan = plan_engines(["litert"], make_target("linux_aarch64", "3.12", "2.31"))
    assert "litert" not in plan.chosen
    why = plan.refused["litert"]
    assert "glibc >= 2.35 on aarch64" in why and "GLIBC_2.34" in why and "up to Python 3.11" in why


def test_litert_x86_64_wheels_need_only_what_their_tag_says():
    plan = plan_engines(["litert"], make_target("linux_x86_64", "3.12", "2.31"))
    assert plan.chosen["litert"].dist == "ai-edge-litert"


def test_armv7l_has_ncnn_and_tflite_runtime_only():
    plan = plan_engines(["ncnn", "mnn", "litert", "litert-native", "onnxruntime", "openvino"],
                        make_target("linux_armv7l", "3.11"))
    assert {e: w.dist for e, w in plan.chosen.items()} == {"ncnn": "ncnn", "litert": "tflite-runtime"}
    assert set(plan.refused) == {"mnn", "litert-native", "onnxruntime", "openvino"}
    assert "no armv7l wheels" in plan.refused["mnn"]


def test_unknown_engine_is_refused_not_guessed():
    plan = plan_engines(["tensorrt"], make_target("linux_aarch64", "3.10", "2.35"))
    assert "knows no wheels" in plan.refused["tensorrt"]


@pytest.mark.parametrize("args, message", [
    (("linux_riscv64", "3.11", None), "unknown --platform"),
    (("linux_aarch64", "3", None), "not a version like 3.11"),
    (("linux_aarch64", "3.8", None), "needs Python >= 3.10"),
    (("linux_aarch64", "3.11", "2.5"), "--glibc"),
    (("linux_aarch64", "3.11", "glibc"), "--glibc"),
])
def test_bad_target_arguments_name_the_fix(args, message):
    with pytest.raises(InputError, match=message):
        make_target(*args)
