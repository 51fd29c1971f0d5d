"""The alarm study's geometry: the orientation it tracks and the vertical speed it integrates."""

from __future__ import annotations

import numpy as np
from guardian_eval.alarm_study import (
    axis_angle_deg,
    min_vertical_speed,
    rotation_exp,
)
from guardian_train import preprocessing as pp


def test_free_fall_gains_g_per_second_downwards() -> None:
    acc = np.tile([0.0, 0.0, pp.G], (200, 1))  # at rest, face up
    acc[100:130] = 0.0  # 0.6 s of free fall ending at the impact (frame 130)
    gyro = np.zeros_like(acc)
    v = min_vertical_speed(acc, gyro, impact=130, ref=(-100, -75), span=(-75, 10))
    assert abs(v - (-pp.G * 0.6)) < 0.05, v


def test_a_phone_that_only_turns_does_not_drop() -> None:
    # 90 deg about the device x axis in 1 s, at rest otherwise: the accelerometer reads gravity turning the way
    # the gyroscope says, so the tracked vertical acceleration stays 0
    w = np.array([np.pi / 2, 0.0, 0.0])
    dt = pp.DT_NS / 1e9
    rot, acc, gyro = np.eye(3), [], []
    up = np.array([0.0, 0.0, pp.G])
    for j in range(200):
        turning = 100 <= j < 150
        acc.append(rot.T @ up)
        gyro.append(w if turning else np.zeros(3))
        if turning:
            rot = rot @ rotation_exp(w * dt)
    v = min_vertical_speed(np.array(acc), np.array(gyro), impact=150, ref=(-100, -75), span=(-75, 10))
    assert v > -0.05, v
    assert abs(axis_angle_deg(np.array(acc[0]), np.array(acc[-1])) - 90.0) < 0.5
