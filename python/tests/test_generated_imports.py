"""Imports are references: ``robot.schema`` and ``everything.schema`` both import
``common.schema``; their generated modules import ``Pose`` and ``Sensor`` from the
``common`` module written beside them instead of defining their own, so one ``Pose``
value (one class object) serves both, and survives either's round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO, import_file, schemac_bin


def test_one_pose_class_serves_both_importers(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    res = subprocess.run(
        [
            schemac_bin(),
            "gen",
            "--python",
            "--out",
            str(out),
            "examples/schemas/robot.schema",
            "examples/schemas/everything.schema",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    # The closure, each module once: common.py is written for robot and reused.
    assert sorted(p.name for p in out.glob("*.py")) == [
        "common.py",
        "everything_v1.py",
        "robot.py",
    ]
    assert "class Pose" not in (out / "robot.py").read_text(encoding="utf-8")
    robot = import_file(out / "robot.py", "schemac_imports_pkg")
    every = import_file(out / "everything_v1.py", "schemac_imports_pkg")
    common = sys.modules["schemac_imports_pkg.common"]
    assert robot.Pose is common.Pose and every.Pose is common.Pose
    assert robot.Sensor is common.Sensor is every.Sensor

    pose = common.Pose.random(7)
    step = robot.RobotStep.default()
    step.pose = pose
    step.sensor = common.Sensor.imu
    ev = every.Everything.random(3)
    ev.pose = pose
    back_step = robot.RobotStep.from_bytes(step.packed)
    back_ev = every.Everything.from_bytes(ev.packed)
    for p in (back_step.pose, back_ev.pose):
        assert isinstance(p, common.Pose)
        assert p == pose
    assert back_step.sensor is common.Sensor.imu
