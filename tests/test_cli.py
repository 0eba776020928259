import contextlib
import subprocess
import sys

from tokui.cli import main


def test_help_lists_tokui_commands_first(capsys):
    with contextlib.suppress(SystemExit):
        main(["tokui", "--help"])
    out = capsys.readouterr().out
    ours = out.index("Tokui commands:")
    django_section = out.index("Django commands")
    assert ours < django_section
    tokui_block = out[ours:django_section]
    for command in ("demo", "serve", "token"):
        assert f"    {command}\n" in tokui_block
    assert "migrate" in out[django_section:]


def test_the_console_script_explains_a_wrong_user_name(tmp_path):
    def tokui(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tokui.cli", *args],
            capture_output=True,
            text=True,
            env={"TOKUI_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            check=False,
        )

    assert tokui("migrate", "-v", "0").returncode == 0
    result = tokui("token", "create", "--user", "nobody")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "There is no user named 'nobody'" in result.stderr
