"""Publishing folders whole: what killed runs leave is removed, what live runs write is not."""

import os
import subprocess
import sys

from munit_tf import atomic


def test_stale_staging_of_dead_processes_is_removed_and_live_ones_are_kept(tmp_path):
    target = tmp_path / "data"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for name in (
            f".data.tmp-{dead}-0a1b",
            f".data.old-{dead}-0a1c",
            f".data.tmp-{live.pid}-0a1d",
            f".other.tmp-{dead}-0a1e",
            "data.tmp-notours",
        ):
            (tmp_path / name).mkdir()
        staging = atomic.staging_dir(str(target))
        assert sorted(os.listdir(tmp_path)) == sorted(
            [
                f".data.tmp-{live.pid}-0a1d",
                f".other.tmp-{dead}-0a1e",
                "data.tmp-notours",
                os.path.basename(staging),
            ]
        )
        atomic.remove_stale(str(target), any_name=True)
        assert f".other.tmp-{dead}-0a1e" not in os.listdir(tmp_path)
        assert f".data.tmp-{live.pid}-0a1d" in os.listdir(tmp_path)
    finally:
        live.kill()


def test_publish_replaces_a_folder_by_renames(tmp_path):
    target = tmp_path / "1"
    first = atomic.staging_dir(str(target))
    open(os.path.join(first, "a"), "w").write("first")
    atomic.publish(first, str(target))
    second = atomic.staging_dir(str(target))
    open(os.path.join(second, "b"), "w").write("second")
    atomic.publish(second, str(target))
    assert os.listdir(tmp_path) == ["1"] and os.listdir(target) == ["b"]
