"""Faults to inject: small filesystems that fill up or turn read-only, a PostgreSQL to stop."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support import free_port


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (skips where mounting is not allowed)."""
    path.mkdir()
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({mounted.stderr.strip()}); this test needs one")
    try:
        yield path
    finally:
        _run("umount", "-l", str(path))


def fill(directory: Path, leave: int) -> Path:
    """Write a file that takes all the free space of a filesystem but ``leave`` bytes."""
    filler = directory / "filler"
    block = b"\0" * 65536
    with filler.open("wb", buffering=0) as file, suppress(OSError):  # ENOSPC: full
        while True:
            file.write(block)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@dataclass
class Ext4Image:
    """An ext4 filesystem in a file, mounted through a loop device with errors=remount-ro."""

    image: Path
    mountpoint: Path

    def mount(self) -> None:
        done = _run("mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.mountpoint))
        assert done.returncode == 0, done.stderr

    def device(self) -> str:
        return Path(_run("findmnt", "-no", "SOURCE", str(self.mountpoint)).stdout.strip()).name

    def force_read_only(self) -> None:
        """What the kernel does on an I/O error: remount read-only under the open files."""
        trigger = Path(f"/sys/fs/ext4/{self.device()}/trigger_fs_error")
        trigger.write_text("injected by the test suite\n")
        with pytest.raises(OSError, match="Read-only file system"):
            (self.mountpoint / "probe").write_bytes(b"")

    def repair(self) -> None:
        """Unmount, check and remount read-write: what an operator does after such an error."""
        assert _run("umount", str(self.mountpoint)).returncode == 0
        checked = _run("e2fsck", "-fy", str(self.image))
        assert checked.returncode in (0, 1), checked.stdout  # 1: errors corrected
        self.mount()


@contextmanager
def ext4_image(path: Path, size_mb: int = 64) -> Iterator[Ext4Image]:
    """A fresh ext4 image mounted at ``path`` (skips without loop devices or mkfs.ext4)."""
    if not shutil.which("mkfs.ext4") or not Path("/dev/loop-control").exists():
        pytest.skip("needs mkfs.ext4 and loop devices to make a filesystem turn read-only")
    image = path.with_suffix(".img")
    with image.open("wb") as file:
        file.truncate(size_mb * 1024 * 1024)
    assert _run("mkfs.ext4", "-q", "-F", str(image)).returncode == 0
    path.mkdir()
    fs = Ext4Image(image, path)
    mounted = _run("mount", "-o", "loop,errors=remount-ro", str(image), str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a loop device ({mounted.stderr.strip()})")
    try:
        yield fs
    finally:
        _run("umount", "-l", str(path))


@dataclass
class Cluster:
    """A throw-away PostgreSQL cluster on a free loopback port."""

    bindir: Path
    directory: Path
    port: int
    as_postgres: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        done = _run(
            *self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"),
            "-l", str(self.directory / "log"), *args,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self.pg_ctl("-o", options, "-w", "start")

    def stop(self) -> None:
        """An immediate stop: every connection is cut at once, as in a crash of the server."""
        self.pg_ctl("-m", "immediate", "-w", "stop")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """initdb + start in a temporary directory; stopped and removed afterwards."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) for a cluster")
    bindir = Path(found[-1]).parent
    directory = Path(tempfile.mkdtemp(prefix="custom-audiences-pg-"))
    as_postgres: tuple[str, ...] = ()
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(directory, "postgres")
        as_postgres = ("runuser", "-u", "postgres", "--")
    cluster = Cluster(bindir, directory, free_port(), as_postgres)
    init = _run(
        *as_postgres, str(bindir / "initdb"), "-D", str(directory / "data"), "-U", "postgres",
        "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    cluster.start()
    try:
        yield cluster
    finally:
        with suppress(AssertionError):
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


def wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    """Poll a zero-argument callable until it returns true."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
