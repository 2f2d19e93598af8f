"""Path mapping on the host that renders (CONTRACT section 6): a scene submitted from a Windows workstation as
``Z:/projects/...`` renders on a Linux host as ``/mnt/projects/...``, and the other way round.

    pm = PathMap.parse(["Z:/projects=/mnt/projects"])     # --map FROM=TO (repeatable), config key path_map
    pm.apply(["render", "-rd", "z:\\projects\\out", "Z:/projects/a.mb"])
        -> ["render", "-rd", "/mnt/projects/out", "/mnt/projects/a.mb"]

The rules, and why:

- An argument is mapped when it *starts with* a FROM **on whole path components**: ``Z:/projects`` maps
  ``Z:/projects/a.mb`` and ``Z:/projects`` itself, never ``Z:/projectsX/a.mb``. Each argument is looked at on its own:
  a path inside a longer word (``-im=Z:/...``, a MEL string) is left alone, as is anything that is not an absolute
  path (``1:10``, ``-ai:lve``, ``http://...``, ``Z:relative``).
- ``\\`` and ``/`` are the same separator on the way in; a Windows drive letter matches in either case; the other
  components match exactly (a Linux host's files are case-sensitive). UNC paths (``//server/share``) are paths too.
- The longest FROM that matches wins (``Z:/projects/show=...`` before ``Z:/projects=...``).
- The mapped argument uses this host's separator throughout (``os.sep`` by default), and keeps a trailing one.
- The program name (the first word) is never mapped: it names a program of ``--exe``, not a path.
"""
from __future__ import annotations

import os
from typing import Iterable, NamedTuple

from farm_node.errors import ConfigError


class Rule(NamedTuple):
    source: tuple[str, ...]   # FROM's components (a drive letter in upper case)
    target: tuple[str, ...]   # TO's components
    text: str                 # FROM=TO as given


def components(path: str) -> tuple[str, ...] | None:
    """An absolute path's components, ``\\`` and ``/`` alike: ``("Z:", "projects")``, ``("", "mnt")`` (a root),
    ``("", "", "server", "share")`` (UNC); None for anything else. Empty components inside are dropped."""
    p = path.replace("\\", "/")
    if len(p) >= 2 and p[1] == ":" and p[0].isascii() and p[0].isalpha() and (len(p) == 2 or p[2] == "/"):
        head, rest = (p[0].upper() + ":",), p[2:]
    elif p.startswith("//") and not p.startswith("///"):
        head, rest = ("", ""), p[2:]
    elif p.startswith("/"):
        head, rest = ("",), p
    else:
        return None
    return head + tuple(part for part in rest.split("/") if part)


def _starts(parts: tuple[str, ...], source: tuple[str, ...]) -> bool:
    # The root "/" starts every POSIX path, not a UNC one ("//server/share"), whose first two parts are empty.
    return parts[:len(source)] == source and not (source == ("",) and parts[1:2] == ("",))


def _joined(parts: tuple[str, ...], sep: str) -> str:
    if parts == ("",):
        return sep
    text = sep.join(parts)
    return text + sep if len(parts) == 1 and parts[0].endswith(":") else text


class PathMap:
    """A host's rules; ``apply`` maps a frame's arguments. No rules: the arguments run as submitted."""

    def __init__(self, rules: Iterable[Rule] = (), sep: str = os.sep) -> None:
        # Longest source first: the most precise rule wins.
        self.rules = sorted(rules, key=lambda r: -len(r.source))
        self.sep = sep

    @classmethod
    def parse(cls, flags: Iterable[str], sep: str = os.sep) -> "PathMap":
        """``FROM=TO`` pairs, both absolute paths (``--map``, the config key ``path_map``)."""
        rules = []
        for flag in flags:
            source, eq, target = flag.partition("=")
            src, dst = components(source.strip()), components(target.strip())
            if not eq or src is None or dst is None:
                raise ConfigError("--map takes FROM=TO, both absolute paths (for example Z:/projects=/mnt/projects"
                                  " or //server/projects=/mnt/projects), not %r" % flag)
            rules.append(Rule(src, dst, flag.strip()))
        return cls(rules, sep)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def map_path(self, word: str) -> str:
        """``word`` mapped by the first rule whose FROM starts it on whole components, else ``word`` itself."""
        parts = components(word)
        if parts is None:
            return word
        for rule in self.rules:
            if _starts(parts, rule.source):
                mapped = _joined(rule.target + parts[len(rule.source):], self.sep)
                if word[-1:] in ("/", "\\") and not mapped.endswith(self.sep):
                    mapped += self.sep
                return mapped
        return word

    def apply(self, argv: list[str]) -> list[str]:
        """The arguments as this host runs them (the program name stays as it is)."""
        if not self.rules or not argv:
            return list(argv)
        return argv[:1] + [self.map_path(word) for word in argv[1:]]
