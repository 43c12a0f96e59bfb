"""Finding conversations by their text: one rule for every store.

Two searches. Session search (the gateway's) looks for a substring of a session's name,
case-insensitive by Unicode case folding ("STRASSE" finds "Straße") and accent-sensitive ("lisboa"
does not find "Lisbôa"): stores compare folded text with folded text, exactly. Message search looks
for words in what users wrote and agents answered (a task's message and its bubbles' visible text,
never JSON keys or markup): a word is a run of letters, digits and underscores of the folded text,
cut here, so each database's full-text index is handed words already cut (separated by spaces) and
tokenizes them alike. A task matches when it holds every word of the query; each store ranks by its
own index (docs/search.md says how they differ); what a hit shows is cut here, the same for all.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

_WORD = re.compile(r"\w+")
MAX_TERMS = 16
SNIPPET_CONTEXT = 60


def fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def needle(query: str) -> str:
    """What a session search looks for: folded, as the stored name is."""
    return query.strip().casefold()


def found_in(looked_for: str, folded: str | None) -> bool:
    return folded is not None and looked_for in folded


def bubble_text(bubble: Any) -> str:
    """The text a UI shows of one bubble (a string bubble is its own text)."""
    if not isinstance(bubble, dict):
        return bubble if isinstance(bubble, str) else ""
    text = bubble.get("text", bubble.get("message", ""))
    return text if isinstance(text, str) else ""


def indexed(texts: Iterable[str | None]) -> str:
    """The words of `texts` as a full-text index is given them: folded, separated by spaces."""
    return " ".join(word for text in texts for word in words(text))


def words(text: str | None) -> list[str]:
    """The folded words of `text`, in order."""
    return _WORD.findall(fold(text) or "")


def snippet(texts: list[str], terms: list[str]) -> str:
    """Where the first term shows in the first text holding one, with some words around it: HTML
    escaped, each match between <mark> and </mark>. The start of the first text when no term is found
    as written (a folded match such as ß for ss)."""
    pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    for text in texts:
        first = pattern.search(text)
        if first is None:
            continue
        start = max(0, first.start() - SNIPPET_CONTEXT)
        end = min(len(text), first.end() + SNIPPET_CONTEXT * 2)
        window, marked, at = text[start:end], [], 0
        for match in pattern.finditer(window):
            marked += [html.escape(window[at : match.start()]), "<mark>", html.escape(match.group()), "</mark>"]
            at = match.end()
        marked.append(html.escape(window[at:]))
        return ("…" if start else "") + "".join(marked) + ("…" if end < len(text) else "")
    text = next((t for t in texts if t), "")
    return html.escape(text[: SNIPPET_CONTEXT * 3]) + ("…" if len(text) > SNIPPET_CONTEXT * 3 else "")
