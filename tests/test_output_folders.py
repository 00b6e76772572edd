"""Every command that writes for the user, against a user's folder and against its own.

Why: `train --out ~/Music` once deleted the folder. The rule now is one mechanism
(``wavecomp.output_dir``): a non-empty folder (or file) wavecomp did not write is refused
with an error naming it, and nothing in it changes; a folder wavecomp wrote (marker file) is
replaced whole. The refusals must come before any long work, so they are all quick here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from wavecomp import output_dir
from wavecomp.cli import main
from wavecomp.output_dir import MARKER

# command line per command; OUT is replaced by the output path
COMMANDS = {
    "train": ["train", "--out", "OUT", "--epochs", "1", "--examples", "8"],
    "demo": ["demo", "--no-train", "--out", "OUT"],
    "build": ["build", "--target", "ecp5", "--out", "OUT"],
    "emit-core": ["build", "--target", "ecp5", "--emit-core", "OUT"],
    "emit-cmsis": ["emit-cmsis", "--out", "OUT"],
}
FAST_TO_RUN = {"emit-core", "emit-cmsis"}


def _invoke(args: list[str], out: Path):
    argv = [str(out) if a == "OUT" else a for a in args]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def _user_folder(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "my music"
    folder.mkdir()
    precious = folder / "take1.wav"
    precious.write_bytes(b"RIFF user data")
    return folder, precious


def _no_staging_left(parent: Path) -> None:
    leftovers = [p.name for p in parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [], f"staging left behind: {leftovers}"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_users_folder_is_refused_and_kept(command: str, tmp_path: Path) -> None:
    folder, precious = _user_folder(tmp_path)
    result = _invoke(COMMANDS[command], folder)
    assert result.exit_code == 1, result.output
    assert "not written by wavecomp" in result.output
    assert str(folder) in result.output.replace("\n", "")
    assert precious.read_bytes() == b"RIFF user data"
    assert sorted(p.name for p in folder.iterdir()) == ["take1.wav"]
    _no_staging_left(tmp_path)


@pytest.mark.parametrize(
    "command",
    [pytest.param(c, marks=() if c in FAST_TO_RUN else pytest.mark.slow) for c in COMMANDS],
)
def test_a_wavecomp_folder_is_replaced(command: str, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / MARKER).write_text("written by an earlier wavecomp run\n")
    (folder / "stale.txt").write_text("from the earlier run")
    result = _invoke(COMMANDS[command], folder)
    assert result.exit_code == 0, result.output
    names = {p.name for p in folder.iterdir()}
    assert (folder / MARKER).is_file()
    if command != "demo":  # demo keeps its folder and replaces each output inside it
        assert "stale.txt" not in names
    assert len(names - {MARKER, "stale.txt"}) >= 1, names
    _no_staging_left(tmp_path)


def test_sim_and_tone_never_overwrite_a_users_wav(tmp_path: Path) -> None:
    user_wav = tmp_path / "mix.wav"
    user_wav.write_bytes(b"RIFF not ours")
    tone = CliRunner().invoke(main, ["tone", str(user_wav)])
    assert tone.exit_code == 1 and "not written by wavecomp" in tone.output
    ours = tmp_path / "tri.wav"
    assert CliRunner().invoke(main, ["tone", str(ours), "--seconds", "0.05"]).exit_code == 0
    sim = CliRunner().invoke(main, ["sim", str(ours), str(user_wav)])
    assert sim.exit_code == 1 and "not written by wavecomp" in sim.output
    assert user_wav.read_bytes() == b"RIFF not ours"
    # a WAV wavecomp wrote is replaced: rendering twice into the same file works
    for _ in range(2):
        again = CliRunner().invoke(main, ["sim", str(ours), str(tmp_path / "out.wav")])
        assert again.exit_code == 0, again.output
    _no_staging_left(tmp_path)


@pytest.mark.parametrize("command", sorted(FAST_TO_RUN))
def test_a_run_killed_before_publishing_leaves_the_previous_output(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert _invoke(COMMANDS[command], out).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    class Killed(BaseException):  # like KeyboardInterrupt: not an error wavecomp handles
        pass

    def killed(staging: Path, path: Path) -> None:
        assert any(staging.iterdir()), "nothing was staged"
        raise Killed

    monkeypatch.setattr(output_dir, "_swap_in", killed)
    with pytest.raises(Killed):
        _invoke(COMMANDS[command], out)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    _no_staging_left(tmp_path)
