"""Documents held in strings of synthesized Terraform JSON: JSON text and ``${jsonencode(...)}`` expressions.

cdktf writes a document built from Python values as JSON text (Helm values, most
policies) and one that holds a reference as a Terraform expression
(``Fn.jsonencode``): ``${jsonencode({"auth_token" = random_password.x.result, ...})}``.
The review opens both, so that a policy statement, a Helm value or a key inside a
secret is compared, and masked, on its own.

The expression parser reads the subset cdktf writes: objects (``"key" = value``),
tuples, quoted strings (with ``${...}`` interpolations kept as they are), numbers,
``true``/``false``/``null``; any other expression (a reference, a function call)
is kept as its text wrapped in ``${...}``, as cdktf shows an unresolved value.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["open_document"]

_JSONENCODE = re.compile(r"^\$\{jsonencode\((.*)\)\}$", re.S)
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


class _Unparsable(ValueError):
    pass


def open_document(value: Any) -> dict | list | None:
    """The object or list a string holds as JSON or as a ``${jsonencode(...)}`` expression, else None."""
    if not isinstance(value, str) or not value:
        return None
    if value[0] in "{[":
        try:
            inner = json.loads(value)
        except ValueError:
            return None
        return inner if isinstance(inner, dict | list) else None
    match = _JSONENCODE.match(value)
    if not match:
        return None
    try:
        parser = _Parser(match.group(1))
        result = parser.value()
        parser.end()
    except _Unparsable:
        return None
    return result if isinstance(result, dict | list) else None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def _space(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t\r\n":
            self.at += 1

    def _peek(self) -> str:
        self._space()
        return self.text[self.at] if self.at < len(self.text) else ""

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise _Unparsable(f"expected {char!r} at {self.at}")
        self.at += 1

    def end(self) -> None:
        if self._peek():
            raise _Unparsable(f"trailing text at {self.at}")

    def value(self) -> Any:
        char = self._peek()
        if char == "{":
            return self._object()
        if char == "[":
            return self._tuple()
        if char == '"':
            return self._string()
        number = _NUMBER.match(self.text, self.at)
        if number and not re.match(r"[\w.]", self.text[number.end():number.end() + 1]):
            self.at = number.end()
            text = number.group(0)
            return float(text) if "." in text or "e" in text.lower() else int(text)
        for word, literal in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.at) and not re.match(r"[\w.]", self.text[self.at + len(word):][:1]):
                self.at += len(word)
                return literal
        return self._expression()

    def _object(self) -> dict:
        self._expect("{")
        result: dict[str, Any] = {}
        while self._peek() != "}":
            if not self._peek():
                raise _Unparsable("unterminated object")
            key = self._string() if self._peek() == '"' else self._identifier()
            if self._peek() not in ("=", ":"):
                raise _Unparsable(f"expected '=' at {self.at}")
            self.at += 1
            result[key] = self.value()
            if self._peek() == ",":
                self.at += 1
        self.at += 1
        return result

    def _tuple(self) -> list:
        self._expect("[")
        result = []
        while self._peek() != "]":
            if not self._peek():
                raise _Unparsable("unterminated tuple")
            result.append(self.value())
            if self._peek() == ",":
                self.at += 1
        self.at += 1
        return result

    def _identifier(self) -> str:
        match = re.compile(r"[A-Za-z_][\w-]*").match(self.text, self.at)
        if not match:
            raise _Unparsable(f"expected a key at {self.at}")
        self.at = match.end()
        return match.group(0)

    def _string(self) -> str:
        self._expect('"')
        out = []
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "\\":
                escaped = self.text[self.at + 1:self.at + 2]
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(escaped, escaped))
                self.at += 2
            elif char == '"':
                self.at += 1
                return "".join(out)
            elif self.text.startswith("${", self.at):
                start = self.at
                self.at = self._balanced(self.at + 1)
                out.append(self.text[start:self.at])
            else:
                out.append(char)
                self.at += 1
        raise _Unparsable("unterminated string")

    def _balanced(self, at: int) -> int:
        """The position after the bracket that closes the one at ``at``, skipping quoted strings."""
        stack = [_CLOSERS[self.text[at]]]
        at += 1
        while at < len(self.text) and stack:
            char = self.text[at]
            if char == '"':
                at += 1
                while at < len(self.text) and self.text[at] != '"':
                    at += 2 if self.text[at] == "\\" else 1
            elif char in _CLOSERS:
                stack.append(_CLOSERS[char])
            elif char == stack[-1]:
                stack.pop()
            at += 1
        if stack:
            raise _Unparsable("unbalanced brackets")
        return at

    def _expression(self) -> str:
        """A reference or function call up to the next ``,``, ``}`` or ``]`` at its own depth."""
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in ",}]\n":
            if self.text[self.at] in _CLOSERS:
                self.at = self._balanced(self.at)
            elif self.text[self.at] == '"':
                self._string()
            else:
                self.at += 1
        expression = self.text[start:self.at].strip()
        if not expression:
            raise _Unparsable(f"expected a value at {start}")
        return "${" + expression + "}"
