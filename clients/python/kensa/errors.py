"""Errors raised by the Kensa SDK."""
from typing import List, Optional, Union

Detail = Union[None, str, List[str]]


class APIError(Exception):
    """An error the server answered with; ``str(error)`` is ``"<title> (<status>)"`` as the original SDK printed it
    (the detail where the title is empty, as the original answered deleting an unknown model)."""

    def __init__(self, status: int, title: str, detail: Detail = None, pointer: Optional[str] = None) -> None:
        super().__init__(f"{_headline(title, detail)} ({status})")
        self.status = status
        self.title = title
        self.detail = detail
        self.pointer = pointer

    def __str__(self) -> str:
        return f"{_headline(self.title, self.detail)} ({self.status})"

    def __repr__(self) -> str:
        return f"APIError(status={self.status!r}, title={self.title!r}, detail={self.detail!r}, pointer={self.pointer!r})"


def _headline(title: str, detail: Detail) -> str:
    if title:
        return title
    if isinstance(detail, list):
        return "; ".join(detail)
    return detail or ""


class WaitTimeoutError(Exception):
    """Raised by ``wait_for_model`` / ``wait_for_items`` when the time runs out."""


class ModelFailedError(Exception):
    """Raised by ``wait_for_model`` when training failed; ``status_text`` says why."""

    def __init__(self, model_id: Union[int, str], status_text: Optional[str]) -> None:
        super().__init__(f"Model {model_id} failed" + (f": {status_text}" if status_text else ""))
        self.model_id = model_id
        self.status_text = status_text
