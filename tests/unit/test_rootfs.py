"""Finding the Debian mirror in apt sources, and the root's layout."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from dialer.asterisk.rootfs import apt_mirror, ensure_root, is_built, module_dir, root_path
from ringcast.errors import UserError
from ringcast.settings import LabSettings

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
"""


def test_deb822_sources_give_the_debian_archive(tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\n\n" + DEB822
    )
    assert apt_mirror([tmp_path / "sources.list", tmp_path]) == "http://deb.debian.org/debian"


def test_one_line_sources_with_options(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n"
    )
    assert apt_mirror([sources]) == "http://mirror.example/debian/"


def test_disabled_stanzas_and_other_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.sources").write_text("Types: deb\nURIs: http://off.example/debian\nEnabled: no\n")
    (tmp_path / "b.list.disabled").write_text("deb http://disabled.example/debian bookworm main\n")
    (tmp_path / "c.list").write_text("deb http://local.example/mirror bookworm main\n")
    assert apt_mirror([tmp_path]) == "http://local.example/mirror"


def test_no_sources_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no Debian mirror found"):
        apt_mirror([tmp_path / "missing.list", tmp_path])


def test_root_layout(tmp_path: Path) -> None:
    root = root_path(LabSettings(cache_dir=tmp_path))
    assert root == tmp_path / "sid-root"
    assert not is_built(root)
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/asterisk").touch()
    assert not is_built(root)  # no sounds yet
    (root / "usr/share/asterisk/sounds/en_US_f_Allison").mkdir(parents=True)
    (root / "usr/lib/aarch64-linux-gnu/asterisk/modules").mkdir(parents=True)
    assert is_built(root)
    assert module_dir(root) == PurePosixPath("/usr/lib/aarch64-linux-gnu/asterisk/modules")


@pytest.fixture
def fake_debootstrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `debootstrap` on PATH that fakes a root (argument 4 is the target, 5 the mirror)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "debootstrap"
    script.write_text(
        '#!/bin/sh\necho "I: Retrieving Packages"\n'
        '[ "$5" = "http://bad.example/debian" ] && { echo "E: Failed getting release file"; exit 1; }\n'
        'mkdir -p "$4/usr/sbin" "$4/usr/share/asterisk/sounds/en_US_f_Allison"\n'
        'touch "$4/usr/sbin/asterisk"\n'
        'ln -s /etc/alternatives/asterisk-prompt-en "$4/usr/share/asterisk/sounds/en"\n'
        'echo "$@" > "$4/args"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr("dialer.asterisk.rootfs.require_root_user", lambda: None)
    return script


def test_build_replaces_an_interrupted_build_and_renames_when_complete(
    tmp_path: Path, fake_debootstrap: Path
) -> None:
    lab = LabSettings(cache_dir=tmp_path / "cache", mirror="http://mirror.example/debian")
    leftover = tmp_path / "cache" / "sid-root.partial"
    leftover.mkdir(parents=True)
    (leftover / "half-built").touch()
    steps: list[str] = []
    root = ensure_root(lab, steps.append)
    assert root == tmp_path / "cache" / "sid-root" and is_built(root)
    assert not leftover.exists() and not (root / "half-built").exists()
    assert (root / "args").read_text().split() == [
        "--variant=minbase",
        "--include=asterisk,asterisk-core-sounds-en-gsm",
        "sid",
        str(leftover),
        "http://mirror.example/debian",
    ]
    assert "building the Asterisk root: Retrieving Packages" in steps
    assert os.readlink(root / "usr/share/asterisk/sounds/en") == "en_US_f_Allison"
    assert ensure_root(lab, steps.append) == root  # built: nothing to do


def test_a_failed_build_leaves_no_root(tmp_path: Path, fake_debootstrap: Path) -> None:
    lab = LabSettings(cache_dir=tmp_path / "cache", mirror="http://bad.example/debian")
    with pytest.raises(UserError, match="Failed getting release file"):
        ensure_root(lab, lambda message: None)
    assert not is_built(root_path(lab))
