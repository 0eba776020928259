import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.accounts.imports.conftest import csv_bytes
from tokui.accounts.imports.runner import import_job_run
from tokui.accounts.imports.services import import_job_create
from tokui.accounts.models import Account, Contact, ImportJob

ROWS = [
    ["会社名", "姓", "名", "メールアドレス"],
    ["株式会社山田商事", "山田", "太郎", "taro@yamada.example.jp"],
    ["株式会社山田商事", "佐藤", "", "not-an-address"],
    ["株式会社北斗", "鈴木", "一郎", ""],
]


def tokui_import(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_and_prints_a_summary(kam, tmp_path):
    path = tmp_path / "cards.csv"
    path.write_bytes(csv_bytes(ROWS, encoding="cp932"))
    report = tmp_path / "report.csv"
    out, err = tokui_import(
        "contacts", str(path), "--preset", "cards", "--as", "kam", "--report", str(report)
    )
    assert "created           2" in out
    assert "rejected          1" in out
    assert "row 3: E-mail: “not-an-address” is not a valid e-mail address." in out
    assert "3 / 3 rows (100%)" in err
    assert Contact.objects.count() == 2
    assert Account.objects.filter(owner=kam).count() == 2
    text = report.read_text(encoding="utf-8-sig")
    assert "not-an-address" in text
    assert "Created account “株式会社北斗”." in text


def test_a_file_that_cannot_be_read_is_an_error(kam, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="The file is empty"):
        tokui_import("accounts", str(path), "--as", "kam")
    duplicate = tmp_path / "dup.csv"
    duplicate.write_bytes(csv_bytes([["会社名", "会社名"], ["a", "b"]]))
    with pytest.raises(CommandError, match="more than once"):
        tokui_import("accounts", str(duplicate), "--as", "kam")
    assert not ImportJob.objects.exists()


def test_the_same_file_with_the_same_options_resumes_the_unfinished_import(kam, tmp_path, settings):
    settings.TOKUI_IMPORT_BATCH_SIZE = 2
    rows = [["会社名"]] + [[f"株式会社{i}"] for i in range(7)]
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(rows))
    job = import_job_create(
        actor=kam,
        file=io.BytesIO(path.read_bytes()),
        name="a.csv",
        target="accounts",
        mapping={"会社名": "name"},
    )

    def crash(progress_job):
        if progress_job.processed_rows >= 4:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk, progress=crash)
    out, err = tokui_import("accounts", str(path), "--as", "kam")
    assert f"Resuming import {job.pk} of a.csv after row 4." in err
    assert "created           7" in out
    assert Account.objects.count() == 7
    assert ImportJob.objects.count() == 1


def test_an_unknown_user_is_an_error(db, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"name\r\nA\r\n")
    with pytest.raises(CommandError, match="no user named"):
        tokui_import("accounts", str(path), "--as", "nobody")


def test_exit_codes_of_the_console_script(tmp_path):
    env = {"TOKUI_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def tokui(*args):
        return subprocess.run(
            [sys.executable, "-m", "tokui.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    assert tokui("migrate", "-v", "0").returncode == 0
    assert (
        tokui(
            "shell",
            "-c",
            "from tokui.users.models import User; User.objects.create(username='kam', role='kam')",
        ).returncode
        == 0
    )
    good = tmp_path / "good.csv"
    good.write_bytes(
        csv_bytes([["会社名", "電話番号"], ["株式会社A", "03-1234-5678"], ["株式会社B", "12"]])
    )
    result = tokui("import", "accounts", str(good), "--as", "kam")
    assert result.returncode == 0, result.stderr
    assert "rejected          1" in result.stdout
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = tokui("import", "accounts", str(empty), "--as", "kam")
    assert result.returncode == 1
    assert "The file is empty" in result.stderr
