"""A missing prerequisite is one line naming the fix, never a stack trace."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


def test_port_in_use_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tuntas", "stack", "up"],
            env={
                "PATH": "/usr/bin:/bin",
                "TUNTAS_HOME": str(tmp_path),
                "TUNTAS_KAFKA_PORT": str(port),
                "DATABASE_URL": "postgresql://unused/x",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0] and "in use" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_java_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tuntas", "stack", "up"],
        env={
            "PATH": str(tmp_path),
            "TUNTAS_HOME": str(tmp_path),
            "DATABASE_URL": "postgresql://unused/x",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "tuntas: java not found: install Java 17 (apt-get install openjdk-17-jre-headless)"
    ]
