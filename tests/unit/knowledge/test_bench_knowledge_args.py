"""`cos bench knowledge` where its evaluation set is not (an installed package, as in the image, has
no tests/ folder): a sentence that says what to pass, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from cos.cli import main as cos


def test_a_missing_evaluation_set_is_named_with_what_to_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "corpus.json").write_text("{}")  # questions.json is missing
    assert cos(["bench", "knowledge", "--set", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err
    assert "--set FOLDER" in err
