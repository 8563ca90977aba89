"""The lab's Debian root with Asterisk: built once with debootstrap, cached outside the repository.

The root is built in `<root>.partial` and renamed when complete, so a half-built root is
never used; a leftover `.partial` (an interrupted build) is deleted and built again. The
mirror is this machine's own Debian archive from its apt sources unless configured.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from ringcast.errors import UserError
from ringcast.settings import LabSettings

Progress = Callable[[str], None]

PACKAGES = ("asterisk", "asterisk-core-sounds-en-gsm")
ASTERISK = PurePosixPath("/usr/sbin/asterisk")
SOUNDS = PurePosixPath("usr/share/asterisk/sounds")
ENGLISH_SOUNDS = "en_US_f_Allison"  # where asterisk-core-sounds-en-gsm installs the prompts
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))


def root_path(lab: LabSettings) -> Path:
    return lab.cache_dir / f"{lab.suite}-root"


def is_built(root: Path) -> bool:
    return (root / ASTERISK.relative_to("/")).is_file() and (root / SOUNDS / ENGLISH_SOUNDS).is_dir()


def ensure_root(lab: LabSettings, progress: Progress) -> Path:
    """The cached root, built first if missing (about 45 s and 500 MB)."""
    root = root_path(lab)
    if is_built(root):
        link_english_sounds(root)
        return root
    require_root_user()
    debootstrap = _ensure_debootstrap(progress)
    mirror = lab.mirror or apt_mirror()
    partial = root.with_name(root.name + ".partial")
    if partial.exists():
        progress(f"removing the interrupted build {partial}")
        shutil.rmtree(partial)
    root.parent.mkdir(parents=True, exist_ok=True)
    log_file = root.with_name(root.name + ".build.log")
    command = [
        debootstrap,
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        lab.suite,
        str(partial),
        mirror,
    ]
    _run_logged(command, log_file, lambda line: progress(f"building the Asterisk root: {line}"))
    if not is_built(partial):
        raise UserError(
            f"debootstrap finished but {partial} lacks Asterisk or its sounds", hint=f"see {log_file}"
        )
    link_english_sounds(partial)
    partial.rename(root)
    return root


def link_english_sounds(root: Path) -> None:
    """Make the default language `en` find the English prompts: `sounds/en` → `en_US_f_Allison`.

    Debian points `sounds/en` through /etc/alternatives with absolute links, which break
    whenever the root is not the file system root; a relative link works everywhere.
    """
    english = root / SOUNDS / "en"
    if english.is_symlink():
        if os.readlink(english) == ENGLISH_SOUNDS:
            return
        english.unlink()
    elif english.is_dir():
        return  # real English prompts
    english.symlink_to(ENGLISH_SOUNDS)


def module_dir(root: Path) -> PurePosixPath:
    """Where the root's Asterisk modules are (Debian's multiarch directory), as a path in the root."""
    found = sorted(root.glob("usr/lib/*/asterisk/modules"))
    if not found:
        raise UserError(
            f"no Asterisk modules in {root}", hint=f"delete {root} and run `ringcast lab up` again"
        )
    return PurePosixPath("/") / found[0].relative_to(root)


def require_root_user() -> None:
    if os.geteuid() != 0:
        raise UserError(
            "the Asterisk lab needs root (debootstrap, chroot)", hint="run it as root, e.g. with sudo"
        )


def apt_mirror(sources: Iterable[Path] = APT_SOURCES) -> str:
    """The Debian archive this machine installs from (one-line and deb822 apt sources)."""
    uris = [uri for path in _source_files(sources) for uri in _deb_uris(path.read_text(), path.suffix)]
    for uri in uris:
        if PurePosixPath(urlsplit(uri).path).name == "debian":
            return uri
    if uris:
        return uris[0]
    raise UserError(
        "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d",
        hint="set RINGCAST_LAB__MIRROR, e.g. to your Debian mirror's URL",
    )


def _source_files(sources: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files += sorted(p for p in source.iterdir() if p.suffix in (".list", ".sources"))
        elif source.is_file():
            files.append(source)
    return files


def _deb_uris(text: str, suffix: str) -> list[str]:
    if suffix == ".sources":  # deb822 stanzas: the URIs of those with Types: deb and not Enabled: no
        uris = []
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(re.findall(r"(?im)^([\w-]+):[ \t]*(.*)$", stanza))
            fields = {key.lower(): value for key, value in fields.items()}
            if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes").lower() != "no":
                uris += fields.get("uris", "").split()
        return uris
    uris = []
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()  # drop [options]
        if len(words) >= 2 and words[0] == "deb":
            uris.append(words[1])
    return uris


def _ensure_debootstrap(progress: Progress) -> str:
    found = shutil.which("debootstrap")
    if found:
        return found
    progress("installing debootstrap with apt-get")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "debootstrap"]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(
                f"debootstrap is missing and `{' '.join(command)}` failed: {last}",
                hint="install the debootstrap package, then run `ringcast lab up` again",
            )
    found = shutil.which("debootstrap")
    if not found:
        raise UserError("debootstrap is still missing after apt-get install", hint="install it by hand")
    return found


def _run_logged(command: list[str], log_file: Path, on_step: Progress) -> None:
    """Run `command`, its output to `log_file`; each `I: ...` line is reported as a step."""
    started = time.monotonic()
    with (
        log_file.open("w") as log,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if line.startswith("I: "):
                on_step(line[3:].strip())
    if process.returncode != 0:
        tail = log_file.read_text().strip().splitlines()[-1:] or ["no output"]
        raise UserError(
            f"{command[0]} failed after {time.monotonic() - started:.0f} s: {tail[0]}",
            hint=f"full output in {log_file}; check the mirror (RINGCAST_LAB__MIRROR) and the network",
        )
