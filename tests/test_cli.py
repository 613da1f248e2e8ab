"""The `xlw` command and `make lab`, as a user starts them."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from xlw.cli import main
from xlw.data import project_root


def test_help_lists_every_command_with_examples(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in ("report", "translate", "models"))
    assert "xlw report --only 03b -p pairs=" in out


def test_unknown_or_missing_command_fails_with_the_usage(capsys):
    assert main(["bogus"]) == 2
    assert "unknown command 'bogus'" in capsys.readouterr().err
    assert main([]) == 2


def test_a_command_runs_its_module_with_the_rest_of_the_arguments(capsys):
    with pytest.raises(SystemExit) as stop:  # argparse's --help
        main(["models", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: xlw models") and "xlw models install gemma-3-270m" in out


def test_the_installed_console_script_answers_help():
    script = Path(sys.executable).with_name("xlw")
    assert script.is_file(), f"{script} missing: `pip install -e .` (make setup) installs the xlw entry point"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "commands:" in done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(180)
def test_make_lab_serves_the_xlw_kernel_as_root_or_not():
    port, token = free_port(), "xlw-test"
    args = f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"
    lab = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=project_root(), start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, specs = time.monotonic() + 150, None
        while specs is None and time.monotonic() < deadline and lab.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=5) as r:
                    specs = json.load(r)
            except OSError:
                time.sleep(1)
        failed = lab.stderr.read() if lab.poll() is not None else ""
        assert specs is not None, f"make lab did not serve (exit {lab.poll()}): {failed}"
        assert "xlw" in specs["kernelspecs"]
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
