"""One walk over a whole request: every string, number and key, with what may be done to it.

The PII stage must never forward personal data because it sat in a field nobody thought of. So it
does not list the fields that matter; it walks **everything** the client sent and gives each value
one of these kinds:

``text``    analysed; redacted in place (message contents of every shape and role, content parts of
            any type, tool results, tool and schema descriptions, ``metadata``, ``stop``,
            ``prediction``, unknown fields, the keys of objects the client made up, ...).
``name``    a message's ``name``: a participant, so always a person's name, whatever it looks like
            (``alice_smith``): replaced by its ``PERSON`` placeholder without brackets
            (``PERSON_1``), which keeps it valid under the API's ``[A-Za-z0-9_-]`` rule.
``number``  a number with six or more digits outside the parameters Bedside knows to be numeric:
            its digits are analysed (with the key it sits under as context); PII becomes the
            placeholder string.
``ident``   a name the upstream must receive verbatim (function and schema names): analysed, and
            the request is refused when it holds structured personal data (an e-mail, phone,
            card, IBAN, SSN or IP address, or a run of seven digits; names of people are not
            looked for there: NER reads ``lookup order`` as one).
``binary``  what cannot be analysed: ``data:`` URLs (images), audio and file data, token arrays.
            The policy refuses them (default) or drops them.

Strings that hold JSON (tool-call arguments, tool results) are parsed and walked as JSON, so their
keys and leaves are analysed one by one and the document stays valid JSON. Values Bedside itself
checks or replaces are skipped: ``model``, ``role``, the closed vocabularies (``type``, ``detail``,
``tool_choice``, ...) when the value is one of theirs, the numeric and boolean parameters, ``user``
and ``safety_identifier`` (the identity stage replaces them with keyed HMACs), and Bedside's own
``[bedside:`` guidance messages.

Order matters: the messages come first, in order, then every other field, so placeholders numbered
in order of first appearance stay stable while a conversation's history grows.
"""

from __future__ import annotations

import json
from typing import Any

from proxy.marks import BEDSIDE_MARK
from proxy.privacy.request_vocabulary import (
    BINARY_KEYS,
    ENUMS,
    KNOWN_MESSAGE,
    KNOWN_PART,
    KNOWN_TOP,
    MAX_JSON_DEPTH,
    MIN_NUMBER_DIGITS,
    SKIP_TOP,
    STRUCTURAL_KEYS,
)
from proxy.privacy.slots import JsonDoc, Slot

__all__ = ["JsonDoc", "Slot", "walk_request"]


def walk_request(body: dict[str, Any], endpoint: str) -> list[Slot]:
    """Every value of ``body`` to analyse or refuse, messages first (see the module docstring)."""
    out: list[Slot] = []
    if endpoint == "chat":
        messages = body.get("messages")
        if isinstance(messages, list):
            # paths count the client's own messages: Bedside's guidance messages are not theirs
            client = [m for m in messages if not _is_bedside(m)]
            for i, message in enumerate(client):
                start = len(out)
                _message(message, f"messages[{i}]", out)
                role = message.get("role") if isinstance(message, dict) else None
                for slot in out[start:]:
                    slot.role = role if isinstance(role, str) else None
    for key, value in body.items():
        if endpoint == "chat" and key == "messages":
            continue
        path = str(key)
        if key in SKIP_TOP:
            continue
        if key not in KNOWN_TOP:
            out.append(Slot("text", f"{path} (field name)", body, key, key, is_key=True))
        if endpoint == "embeddings" and key == "input":
            _embedding_input(body, value, out)
        elif key in ("tools", "functions"):
            _tools(value, path, out)
        elif key in ("tool_choice", "function_call") and isinstance(value, dict):
            _named(value, path, out)
        elif key == "response_format" and isinstance(value, dict):
            _response_format(value, path, out)
        elif key == "logit_bias" and _is_logit_bias(value):
            continue
        else:
            _value(body, key, value, path, out)
    return out


def _is_bedside(message: Any) -> bool:
    """Bedside's own guidance (clients may not send the mark: the API refuses it)."""
    if not isinstance(message, dict) or message.get("role") not in ("system", "developer"):
        return False
    content = message.get("content")
    return isinstance(content, str) and content.startswith(BEDSIDE_MARK)


def _message(message: Any, path: str, out: list[Slot]) -> None:
    if not isinstance(message, dict):
        return
    tool = message.get("role") in ("tool", "function")
    for key, value in message.items():
        sub = f"{path}.{key}"
        if key == "role":
            continue
        if key == "content":
            _content(message, value, sub, out, tool=tool)
        elif key == "name" and isinstance(value, str):
            # a participant's name is a person's name whatever it looks like; a legacy `function`
            # message names its function, which the model needs verbatim
            out.append(Slot("ident" if message.get("role") == "function" else "name", sub, message, key, value))
        elif key == "tool_calls" and isinstance(value, list):
            for j, call in enumerate(value):
                if isinstance(call, dict):
                    _call(call, f"{sub}[{j}]", out)
        elif key == "function_call" and isinstance(value, dict):
            _call({"function": value}, sub, out, inner=value)
        else:
            if key not in KNOWN_MESSAGE:
                out.append(Slot("text", f"{sub} (field name)", message, key, key, is_key=True))
            _value(message, key, value, sub, out)


def _content(holder: dict[str, Any], value: Any, path: str, out: list[Slot], *, tool: bool) -> None:
    if isinstance(value, str):
        _json_or_text(holder, "content", value, path, out, tool=tool)
    elif isinstance(value, list):
        for j, part in enumerate(value):
            sub = f"{path}[{j}]"
            if isinstance(part, str):
                _json_or_text(value, j, part, sub, out, tool=tool)
            elif isinstance(part, dict):
                _part(value, j, part, sub, out, tool=tool)
            else:
                _value(value, j, part, sub, out)
    else:
        _value(holder, "content", value, path, out)


def _part(parts: list[Any], index: int, part: dict[str, Any], path: str, out: list[Slot], *, tool: bool) -> None:
    """One content part of any type: known binary payloads are ``binary`` (dropping removes the
    part), text is text, everything else is walked like any value."""
    for key, value in part.items():
        sub = f"{path}.{key}"
        if key == "text" and isinstance(value, str):
            _json_or_text(part, key, value, sub, out, tool=tool)
        elif key == "input_audio" and isinstance(value, dict):
            for k, v in value.items():
                if k == "data":
                    out.append(Slot("binary", f"{sub}.data", value, k, "", drop=(parts, index)))
                else:
                    _value(value, k, v, f"{sub}.{k}", out)
        elif key in ("image_url", "file") and isinstance(value, dict):
            for k, v in value.items():
                if (k in BINARY_KEYS or k == "url") and isinstance(v, str) and (k in BINARY_KEYS or _is_data_url(v)):
                    out.append(Slot("binary", f"{sub}.{k}", value, k, "", drop=(parts, index)))
                else:
                    _value(value, k, v, f"{sub}.{k}", out)
        else:
            if key not in KNOWN_PART:
                out.append(Slot("text", f"{sub} (field name)", part, key, key, is_key=True))
            _value(part, key, value, sub, out)


def _call(call: dict[str, Any], path: str, out: list[Slot], inner: dict[str, Any] | None = None) -> None:
    """A tool call (or legacy ``function_call``): the function's name is an ``ident``; its arguments,
    a JSON string or (from lax clients) an object, are analysed leaf by leaf."""
    fn = inner if inner is not None else call.get("function")
    for key, value in call.items():
        if key != "function":
            _value(call, key, value, f"{path}.{key}", out)
    if not isinstance(fn, dict):
        if fn is not None:
            _value(call, "function", fn, f"{path}.function", out)
        return
    fpath = path if inner is not None else f"{path}.function"
    for key, value in fn.items():
        sub = f"{fpath}.{key}"
        if key == "name" and isinstance(value, str):
            out.append(Slot("ident", sub, fn, key, value))
        elif key == "arguments" and isinstance(value, str):
            _json_or_text(fn, key, value, sub, out, tool=True)
        else:
            _value(fn, key, value, sub, out)


def _tools(value: Any, path: str, out: list[Slot]) -> None:
    if not isinstance(value, list):
        _value(None, None, value, path, out)
        return
    for i, tool in enumerate(value):
        sub = f"{path}[{i}]"
        if not isinstance(tool, dict):
            _value(value, i, tool, sub, out)
            continue
        fn = tool.get("function") if "function" in tool else tool  # legacy `functions` entries are bare
        for key, v in tool.items():
            if key != "function" or not isinstance(v, dict):
                if fn is tool and key == "name" and isinstance(v, str):
                    out.append(Slot("ident", f"{sub}.name", tool, key, v))
                else:
                    _value(tool, key, v, f"{sub}.{key}", out)
        if fn is not tool and isinstance(fn, dict):
            _named(fn, f"{sub}.function", out, name_at_top=True)


def _named(value: dict[str, Any], path: str, out: list[Slot], *, name_at_top: bool = False) -> None:
    """An object whose ``name`` (or ``function.name``) must reach the upstream verbatim."""
    for key, v in value.items():
        sub = f"{path}.{key}"
        if key == "name" and isinstance(v, str):
            out.append(Slot("ident", sub, value, key, v))
        elif key == "function" and isinstance(v, dict) and not name_at_top:
            _named(v, sub, out)
        else:
            _value(value, key, v, sub, out)


def _response_format(value: dict[str, Any], path: str, out: list[Slot]) -> None:
    for key, v in value.items():
        sub = f"{path}.{key}"
        if key == "json_schema" and isinstance(v, dict):
            _named(v, sub, out, name_at_top=True)
        else:
            _value(value, key, v, sub, out)


def _embedding_input(body: dict[str, Any], value: Any, out: list[Slot]) -> None:
    if isinstance(value, str):
        out.append(Slot("text", "input", body, "input", value))
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        out.extend(Slot("text", f"input[{i}]", value, i, v) for i, v in enumerate(value))
    elif value is not None:
        out.append(Slot("binary", "input (token ids)", body, "input", "", drop=(body, "input")))


def _json_or_text(holder: Any, key: Any, value: str, path: str, out: list[Slot], *, tool: bool) -> None:
    """A string that holds a JSON object or array is walked as JSON; anything else is text."""
    if value.lstrip()[:1] in ("{", "[") and _depth(value) <= MAX_JSON_DEPTH:
        try:
            doc = json.loads(value)
        except ValueError:
            doc = None
        if isinstance(doc, (dict, list)):
            jdoc = JsonDoc(holder, key, doc)
            start = len(out)
            _value(None, None, doc, path, out)
            for slot in out[start:]:
                slot.doc = jdoc
                slot.tool = tool
            return
    out.append(Slot("text", path, holder, key, value, tool=tool))


def _value(holder: Any, key: Any, value: Any, path: str, out: list[Slot]) -> None:
    """Any JSON value, generically: strings are text, long numbers are numbers, object keys are
    text, and values of the closed vocabularies (see ``ENUMS``) are skipped when they belong."""
    if isinstance(value, str):
        if isinstance(key, str) and value in ENUMS.get(key, ()):
            return
        if _is_data_url(value):
            out.append(Slot("binary", path, holder, key, "", drop=(holder, key)))
        elif value.strip() and holder is not None:
            out.append(Slot("text", path, holder, key, value))
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (int, float)):
        digits = _digits(value)
        if digits is not None and holder is not None:
            out.append(Slot("number", path, holder, key, digits, context=key if isinstance(key, str) and len(key) <= 40 else ""))
    elif isinstance(value, dict):
        for k, v in list(value.items()):
            if k not in STRUCTURAL_KEYS:
                out.append(Slot("text", f"{path}.{k} (field name)", value, k, k, is_key=True))
            _value(value, k, v, f"{path}.{k}", out)
    elif isinstance(value, list):
        if isinstance(key, str) and key in ENUMS and all(isinstance(v, str) and v in ENUMS[key] for v in value):
            return
        for i, v in enumerate(value):
            _value(value, i, v, f"{path}[{i}]", out)


def _depth(text: str) -> int:
    """How deeply brackets nest in ``text`` (ignoring brackets inside JSON strings); no recursion."""
    deepest = level = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            deepest = max(deepest, level)
        elif ch in "]}":
            level -= 1
    return deepest


def _digits(value: int | float) -> str | None:
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 1e21:
            return None
        value = int(value)
    text = str(abs(value))
    return text if len(text) >= MIN_NUMBER_DIGITS else None


def _is_data_url(value: str) -> bool:
    return value[:5].lower() == "data:" and "," in value[:256]


def _is_logit_bias(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and k.isdigit() and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in value.items())
