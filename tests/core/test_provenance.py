"""jiema.provenance: the command line a card records, and the software versions."""

from __future__ import annotations

import shlex

import click
from click.testing import CliRunner
from jiema.models import ModelCard
from jiema.provenance import command_line, provenance, rebuild_lines, software_versions


def _group(seen: list) -> click.Group:
    @click.group("root")
    def root() -> None:
        pass

    @root.group("train")
    def train() -> None:
        pass

    @train.command("thing")
    @click.option("--corpus", "corpora", multiple=True)
    @click.option("--out", required=True)
    @click.option("--lr", type=float, default=0.5)
    @click.option("--name", default=None)
    @click.option("--half", is_flag=True)
    @click.option("--lexicon/--no-lexicon", default=True)
    @click.option("--quiet", is_flag=True)
    @click.argument("extra", required=False)
    def thing(**kw) -> None:
        seen.append(provenance(earlier=[["jiema train a", "jiema train b"], ["jiema train b"]]))

    return root


def test_the_running_command_is_rendered_with_every_option_and_parses_back():
    seen: list = []
    root = _group(seen)
    args = ["train", "thing", "--corpus", "../shared/a b.txt", "--corpus", "c.txt",
            "--out", "runs/x", "--no-lexicon", "--quiet", "more"]
    result = CliRunner().invoke(root, args)
    assert result.exit_code == 0, result.output
    rebuild = seen[0]["rebuild"]
    # earlier lines first, each once, then this command
    assert rebuild[:2] == ["jiema train a", "jiema train b"] and len(rebuild) == 3
    words = shlex.split(rebuild[2])
    assert words[:3] == ["jiema", "train", "thing"]
    assert "--quiet" not in words and "--name" not in words  # display only; None: not given
    assert "--lr" in words  # defaults are written out: a changed default cannot change it
    cmd = root.commands["train"].commands["thing"]  # type: ignore[attr-defined]
    params = cmd.make_context("thing", words[3:]).params
    assert params["corpora"] == ("../shared/a b.txt", "c.txt")
    assert params["out"] == "runs/x" and params["lr"] == 0.5 and params["extra"] == "more"
    assert params["lexicon"] is False and params["half"] is False


def test_outside_a_command_only_the_earlier_lines_are_kept():
    assert command_line() is None
    assert rebuild_lines([["x"], ["y", "x"]]) == ["x", "y"]


def test_software_versions_name_python_and_the_core_packages():
    versions = software_versions(packages=["click", "no-such-distribution-here"],
                                 debian=["no-such-package-here"])
    assert {"python", "jiema", "numpy", "click"} <= set(versions)
    assert not any("no-such" in k for k in versions)


def test_cards_without_provenance_still_load():
    card = ModelCard(name="m", component="c.v1", task="t")
    assert card.rebuild == [] and card.software == {} and card.scores_from == {}


def test_a_resumed_run_records_only_the_options_given():
    seen: list = []

    @click.command("run")
    @click.option("--resume", is_flag=True)
    @click.option("--steps", type=int, default=4000)
    @click.option("--lr", type=float, default=0.5)
    def run(**kw) -> None:
        seen.append(command_line())

    assert CliRunner().invoke(run, ["--resume", "--lr", "0.1"]).exit_code == 0
    assert CliRunner().invoke(run, ["--lr", "0.1"]).exit_code == 0
    assert seen == ["jiema --resume --lr 0.1", "jiema --steps 4000 --lr 0.1"]
