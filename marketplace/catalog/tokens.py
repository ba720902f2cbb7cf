"""The search tokeniser, shared by indexing (products) and querying (the search domain).

Latin words and numbers become lower-case words. Chinese has no spaces, so a run of CJK characters is indexed
as every single character and every pair of neighbours (bigrams): 西湖龙井绿茶 → 西 湖 龙 井 绿 茶 西湖 湖龙 龙井
井绿 绿茶. A query is cut into bigrams the same way (a one-character query stays one character), so any
substring of two or more characters of a title matches, and so does a single character.
"""

from __future__ import annotations

import re

_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[0-9a-z]+(?:[.\-'][0-9a-z]+)*", re.IGNORECASE)


def _is_cjk(run: str) -> bool:
    return "\u3400" <= run[0] <= "\u9fff" or "\uf900" <= run[0] <= "\ufaff"


def document_tokens(*texts: str) -> str:
    """Space-separated tokens of the texts, each once, for the ``search_tokens`` column."""
    tokens: list[str] = []
    for text in texts:
        for run in _RUN.findall((text or "").lower()):
            if _is_cjk(run):
                tokens.extend(run)
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
            else:
                tokens.append(run)
    return " ".join(dict.fromkeys(tokens))


def query_tokens(query: str) -> list[str]:
    """Tokens that must all be present for a product to match ``query``."""
    tokens: list[str] = []
    for run in _RUN.findall((query or "").lower()):
        if _is_cjk(run):
            tokens.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
        else:
            tokens.append(run)
    return list(dict.fromkeys(tokens))
