"""Model names: bundled toy models shipped inside the package, and GPT-2-family checkpoints that
the user already has in their local Hugging Face cache. Nothing is downloaded by default."""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "toy-gelu-2l"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


@dataclass(frozen=True)
class RegistryEntry:
    name: str
    source: str  # "bundled" or "huggingface"
    description: str
    hf_repo_ids: tuple[str, ...] = ()


HF_ENTRIES = (
    RegistryEntry("gpt2", "huggingface", "GPT-2 small (124M)", ("gpt2", "openai-community/gpt2")),
    RegistryEntry(
        "gpt2-medium",
        "huggingface",
        "GPT-2 medium (355M)",
        ("gpt2-medium", "openai-community/gpt2-medium"),
    ),
    RegistryEntry(
        "gpt2-large",
        "huggingface",
        "GPT-2 large (774M)",
        ("gpt2-large", "openai-community/gpt2-large"),
    ),
    RegistryEntry(
        "gpt2-xl", "huggingface", "GPT-2 XL (1.5B)", ("gpt2-xl", "openai-community/gpt2-xl")
    ),
    RegistryEntry(
        "distilgpt2", "huggingface", "DistilGPT-2 (82M)", ("distilgpt2", "distilbert/distilgpt2")
    ),
)


def bundled_entries() -> list[RegistryEntry]:
    """Every bundled model directory (one with a config.json) under the package's bundled/."""
    entries = []
    if BUNDLED_DIR.is_dir():
        for directory in sorted(BUNDLED_DIR.iterdir()):
            if (directory / "config.json").is_file():
                description = "bundled toy model"
                card = directory / "card.json"
                if card.is_file():
                    description = json.loads(card.read_text()).get("description", description)
                entries.append(RegistryEntry(directory.name, "bundled", description))
    return entries


def all_entries() -> list[RegistryEntry]:
    bundled = bundled_entries()
    known = {e.name for e in bundled}
    if DEFAULT_MODEL not in known:
        bundled.insert(
            0,
            RegistryEntry(
                DEFAULT_MODEL, "bundled", "default toy model (not bundled in this build)"
            ),
        )
    return bundled + list(HF_ENTRIES)


def hf_cache_dir() -> Path:
    """The local Hugging Face hub cache, honouring HF_HUB_CACHE and HF_HOME."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def find_in_hf_cache(repo_id: str, cache_dir: Path | None = None) -> Path | None:
    """The snapshot directory of `repo_id` in the hub cache, if one holds a config.json."""
    repo_dir = (cache_dir or hf_cache_dir()) / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo_dir / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        candidate = snapshots / ref.read_text().strip()
        if (candidate / "config.json").is_file():
            return candidate
    for candidate in sorted(snapshots.iterdir()):
        if (candidate / "config.json").is_file():
            return candidate
    return None


def entry(name: str) -> RegistryEntry:
    for e in all_entries():
        if e.name == name:
            return e
    names = [e.name for e in all_entries()]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise KeyError(
        f"{name!r} is neither a model directory nor a registry name.{hint} "
        f"Registry names: {', '.join(names)}"
    )


def model_directory(name_or_path: str | Path, allow_download: bool = False) -> Path:
    """A model directory as given, or the directory of a registry name."""
    path = Path(name_or_path)
    return path if path.is_dir() else resolve(str(name_or_path), allow_download)


def resolve(name: str, allow_download: bool = False) -> Path:
    """The local directory of a registry name; raises with the expected location if absent."""
    e = entry(name)
    if e.source == "bundled":
        directory = BUNDLED_DIR / name
        if not (directory / "config.json").is_file():
            raise FileNotFoundError(
                f"Bundled model {name!r} is not in this build (expected {directory}); "
                "train it with `tdb train-model` or check out a release that bundles it"
            )
        return directory
    for repo_id in e.hf_repo_ids:
        found = find_in_hf_cache(repo_id)
        if found is not None:
            return found
    if allow_download:
        return _download(e.hf_repo_ids[-1])
    expected = hf_cache_dir() / ("models--" + e.hf_repo_ids[-1].replace("/", "--"))
    raise FileNotFoundError(
        f"Weights for {name!r} are not on this machine. Expected a Hugging Face cache snapshot at "
        f"{expected}/snapshots/<revision>/ (config.json + model.safetensors), or pass a directory "
        "path instead of the name. Nothing is downloaded unless you pass allow_download=True."
    )


def _download(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise RuntimeError("allow_download=True needs the huggingface_hub package") from e
    path = snapshot_download(
        repo_id, allow_patterns=["config.json", "*.safetensors", "*.safetensors.index.json"]
    )
    return Path(path)


def availability(e: RegistryEntry) -> tuple[bool, str]:
    """Whether the entry can be loaded now, and from where (or where it is expected)."""
    try:
        return True, str(resolve(e.name))
    except FileNotFoundError:
        if e.source == "bundled":
            return False, str(BUNDLED_DIR / e.name)
        return False, "not in the local Hugging Face cache (" + str(hf_cache_dir()) + ")"
