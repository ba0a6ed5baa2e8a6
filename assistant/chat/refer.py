""""Draw what you just described": a draw prompt that points back at the last answer (pure)."""
from __future__ import annotations

import re

_BACK = re.compile(
    r"^(?:(?:a |the )?(?:picture|image|drawing) of )?(?:what|the thing|everything) (?:you(?: have)? (?:just |only just )?"
    r"(?:described|said|told me(?: about)?|talked about|mentioned|explained)|you just said)$|^(?:that|this|it)$|"
    r"^(?:방금|아까|지금)? ?(?:설명한|말한|얘기한|이야기한|묘사한) (?:거|것|걸|내용|그거|장면)$",
    re.IGNORECASE)


def refers_to_last_answer(prompt: str) -> bool:
    text = " ".join(re.sub(r"[^\w\s']", " ", prompt or "").split())
    return bool(_BACK.match(text))
