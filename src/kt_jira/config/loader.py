"""Loading the configuration: YAML with line numbers, ``KT_JIRA__SECTION__KEY`` overrides, strict
validation into ``Settings``, and where each secret reference came from.

The only module of ``config`` that reads a file or the environment (secrets are resolved later,
on use, by ``config.secrets``). Errors name the key, the file and the line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from kt_jira.config.models import ENV_PREFIX, Settings
from kt_jira.config.network import ProxyUrl
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError


def load_settings(path: str | Path, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, override from the environment, validate; ``ConfigError`` names key, file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    data, lines = _load_yaml(text, path)
    _apply_env(data, os.environ if environ is None else environ)
    return settings_from_dict(data, source=str(path), lines=lines)


def settings_from_dict(
    data: Mapping[str, Any],
    *,
    source: str = "<dict>",
    lines: Mapping[tuple[str, ...], int] | None = None,
) -> Settings:
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, lines or {})) from None
    _label_secrets(settings)
    return settings


def _describe(exc: ValidationError, source: str, lines: Mapping[tuple[str, ...], int]) -> str:
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        key = ".".join(loc) or "<top level>"
        line = _line_for(loc, lines)
        where = f"{source}, line {line}" if line else source
        if error["type"] == "extra_forbidden":
            problems.append(f"{key}: unknown key ({where}); check the spelling against DESIGN.md")
        else:
            problems.append(f"{key}: {error['msg']} ({where})")
    return "invalid configuration:\n  " + "\n  ".join(problems)


def _line_for(loc: tuple[str, ...], lines: Mapping[tuple[str, ...], int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _load_yaml(text: str, path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if node is None:
        return {}, {}
    lines: dict[tuple[str, ...], int] = {}
    data = _construct(node, (), lines)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    return data, lines


def _construct(node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in result:
                raise ConfigError(
                    f"{'.'.join((*path, key))}: duplicate key (line {key_node.start_mark.line + 1})"
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, str(i)), lines) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if not keys:
            continue
        target = data
        for key in keys[:-1]:
            existing = target.get(key)
            if not isinstance(existing, dict):
                existing = {}
                target[key] = existing
            target = existing
        target[keys[-1]] = yaml.safe_load(raw) if raw.strip() else raw


def _label_secrets(settings: Settings) -> None:
    """Tell each secret where it came from, so errors about it name the key, and how long an
    ``ssm:`` value lasts (``secrets.ssm_ttl``)."""
    ttl = settings.secrets.ssm_ttl_seconds
    for where, secret in iter_secrets(settings):
        secret.where = where
        secret.ttl = ttl


def inline_secrets(settings: Settings) -> list[str]:
    """Keys whose secret is written into the file itself (a warning, not an error)."""
    found = []
    for key, secret in iter_secrets(settings):
        if secret.inline:
            found.append(key)
    return found


def iter_secrets(settings: Settings) -> list[tuple[str, SecretRef]]:
    """Every secret reference in the tree, with its key path (``jira.webhook_secrets[0]``)."""
    return list(_walk(settings, ""))


def _walk(value: object, path: str) -> Iterator[tuple[str, SecretRef]]:
    if isinstance(value, SecretRef):
        yield path, value
    elif isinstance(value, ProxyUrl):
        if value.secret is not None:  # a proxy URL with credentials, kept out of the file
            yield path, value.secret
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
