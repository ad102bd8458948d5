"""`jiema.checkpoints`: pack/restore of a network and its optimizer, atomic save, no torch on
import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from jiema import checkpoints


def test_importing_checkpoints_does_not_import_torch() -> None:
    code = "import sys, jiema.checkpoints; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_a_restored_run_takes_the_same_next_step_as_the_original(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")

    def make() -> tuple[object, object]:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                  torch.nn.Linear(4, 2))
        return net, torch.optim.Adam(net.parameters(), lr=0.1)

    x = torch.randn(8, 3)

    def step(net: object, opt: object) -> None:
        opt.zero_grad()  # type: ignore[attr-defined]
        net(x).square().mean().backward()  # type: ignore[operator]
        opt.step()  # type: ignore[attr-defined]

    net, opt = make()
    for _ in range(3):
        step(net, opt)
    tensors = checkpoints.pack(net, opt)
    assert {"net.0.weight", "net.1.running_mean", "opt.0.exp_avg", "opt.0.step"} <= set(tensors)
    checkpoints.save(tmp_path, "last", tensors, {"step": 3})
    assert not list(tmp_path.glob("*.tmp.*"))
    assert checkpoints.read_state(tmp_path, "last")["step"] == 3
    assert checkpoints.read_state(tmp_path, "other") is None

    fresh, fresh_opt = make()
    checkpoints.restore(checkpoints.load_tensors(tmp_path, "last"), fresh, fresh_opt)
    step(net, opt)
    step(fresh, fresh_opt)  # Adam's moments came back too, so the updates agree
    for a, b in zip(net.state_dict().values(), fresh.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float())
    # without the optimizer's moments the next step differs
    bare, bare_opt = make()
    checkpoints.restore(checkpoints.pack(fresh), bare, None)
    step(fresh, fresh_opt)
    step(bare, bare_opt)
    assert not torch.allclose(fresh[0].weight, bare[0].weight)


def test_random_states_come_back_through_json() -> None:
    import json
    import random

    import numpy as np

    torch = pytest.importorskip("torch")
    data = {"pcg": np.random.default_rng(3), "mt": np.random.Generator(np.random.MT19937(5))}
    saved = json.loads(json.dumps(checkpoints.random_state(data)))

    def draw() -> tuple[object, ...]:
        return (torch.rand(4).tolist(), torch.nn.functional.dropout(torch.ones(8), 0.5).tolist(),
                np.random.rand(3).tolist(), random.random(),
                data["pcg"].random(3).tolist(), data["mt"].integers(0, 1 << 30, 3).tolist())

    first = draw()
    checkpoints.set_random_state(saved, data)
    assert draw() == first


def test_a_json_left_from_an_older_checkpoint_is_not_paired_with_new_tensors(
        tmp_path: Path) -> None:
    import json

    torch = pytest.importorskip("torch")
    checkpoints.save(tmp_path, "last", {"net.w": torch.zeros(2)}, {"step": 1})
    old_json = (tmp_path / "last.json").read_text(encoding="utf-8")
    checkpoints.save(tmp_path, "last", {"net.w": torch.ones(2)}, {"step": 2})
    (tmp_path / "last.json").write_text(old_json, encoding="utf-8")  # killed between writes
    assert checkpoints.read_state(tmp_path, "last")["step"] == 2
    # an edit of the current .json (same checkpoint id) is what a resume reads
    checkpoints.save(tmp_path, "last", {"net.w": torch.ones(2)}, {"step": 2, "steps": 5})
    state = json.loads((tmp_path / "last.json").read_text(encoding="utf-8"))
    state["steps"] = 9
    (tmp_path / "last.json").write_text(json.dumps(state), encoding="utf-8")
    assert checkpoints.read_state(tmp_path, "last")["steps"] == 9


def test_hold_threads_puts_back_a_thread_count_changed_behind_torchs_back() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)  # as the core's Numba kernels do through OpenMP
        checkpoints.hold_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
