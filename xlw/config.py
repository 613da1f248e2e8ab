"""Profiles: what `smoke`, `cpu` and `gpu` mean for every notebook, read from `xlw/settings/<notebook>.yaml`.

A notebook takes `profile` (and `overrides`) as papermill parameters and asks for its section:
`settings("cpu", "01_math")`. Sizes grow from `smoke` (seconds, for tests and CI) through `cpu` (real
quality within minutes on 2 cores) to `gpu` (hub models, full data, CUDA). In a settings file a key is
either one value for every profile or a mapping `{smoke: …, cpu: …, gpu: …}`, with a comment on the
choice; so every profile defines the same keys, and code never branches on the profile name.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

DEFAULT_PROFILE = "cpu"
PROFILE_NAMES = ("smoke", "cpu", "gpu")
SETTINGS_DIR = Path(__file__).with_name("settings")


class ProfileError(ValueError):
    """An unknown profile or notebook section was asked for, or a settings file is malformed."""


def _per_profile(value: Any) -> bool:
    """Whether a settings-file value is a `{smoke, cpu, gpu}` mapping rather than one value for all."""
    return isinstance(value, dict) and bool(set(value) & set(PROFILE_NAMES))


def _check_value(path: Path, key: str, value: Any) -> None:
    """Refuse a string YAML would have read as a number had it been written with a dot (`1e-3`)."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return
        raise ProfileError(f"{path}: setting {key!r} = {value!r} is read as text; write a number with a dot "
                           f"and a signed exponent, e.g. 1.0e-3 (YAML 1.1)")
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        _check_value(path, key, item)


def read_settings(folder: Path = SETTINGS_DIR) -> dict[str, dict[str, dict[str, Any]]]:
    """{profile: {notebook: {key: value}}} from one `<notebook>.yaml` per notebook in `folder`."""
    profiles: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in PROFILE_NAMES}
    for path in sorted(folder.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ProfileError(f"{path}: expected one `key: value` line per setting, got {type(raw).__name__}")
        for key, value in raw.items():
            if _per_profile(value) and set(value) != set(PROFILE_NAMES):
                raise ProfileError(f"{path}: setting {key!r} gives {', '.join(map(str, value))}: a per-profile "
                                   f"value needs exactly {', '.join(PROFILE_NAMES)}")
            _check_value(path, key, value)
        for name in PROFILE_NAMES:
            profiles[name][path.stem] = {k: v[name] if _per_profile(v) else v for k, v in raw.items()}
    return profiles


PROFILES = read_settings()

# Settings that are None ("all of them") in every profile, and the kind of value that narrows them.
NONE_MEANS_ALL = {"eval_languages": "list", "caption_languages": "list", "question_languages": "list"}


def check_profile(profile: str) -> str:
    """Return `profile` if it is a known profile, else raise naming the valid ones."""
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ProfileError(
            f"unknown profile {profile!r}: expected one of {', '.join(sorted(PROFILES))}"
        )
    return profile


def section(profile: str, notebook: str) -> dict[str, Any]:
    """The settings of `notebook` (e.g. '01_math') under `profile`, as a dict."""
    sections = PROFILES[check_profile(profile)]
    if notebook not in sections:
        raise ProfileError(
            f"profile {profile!r} has no settings for notebook {notebook!r}: "
            f"expected one of {', '.join(sorted(sections))}"
        )
    return dict(sections[notebook])


def _kind(value: Any) -> str:
    """The type name an override is checked by: int and float count as 'number', tuple as 'list'."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number" if isinstance(value, float) else "int"
    return "list" if isinstance(value, tuple | list) else type(value).__name__


def check_overrides(notebook: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """`overrides` if every key is a setting of `notebook` and every value has a type that setting takes
    in some profile (None only where a profile uses None); else a ProfileError naming key and types."""
    overrides = dict(overrides or {})
    valid = section(DEFAULT_PROFILE, notebook)
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ProfileError(f"{notebook} has no setting {', '.join(map(repr, unknown))}: expected one of "
                           f"{', '.join(sorted(valid)) or '(none: it takes no settings)'}")
    for key, value in overrides.items():
        kinds = {_kind(sections[notebook][key]) for sections in PROFILES.values()}
        if kinds == {"NoneType"} and key in NONE_MEANS_ALL:
            kinds.add(NONE_MEANS_ALL[key])
        accepted = kinds | {"int"} if "number" in kinds else kinds  # 3 is a number; 0.5 is not a step count
        if _kind(value) not in accepted:
            raise ProfileError(f"{notebook} setting {key!r} = {value!r} is a {_kind(value)}: expected "
                               f"{' or '.join(sorted(k.replace('NoneType', 'None') for k in kinds))} "
                               f"(cpu profile: {valid[key]!r})")
    return overrides


def settings(profile: str, notebook: str, overrides: dict[str, Any] | None = None) -> SimpleNamespace:
    """The settings of `notebook` under `profile`, with `overrides` (checked keys and types), as attributes."""
    return SimpleNamespace(**(section(profile, notebook) | check_overrides(notebook, overrides)))


def for_pair(cfg: SimpleNamespace, key: str, pair: str) -> Any:
    """Setting `key` for language pair `pair`: its entry in a `{pair: value}` mapping (`"*"`: every other
    pair), or the setting itself when it is one value; a ProfileError says how to add a missing pair."""
    value = getattr(cfg, key)
    if not isinstance(value, dict):
        return value
    if pair in value or "*" in value:
        return value.get(pair, value.get("*"))
    raise ProfileError(f"setting {key!r} has no value for {pair!r} (it has {', '.join(value)}): add one, "
                       f"e.g. -p {key}='{{\"{pair}\": …}}', or a \"*\" entry for every other pair")


def profile_table():
    """Every setting of every profile side by side, as a DataFrame (rows: notebook.setting)."""
    import pandas as pd

    return pd.DataFrame({
        profile: {f"{nb}.{key}": value for nb, section in sorted(sections.items()) for key, value in section.items()}
        for profile, sections in PROFILES.items()
    })
