"""Finding a conversation by its text: one rule for every store.

Case-insensitive by Unicode case folding ("STRASSE" finds "Straße"), accent-sensitive ("lisboa" does
not find "Lisbôa"), over the text a user sees (a session's name, a task's message, its bubbles'
text), never over JSON keys or markup, and within one field: a needle never spans two. Stores
compare folded text with folded text, exactly, so each database needs only a plain substring test.
"""

from __future__ import annotations

import json
from typing import Any

# Between the folded fields of one column; taken out of the text itself, so no needle spans two.
SEPARATOR = "\x1f"


def fold(text: str | None) -> str | None:
    return None if text is None else text.replace(SEPARATOR, " ").casefold()


def needle(query: str) -> str:
    """What a query looks for: folded, as the stored text is."""
    return query.strip().replace(SEPARATOR, " ").casefold()


def bubble_text(bubble: Any) -> str:
    """The text a UI shows of one bubble (a string bubble is its own text)."""
    if not isinstance(bubble, dict):
        return bubble if isinstance(bubble, str) else ""
    text = bubble.get("text", bubble.get("message", ""))
    return text if isinstance(text, str) else ""


def fold_bubbles(message_bubbles: str) -> str:
    """Each bubble's visible text folded, between separators."""
    try:
        bubbles = json.loads(message_bubbles)
    except ValueError:
        bubbles = []
    texts = [bubble_text(b) for b in bubbles] if isinstance(bubbles, list) else []
    return SEPARATOR + SEPARATOR.join(fold(text) or "" for text in texts) + SEPARATOR


def found_in(looked_for: str, *folded: str | None) -> bool:
    return any(field is not None and looked_for in field for field in folded)
