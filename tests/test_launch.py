"""`xlw.train` under `accelerate launch --multi_gpu --num_processes 2` on the CPU (torchrun, gloo) matches one
process with the same global batch, writes its checkpoints and metrics from the main process only, and resumes.

(`accelerate launch --cpu --num_processes 2` starts one process: accelerate leaves multi-CPU runs to mpirun.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("launch_train.py")
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
          "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0"]


def run(command: list[str], out: Path, stop_after: int | None = None) -> dict | None:
    """Run a launch_train.py command; its result.json (None when it stopped on purpose)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true", "CUDA_VISIBLE_DEVICES": ""}
    if stop_after is not None:
        env["XLW_STOP_AFTER_STEP"] = str(stop_after)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if stop_after is not None:
        assert done.returncode != 0 and "InjectedStop" in done.stderr, done.stderr[-3000:]
        return None
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "result.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One process accumulating 2 batches a step, and 2 processes taking one batch each: the same global batch."""
    root = tmp_path_factory.mktemp("launch")
    single = run([sys.executable, str(SCRIPT), str(root / "single"), "--grad-accum", "2"], root / "single")
    double = run([*LAUNCH, str(SCRIPT), str(root / "double")], root / "double")
    return root, single, double


def test_two_processes_match_one_with_the_same_global_batch(runs):
    _, single, double = runs
    assert (single["processes"], double["processes"]) == (1, 2)
    assert single["steps"] == double["steps"] == 4
    assert double["lr"] == pytest.approx(single["lr"])  # one scheduler step per optimizer step, not per process
    assert double["target_tokens"] == pytest.approx(single["target_tokens"], rel=0.2)  # summed over processes
    # DDP averages the two processes' gradients as accumulation averages two batches: equal up to float order
    assert double["val_loss"] == pytest.approx(single["val_loss"], rel=1e-4)
    assert single["val_loss"][-1] < single["val_loss"][0]


def test_only_the_main_process_writes_checkpoints_and_metrics(runs):
    root, _, _ = runs
    main = (root / "double" / "writes.0.txt").read_text().split()
    other = (root / "double" / "writes.1.txt").read_text().split()
    assert any(p.endswith("trainer_state.json") for p in main) and any("/best/" in p for p in main)
    assert any(p.endswith("result.json") for p in main)
    assert other and all(Path(p).name == "random_states_1.pkl" for p in other), other  # its own RNG state only


def test_an_interrupted_two_process_run_resumes_to_the_same_result(runs):
    root, _, double = runs
    out = root / "resumed"
    run([*LAUNCH, str(SCRIPT), str(out)], out, stop_after=2)
    assert not (out / "result.json").exists()
    resumed = run([*LAUNCH, str(SCRIPT), str(out), "--resume"], out)
    assert resumed["resumed_from"] == 2 and resumed["steps"] == 4
    assert resumed["val_loss"] == pytest.approx(double["val_loss"], rel=1e-5)
