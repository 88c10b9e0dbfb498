"""YAML reading for configs and experiment files: PyYAML's SafeLoader, refusing repeated keys, with one-line
errors that name the file and line."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, refusing a mapping that repeats a key (PyYAML silently keeps the last value)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:  # an unhashable key: let SafeLoader give its own error
                continue
            if first != line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {first}); keep one of them", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, UniqueKeyLoader.construct_mapping)


def yaml_problem(e: yaml.YAMLError) -> str:
    """What PyYAML found wrong, on one line (a ReaderError, e.g. a control character, has no ``problem`` and its
    text spans two lines)."""
    return " ".join(str(getattr(e, "problem", None) or e).split())


def read_yaml(path: str | Path, what: str = "config file") -> Any:
    """A YAML (or JSON) file's content; a missing file or a syntax error is a ConfigError naming the file and line."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: {what} not found; check the path")
    try:
        return yaml.load(p.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: {what} is not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read the {what} ({e.strerror or e})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{p}{line}: not valid YAML ({yaml_problem(e)})") from None
