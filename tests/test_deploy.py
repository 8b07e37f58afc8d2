"""The operators' recipes in deploy/: the systemd unit and the container file.

Neither needs root, a running systemd or a docker daemon: the unit is parsed (and checked with
``systemd-analyze verify`` / ``security --offline`` when that tool exists), the container file is
read instruction by instruction, its commands are parsed by the real ``iddt-bot`` parser and its
health check's exit mapping is run by ``sh``. The last test stops a real bot with SIGTERM in the
middle of a reply, as both recipes do.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from bot.channels.telegram import STARTUP_WAIT
from bot.cli import build_parser
from bot.config import Config
from tests.botapi_server import BotProcess, FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "iddt-bot.service"
CONTAINERFILE = ROOT / "deploy" / "Containerfile"
IGNORE = ROOT / "deploy" / "Containerfile.dockerignore"
TOKEN_LIKE = re.compile(r"\d{3,15}:[A-Za-z0-9_-]{20,}")
SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSWORD|INVITE", re.IGNORECASE)


# ------------------------------------------------------------------------ parsing


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Section → key → every value in order (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        sections[section][key.strip()].append(value.strip())
    return sections


def read_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def seconds(value: str) -> float:
    """A systemd time span such as ``45s``, ``2min`` or ``1min 30s``."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value))


def environment(assignments: list[str]) -> dict[str, str]:
    """``KEY=value`` words (as in ``Environment=`` or ``ENV``) as a dict."""
    return dict(word.split("=", 1) for line in assignments for word in shlex.split(line))


def iddt_bot_command(argv: list[str]):
    """The arguments as the real ``iddt-bot`` parser reads them (fails on an unknown flag)."""
    assert Path(argv[0]).name == "iddt-bot", argv
    return build_parser().parse_args(argv[1:])


# ---------------------------------------------------------------------- systemd unit


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return read_unit(UNIT)


@pytest.fixture(scope="module")
def service(unit) -> dict[str, str]:
    """[Service] with each key's last value (the one systemd uses)."""
    return {key: values[-1] for key, values in unit["Service"].items()}


def test_the_unit_restarts_and_runs_the_telegram_bot(unit, service):
    assert service["Restart"] == "always"
    assert service["RestartPreventExitStatus"] == "2"  # a bad token: a restart cannot help
    args = iddt_bot_command(shlex.split(service["ExecStart"]))
    assert args.command == "telegram"
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    assert "network-online.target" in unit["Unit"]["After"][0]


def test_the_unit_runs_as_its_own_user(service):
    assert service.get("DynamicUser") == "yes" or service.get("User", "root") not in ("root", "0", "")


def test_the_token_comes_only_from_an_env_file(unit, service):
    assert service["EnvironmentFile"] == "/etc/iddt-bot/env"  # no "-": a missing file must stop the start
    text = UNIT.read_text(encoding="utf-8")
    assert not TOKEN_LIKE.search(text)
    assert not [name for name in environment(unit["Service"]["Environment"]) if SECRET_NAMES.search(name)]
    assert "TOKEN" not in service["ExecStart"].upper()


def test_the_database_lives_in_the_state_directory(unit, service):
    assert service["StateDirectory"] == "iddt-bot"
    config = Config.from_env(environment(unit["Service"]["Environment"]))  # the bot's own settings
    assert config.db_path.parent == Path("/var/lib/iddt-bot")


def test_the_unit_is_hardened(service):
    expected = {
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
        "CapabilityBoundingSet": "", "UMask": "0077", "SystemCallArchitectures": "native",
    }
    assert {key: service.get(key) for key in expected} == expected


def test_sigterm_stops_it_within_the_stop_timeout(service):
    assert service["KillSignal"] == "SIGTERM"
    assert seconds(service["TimeoutStopSec"]) > STARTUP_WAIT  # a stop during start-up retries waits them out


def test_the_time_spans_read_as_systemd_reads_them():
    assert [seconds(v) for v in ("45s", "2min", "1min 30s", "90")] == [45, 120, 90, 90]


def unit_copy_with_existing_binary(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at an executable that exists here (verify insists on it)."""
    binary = Path(sys.executable).with_name("iddt-bot")
    if not binary.exists():
        binary = Path(sys.executable)
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={binary}", UNIT.read_text(encoding="utf-8"), flags=re.M)
    copy = tmp_path / UNIT.name
    copy.write_text(text, encoding="utf-8")
    return copy


def systemd_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60)


def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    copy = unit_copy_with_existing_binary(tmp_path)
    done = systemd_analyze("verify", "--man=no", str(copy))
    about_ours = [line for line in (done.stdout + done.stderr).splitlines() if copy.name in line]
    assert done.returncode == 0 and about_ours == [], done.stdout + done.stderr


def test_systemd_analyze_rates_the_unit_well_hardened(tmp_path):
    copy = unit_copy_with_existing_binary(tmp_path)
    done = systemd_analyze("security", "--offline=true", "--threshold=20", str(copy))
    if done.returncode != 0 and "unrecognized option" in done.stderr:
        pytest.skip(f"this systemd-analyze cannot rate a unit offline: {done.stderr.strip()}")
    rating = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert done.returncode == 0 and rating, done.stdout + done.stderr  # --threshold=20 means at most 2.0
    assert float(rating.group(1)) <= 2.0, done.stdout


# ---------------------------------------------------------------------- container file


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return read_instructions(CONTAINERFILE)


def arguments(instructions: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in instructions if kw == keyword]


def test_the_image_is_slim_python_3_11(instructions):
    assert instructions[0][0] == "FROM"
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", instructions[0][1])


def test_it_installs_the_checkout_without_extras(instructions):
    installs = [run for run in arguments(instructions, "RUN") if "pip install" in run]
    assert len(installs) == 1
    assert re.search(r"pip install /src(\s|$)", installs[0]) and "[" not in installs[0] and " -e " not in installs[0]
    copied = [args.split()[:-1] for args in arguments(instructions, "COPY")]
    for source in (s for sources in copied for s in sources):
        assert (ROOT / source).exists(), source


def test_it_runs_as_a_non_root_user_with_the_database_on_a_volume(instructions):
    users = arguments(instructions, "USER")
    assert users and users[-1] not in ("root", "0")
    keywords = [kw for kw, _ in instructions]
    assert keywords.index("USER") > max(i for i, (kw, args) in enumerate(instructions) if "pip install" in args)
    assert arguments(instructions, "VOLUME") == ["/data"]
    config = Config.from_env(environment(arguments(instructions, "ENV")))
    assert config.db_path.parent == Path("/data")


def test_it_stops_on_sigterm_and_runs_the_telegram_bot(instructions):
    assert arguments(instructions, "STOPSIGNAL") == ["SIGTERM"]
    entrypoint = json.loads(arguments(instructions, "ENTRYPOINT")[0])  # exec form: a JSON list
    command = json.loads(arguments(instructions, "CMD")[0])
    assert iddt_bot_command(entrypoint + command).command == "telegram"


def healthcheck_command(instructions: list[tuple[str, str]]) -> str:
    (healthcheck,) = arguments(instructions, "HEALTHCHECK")
    return healthcheck.split(" CMD ", 1)[1]


def test_the_health_check_runs_the_doctors_cheap_mode(instructions):
    doctor = healthcheck_command(instructions).split("||")[0]
    args = iddt_bot_command(shlex.split(doctor))
    assert (args.command, args.quick) == ("doctor", True)


@pytest.mark.parametrize(("doctor_exit", "healthy"), [(0, True), (1, True), (2, False)])
def test_the_health_check_maps_doctor_exits_to_dockers(instructions, doctor_exit, healthy):
    """Docker reads 0 healthy, 1 unhealthy: a doctor warning (1) stays healthy, a failure (2) is not."""
    if shutil.which("sh") is None:
        pytest.skip("no sh")
    command = healthcheck_command(instructions)
    stand_in = re.sub(r"^iddt-bot doctor[^|]*", f"(exit {doctor_exit}) ", command)
    assert subprocess.run(["sh", "-c", stand_in], timeout=10).returncode == (0 if healthy else 1)


def test_no_secret_is_baked_into_the_image(instructions):
    text = CONTAINERFILE.read_text(encoding="utf-8")
    assert not TOKEN_LIKE.search(text)
    for keyword in ("ENV", "ARG", "LABEL"):
        names = [word.split("=")[0] for args in arguments(instructions, keyword) for word in shlex.split(args)]
        assert not [n for n in names if SECRET_NAMES.search(n)], (keyword, names)
    copied = " ".join(arguments(instructions, "COPY") + arguments(instructions, "ADD"))
    assert not re.search(r"\benv\b|\.env|\.sqlite|/etc/iddt-bot", copied)


def test_the_build_context_is_an_allow_list():
    """Only what the image installs reaches the build: no env files, databases or virtual environments."""
    rules = [line.strip() for line in IGNORE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = [rule[1:] for rule in rules if rule.startswith("!")]
    assert set(allowed) == {"pyproject.toml", "README.md", ".gitignore", "bot", "knowledge", "conversations"}
    copied = {Path(s).parts[0] for args in read_instructions(CONTAINERFILE) if args[0] == "COPY"
              for s in args[1].split()[:-1]}
    assert copied <= set(allowed)


# --------------------------------------------------------------------------- SIGTERM


def test_sigterm_in_the_middle_of_a_reply_finishes_it_and_exits_0(tmp_path):
    """What systemd and docker do on stop: the reply under way still goes out, then a clean exit."""
    with FakeBotApi() as api:
        bot = BotProcess(api, tmp_path / "db.sqlite", tmp_path / "bot.log")
        try:
            bot.wait_ready()
            api.inject("slow", 2.0, {"sendmessage"})
            api.send_message(7, "/start")
            api.wait_for(lambda: api.requests_for("sendMessage"), 15)
        finally:
            started = time.monotonic()
            code = bot.stop()
        took = time.monotonic() - started
        delivered = [r["status"] for r in api.requests_for("sendMessage")]
    assert code == 0, bot.output[-2000:]
    assert delivered[:1] == [200]
    assert took < seconds(read_unit(UNIT)["Service"]["TimeoutStopSec"][-1])
