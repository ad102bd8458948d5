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
