"""A private Redis for the local NetBox (127.0.0.1 only, password, no persistence)."""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from campusnet.errors import CampusnetError
from campusnet.private import write_private
from campusnet.procs import read_pid, spawn, stop_pid, wait_for


@dataclass
class Redis:
    base: Path
    port: int
    password: str

    @property
    def pidfile(self) -> Path:
        return self.base / "redis.pid"

    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def start(self) -> None:
        if self.pid():
            return
        exe = shutil.which("redis-server")
        if not exe:
            raise CampusnetError("E168", "redis-server not found: install Debian's redis-server package")
        self.base.mkdir(parents=True, exist_ok=True)
        conf = write_private(self.base / "redis.conf",  # the password lives here (0600), never in argv
                             f"bind 127.0.0.1\nport {self.port}\nprotected-mode yes\nrequirepass {self.password}\n"
                             f"dir {self.base}\nsave \"\"\nappendonly no\ndaemonize no\n")
        spawn(self.argv(exe, conf), pidfile=self.pidfile, logfile=self.base / "redis.log")
        wait_for(self.ping, timeout=20, what="Redis")

    def argv(self, exe: str, conf: Path) -> list[str]:
        return [exe, str(conf)]

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                data = b""
                while b"PONG" not in data:
                    chunk = s.recv(100)
                    if not chunk:
                        break
                    data += chunk
                return b"PONG" in data
        except OSError:
            return False

    def stop(self) -> bool:
        pid = self.pid()
        if not pid:
            return False
        stop_pid(pid)
        return True
