"""MkDocs hook: links from a page to files of the repository outside docs/ (examples, benchmarks).

On GitHub such a link (``../examples/asyncio/views.py``) works as written. On
the site the file is copied to ``source/<path>`` and the link rewritten to it,
so both work and a link to a file that does not exist still fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s#]+)(#[^)\s]*)?\)")
_wanted: set[str] = set()


def _outside(page_path: str, target: str) -> str | None:
    """The repository path a link points to when that is outside docs/, else None."""
    resolved = (DOCS / page_path).parent.joinpath(target).resolve()
    if DOCS in resolved.parents or resolved == DOCS or ROOT not in resolved.parents:
        return None
    return resolved.relative_to(ROOT).as_posix()


def on_files(files: Files, config: Any) -> Files:
    for page in DOCS.rglob("*.md"):
        text = page.read_text()
        for match in LINK.finditer(text):
            path = _outside(page.relative_to(DOCS).as_posix(), match.group(1))
            if path and (ROOT / path).is_file():
                _wanted.add(path)
    for path in sorted(_wanted):
        files.append(File.generated(config, f"source/{path}", abs_src_path=str(ROOT / path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    def rewrite(match: re.Match[str]) -> str:
        path = _outside(page.file.src_uri, match.group(1))
        if path is None:
            return match.group(0)
        if not (ROOT / path).is_file():  # a folder: link its listing on the site's copy of the files in it
            inside = sorted(p for p in _wanted if p.startswith(path.rstrip("/") + "/"))
            if not inside:
                return match.group(0)
            path = inside[0]
        depth = page.file.src_uri.count("/")
        return f"]({'../' * depth}source/{path}{match.group(2) or ''})"

    return LINK.sub(rewrite, markdown)
