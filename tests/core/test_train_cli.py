"""``motornet-studio train``: files written, --set parsing, resume, errors."""

from __future__ import annotations

import json

import pytest
import torch

from backend.cli import main as studio_main
from motornet_core.run_presets import run_preset
from motornet_core.specs import RunSpec
from motornet_core.training.cli import main, parse_value


@pytest.fixture(autouse=True)
def _one_thread():
    """Small recurrent nets train fastest on one thread, and the CI machine is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_preset_run_writes_spec_metrics_snapshots_and_checkpoint(tmp_path) -> None:
    out = tmp_path / "run"
    args = ["--preset", "tiny_point_mass", "--out", str(out), "--iterations", "3", "--quiet"]
    args += ["--set", "train.eval_every=2", "--set", "task.duration=0.1", "--set", "name=cli test"]
    assert main(args) == 0
    spec = RunSpec.parse((out / "spec.json").read_text())
    assert spec.train.n_iterations == 3 and spec.train.eval_every == 2 and spec.name == "cli test"
    rows = _lines(out / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert {"loss", "loss/position", "lr", "grad_norm"} <= set(rows[0])
    snaps = sorted(p.name for p in (out / "snapshots").iterdir())
    assert snaps == ["step_0000002.json", "step_0000003.json"]
    assert json.loads((out / "snapshots" / snaps[-1]).read_text())["step"] == 3
    payload = torch.load(out / "checkpoint.pt", weights_only=True)
    assert payload["step"] == 3
    assert json.loads((out / "summary.json").read_text())["step"] == 3


def test_spec_file_and_resume(tmp_path) -> None:
    spec = run_preset("tiny_point_mass").with_updates({"task.duration": 0.1, "train.n_iterations": 2})
    spec_file = tmp_path / "run.json"
    spec_file.write_text(spec.to_json())
    out = tmp_path / "out"
    assert main(["--spec", str(spec_file), "--out", str(out), "--quiet", "--set", 'tags=["a", "b"]']) == 0
    assert RunSpec.parse((out / "spec.json").read_text()).tags == ["a", "b"]
    # resuming a finished run adds no iterations and keeps the metrics file
    assert main(["--resume", "--out", str(out), "--quiet"]) == 0
    assert [r["step"] for r in _lines(out / "metrics.jsonl")] == [1, 2]
    assert main(["--resume", "--out", str(out), "--quiet", "--iterations", "4"]) == 0
    assert [r["step"] for r in _lines(out / "metrics.jsonl")] == [1, 2, 3, 4]
    assert RunSpec.parse((out / "spec.json").read_text()).train.n_iterations == 4


def test_bad_arguments_return_2(tmp_path, capsys) -> None:
    assert main(["--preset", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown run preset" in capsys.readouterr().err
    assert main(["--preset", "tiny_point_mass", "--out", str(tmp_path), "--set", "train.batch_size=0"]) == 2
    assert "train.batch_size" in capsys.readouterr().err
    assert main(["--preset", "tiny_point_mass", "--out", str(tmp_path), "--set", "novalue"]) == 2


def test_set_values_parse_as_json_when_possible() -> None:
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("[1, 2]") == [1, 2] and parse_value("null") is None
    assert parse_value("gru") == "gru" and parse_value("cosine") == "cosine"


def test_console_command_routes_to_train(tmp_path) -> None:
    out = tmp_path / "via_cli"
    assert (
        studio_main(
            [
                "train",
                "--preset",
                "tiny_point_mass",
                "--out",
                str(out),
                "--iterations",
                "1",
                "--quiet",
                "--set",
                "task.duration=0.05",
            ]
        )
        == 0
    )
    assert (out / "checkpoint.pt").exists()


def test_resume_refuses_overrides_that_change_the_models(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["--preset", "tiny_point_mass", "--out", str(out), "--iterations", "2", "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    args = ["--resume", "--out", str(out), "--iterations", "3", "--quiet"]
    assert main([*args, "--set", "policy.hidden_size=16", "--set", "task.duration=0.5"]) == 2
    err = capsys.readouterr().err
    assert "policy.hidden_size" in err and "task.duration" in err and "Traceback" not in err
    assert main([*args, "--set", "train.seed=5"]) == 2  # the seed defines the initial weights
    assert "train.seed" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # nothing written
    # train settings that keep the models are allowed, and the next resume still loads
    assert main([*args, "--set", "train.lr=0.002", "--set", "train.eval_every=1"]) == 0
    assert main(["--resume", "--out", str(out), "--iterations", "4", "--quiet"]) == 0
    spec = RunSpec.parse((out / "spec.json").read_text())
    assert spec.train.lr == 0.002 and spec.train.n_iterations == 4 and spec.policy.hidden_size == 8
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 4


def _snapshot_steps(out) -> list[int]:
    return sorted(json.loads(p.read_text())["step"] for p in (out / "snapshots").iterdir())


def test_fresh_run_into_a_run_folder_is_refused_unless_forced(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    base = ["--preset", "tiny_point_mass", "--out", str(out), "--quiet", "--set", "train.eval_every=1"]
    assert main([*base, "--iterations", "3"]) == 0
    (out / "notes.txt").write_text("mine")
    before = (out / "metrics.jsonl").read_bytes()
    capsys.readouterr()
    assert main([*base, "--iterations", "2"]) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--force" in err and "Traceback" not in err
    assert (out / "metrics.jsonl").read_bytes() == before
    assert main([*base, "--iterations", "2", "--force"]) == 0
    assert [r["step"] for r in _lines(out / "metrics.jsonl")] == [1, 2]  # not 1, 2, 3, 1, 2
    assert _snapshot_steps(out) == [1, 2]  # the old run's step 3 is gone
    assert (out / "notes.txt").read_text() == "mine"  # files that are not the run's are kept
    assert main(["--resume", "--force", "--out", str(out)]) == 2


def test_resume_after_a_kill_logs_each_step_once(tmp_path, monkeypatch) -> None:
    from motornet_core.training.loop import Trainer

    out = tmp_path / "run"
    args = ["--preset", "tiny_point_mass", "--out", str(out), "--quiet", "--iterations", "5"]
    args += ["--set", "train.eval_every=1", "--set", "train.checkpoint_every=2"]
    step = Trainer.train_step

    def killed_after_3(self: Trainer) -> dict:
        if self.step == 3:
            raise KeyboardInterrupt
        return step(self)

    monkeypatch.setattr(Trainer, "train_step", killed_after_3)
    with pytest.raises(KeyboardInterrupt):
        main(args)
    monkeypatch.undo()
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 2
    assert [r["step"] for r in _lines(out / "metrics.jsonl")] == [1, 2, 3]
    with open(out / "metrics.jsonl", "a") as f:
        f.write('{"step": 4, "lo')  # a row cut short by the kill
    assert main(["--resume", "--out", str(out), "--quiet"]) == 0
    rows = _lines(out / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5]
    assert _snapshot_steps(out) == [1, 2, 3, 4, 5]


@pytest.mark.slow
def test_compiled_run_from_the_command_line(tmp_path) -> None:
    """``--set train.compile=true`` trains in compiled chunks (a process of its own: the CLI
    switches inductor to scalar CPU kernels process-wide, see prefer_scalar_cpu_kernels)."""
    import subprocess
    import sys

    out = tmp_path / "run"
    args = ["--preset", "tiny_point_mass", "--out", str(out), "--iterations", "2", "--quiet"]
    args += ["--set", "train.compile=true", "--set", "task.duration=0.2", "--threads", "1"]
    proc = subprocess.run(
        [sys.executable, "-m", "motornet_core.training.cli", *args], capture_output=True, text=True, timeout=280
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert RunSpec.parse((out / "spec.json").read_text()).train.compile
    rows = _lines(out / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2] and all(r["loss"] > 0 for r in rows)
