from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from neuron_explainer.activation_server.commands import TOKEN_ENV
from neuron_explainer.cli import main
from tests.models.tiny import tiny_model


def test_models_lists_every_registry_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("toy-gelu-2l", "gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2"):
        assert name in out


def test_hooks_lists_names_and_shapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny_model().save_pretrained(str(tmp_path))
    assert main(["hooks", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "blocks.1.attn.hook_pattern" in out and "[1, 4, 4, 4]" in out


def test_sample_without_tokenizer_or_model_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny_model().save_pretrained(str(tmp_path))
    assert main(["sample", str(tmp_path)]) == 2
    assert "no tokenizer" in capsys.readouterr().err
    assert main(["sample", "no-such-model"]) == 2
    assert "Registry names" in capsys.readouterr().err


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The apps `tdb serve` would run (uvicorn is not started); no token in the environment."""
    apps: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: apps.append(app))
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    return apps


def served_token(apps: list[Any]) -> str | None:
    token: str | None = apps[-1].state.runtime.settings.token
    return token


SERVE = ["serve", "--saes", "none"]


def test_serve_takes_the_token_from_a_file_or_the_environment(
    served: list[Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Not only --token, which `ps` shows to every user of the machine."""
    token_file = tmp_path / "token"
    token_file.write_text("  file-token\n")
    assert main([*SERVE, "--host", "0.0.0.0", "--token-file", str(token_file)]) == 0
    assert served_token(served) == "file-token"
    out = capsys.readouterr().out
    assert "the one from --token-file" in out and "file-token" not in out

    monkeypatch.setenv(TOKEN_ENV, "env-token\n")
    assert main([*SERVE, "--host", "0.0.0.0"]) == 0
    assert served_token(served) == "env-token"
    assert f"the one from {TOKEN_ENV}" in capsys.readouterr().out
    assert main(SERVE) == 0  # on loopback too: a token given is a token checked
    assert served_token(served) == "env-token"
    # Precedence: --token, then --token-file, then the environment.
    assert main([*SERVE, "--token-file", str(token_file)]) == 0
    assert served_token(served) == "file-token"
    assert main([*SERVE, "--token", "flag-token"]) == 0
    assert served_token(served) == "flag-token"


@pytest.mark.parametrize(
    "content, words",
    [
        (None, ["no such file"]),
        (b" \n\t", ["is empty"]),
        (b"\xff\xfe", ["cannot be read"]),
        (b"two words", ["printable ASCII without spaces"]),
    ],
)
def test_serve_refuses_a_bad_token_file(
    served: list[Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    words: list[str],
) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_bytes(content)
    assert main([*SERVE, "--token-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--token-file" in err and all(word in err for word in words), err
    assert served == []


def test_serve_refuses_unusable_token_sources(
    served: list[Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*SERVE, "--token-file", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    token_file = tmp_path / "token"
    token_file.write_text("t")
    assert main([*SERVE, "--token", "t", "--token-file", str(token_file)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main([*SERVE, "--token", ""]) == 2
    assert "--token is empty" in capsys.readouterr().err
    monkeypatch.setenv(TOKEN_ENV, "")
    assert main(SERVE) == 2
    assert f"${TOKEN_ENV} is empty" in capsys.readouterr().err
    assert served == []


def test_serve_help_names_the_token_sources(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--token-file PATH" in out and TOKEN_ENV in out and "ps" in out


@pytest.mark.parametrize(
    "option, value",
    [
        ("--host", "127.0.0.1:8000@evil.example"),
        ("--host", "0.0.0.0:8000"),
        ("--host", "my host"),
        ("--allowed-host", "tdb.example:8000"),
        ("--allowed-host", "user@tdb.example"),
        ("--allowed-host", "tdb.example/path"),
    ],
)
def test_serve_refuses_hosts_that_are_not_names_or_addresses(
    served: list[Any], capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    assert main([*SERVE, "--token", "t", option, value]) == 2
    err = capsys.readouterr().err
    assert f"{option} {value!r} is not a host name or IP address" in err, err
    assert served == []


def test_serve_takes_several_models(served: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    """`--model` repeated: the first is the default; each must be a registry name."""
    assert main(SERVE) == 0
    assert served[-1].state.pool.names == ("toy-gelu-2l",)  # the default stays one model
    argv = [*SERVE, "--model", "toy-attn-only-2l", "--model", "toy-gelu-2l"]
    assert main([*argv, "--model", "toy-attn-only-2l", "--max-model-bytes", "1000"]) == 0
    settings = served[-1].state.pool.settings
    assert settings.models == ("toy-attn-only-2l", "toy-gelu-2l")  # given twice: served once
    assert settings.model == "toy-attn-only-2l" and settings.max_model_bytes == 1000
    assert "serving toy-attn-only-2l, toy-gelu-2l (default toy-attn-only-2l" in (
        capsys.readouterr().out
    )
    assert main([*argv, "--model", "gpt-9"]) == 2
    assert "'gpt-9' is neither a model directory nor a registry name" in capsys.readouterr().err
    assert len(served) == 2
