"""The two commands' failure modes: no Python 3.10, a port in use, broken training data."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot import run as supervisor

ROOT = Path(__file__).resolve().parents[2]


def copy_setup(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", project / "scripts" / "setup.sh")
    for name in ("requirements.txt", "constraints.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, project / name)
    return project


def run_setup(project: Path, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(project), "PYENV_ROOT": str(project / "no-pyenv")}
    return subprocess.run(["bash", "scripts/setup.sh"], cwd=project, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_setup_without_python_310_says_what_to_install(tmp_path):
    project = copy_setup(tmp_path)
    result = run_setup(project)
    assert result.returncode != 0
    assert "no Python 3.10 interpreter found" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert not (project / ".venv").exists(), "it never silently uses another Python"


def test_setup_refuses_a_python_that_is_not_310(tmp_path):
    project = copy_setup(tmp_path)
    other = shutil.which("python3.11") or "/usr/bin/python3"
    result = run_setup(project, PYTHON=other)
    assert result.returncode != 0
    assert "is not a Python 3.10 interpreter" in result.stderr
    assert not (project / ".venv").exists()


def test_setup_finds_pyenv_310(tmp_path):
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    versions = sorted(pyenv_root.glob("versions/3.10.*"))
    if not versions:
        pytest.skip("no pyenv 3.10 on this machine")
    project = copy_setup(tmp_path)
    script = (project / "scripts" / "setup.sh").read_text()
    # Only the discovery step: stop right after it names the interpreter.
    probe = script.replace('echo "setup: creating $VENV with $PY', 'echo "FOUND $PY"; exit 0; echo "')
    (project / "scripts" / "setup.sh").write_text(probe)
    result = run_setup(project, PYENV_ROOT=str(pyenv_root))
    assert result.returncode == 0, result.stderr
    assert "FOUND " + str(versions[-1]) in result.stdout


def test_setup_is_a_no_op_when_nothing_changed():
    result = subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "installing" not in result.stdout


def test_busy_port_is_named_with_its_variable():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        child = supervisor.Child("Rasa server", ["true"], port, "GEHOOR_RASA_PORT", "/")
        with pytest.raises(supervisor.StartError) as error:
            supervisor.check_ports([child])
    message = str(error.value)
    assert str(port) in message and "GEHOOR_RASA_PORT" in message


def test_gehoor_run_stops_before_starting_anything_when_a_port_is_busy(tmp_path):
    if supervisor.up_to_date_model(supervisor.training_fingerprint()) is None:
        pytest.skip("needs the trained model (make test trains it first)")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, GEHOOR_REVIEW_PORT=str(port), GEHOOR_VAR_DIR=str(tmp_path),
                   GEHOOR_RASA_PORT="0", GEHOOR_ACTION_PORT="0", GEHOOR_WEB_PORT="0")
        result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "GEHOOR_REVIEW_PORT" in result.stderr
    assert not list((tmp_path / "log").glob("*.log")), "nothing was started"


def test_broken_training_data_stops_before_training(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "config.yml", project)
    shutil.copy(ROOT / "domain.yml", project)
    shutil.copytree(ROOT / "data", project / "data")
    # An intent the domain does not know: Rasa's validator reports it.
    with open(project / "data" / "nlu.yml", "a") as nlu:
        nlu.write("\n  - intent: not_in_domain\n    examples: |\n      - hallo daar\n")
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    with pytest.raises(supervisor.StartError, match="training data is invalid"):
        supervisor.train_if_needed(env, root=project)
    assert not list(project.glob("models/*.tar.gz"))


def test_fingerprint_follows_the_training_inputs(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "config.yml", project)
    shutil.copy(ROOT / "domain.yml", project)
    shutil.copytree(ROOT / "data", project / "data")
    before = supervisor.training_fingerprint(project)
    assert supervisor.training_fingerprint(project) == before
    (project / "data" / "rules.yml").write_text((project / "data" / "rules.yml").read_text() + "\n# changed\n")
    assert supervisor.training_fingerprint(project) != before


def start_gehoor_run(tmp_path: Path):
    """`gehoor run` on free ports with a private var/; returns (process, ports) once ready."""
    from services import free_port

    ports = {name: free_port() for name in
             ("GEHOOR_RASA_PORT", "GEHOOR_ACTION_PORT", "GEHOOR_REVIEW_PORT", "GEHOOR_WEB_PORT")}
    env = dict(os.environ, GEHOOR_VAR_DIR=str(tmp_path), **{k: str(v) for k, v in ports.items()})
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "gehoor: ready" in line:
            return process, ports, lines
    raise AssertionError("gehoor run ended before it was ready:\n" + "".join(lines[-30:]))


def stop(process: subprocess.Popen) -> None:
    """SIGTERM first, so the supervisor stops its children (a SIGKILL would orphan them)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.integration
def test_a_dying_service_is_named_and_everything_stops(tmp_path):
    if supervisor.up_to_date_model(supervisor.training_fingerprint()) is None:
        pytest.skip("needs the trained model (make test trains it first)")
    process, ports, _ = start_gehoor_run(tmp_path)
    try:
        action_port = ports["GEHOOR_ACTION_PORT"]
        subprocess.run(["pkill", "-9", "-f", "--", f"actions --port {action_port}"], check=True)
        output, _ = process.communicate(timeout=60)
    finally:
        stop(process)
    assert process.returncode == 1
    assert "the action server stopped (signal 9)" in output
    assert not any(port_open(port) for port in ports.values()), "every other service was stopped"


@pytest.mark.integration
def test_sigterm_stops_every_service(tmp_path):
    if supervisor.up_to_date_model(supervisor.training_fingerprint()) is None:
        pytest.skip("needs the trained model (make test trains it first)")
    process, ports, _ = start_gehoor_run(tmp_path)
    assert all(port_open(port) for port in ports.values())
    try:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    finally:
        stop(process)
    assert "stopping all services" in output
    assert not any(port_open(port) for port in ports.values())
