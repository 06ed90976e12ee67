"""Policy test cases: the schema of ``policies/tests/*.yaml`` and its reader.

Operators keep test cases beside their policies (``policies/tests/*.yaml``). Each case is a
request, an optional scripted upstream reply, and expectations on what the upstream received and
what the user received. ``bedside policy test`` (:mod:`proxy.cli.policy_cases`) runs them through
the real app, offline; this module only describes and reads them.

A case file::

    cases:
      - name: the persona is prepended and other tools are removed
        request: {model: support-agent, messages: [{role: user, content: "Where is order 123?"}]}
        upstream: {reply: "It ships today."}        # optional; default "OK."
        modes: [json, stream]                        # optional; default both
        apis: [chat, responses]                      # optional; default both (the request is rewritten for /v1/responses)
        expect:
          status: 200
          upstream:                                  # what reached the model
            model: gpt-4o-mini
            system_contains: ["You are Ava"]
            system_not_contains: []
            tools: [lookup_order]                    # exactly these tool names (or absent: [])
            params: {max_tokens: 800, temperature: 0.3}
          response:                                  # what the user got
            finish_reason: stop
            contains: ["ships today"]
            not_contains: []
            error_code: null
          headers: {x-bedside-policy: customer-service}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proxy.policy.yaml_errors import describe_yaml_error

__all__ = ["Case", "CaseFile", "Expect", "ResponseExpect", "UpstreamExpect", "UpstreamScript", "load_case_files"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UpstreamScript(_Strict):
    reply: str = "OK."
    finish_reason: str = "stop"
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)


class UpstreamExpect(_Strict):
    called: bool | None = None
    model: str | None = None
    system_contains: list[str] = Field(default_factory=list)
    system_not_contains: list[str] = Field(default_factory=list)
    tools: list[str] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    absent: list[str] = Field(default_factory=list)


class ResponseExpect(_Strict):
    finish_reason: str | None = None
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    error_code: str | None = None


class Expect(_Strict):
    status: int = 200
    upstream: UpstreamExpect = Field(default_factory=UpstreamExpect)
    response: ResponseExpect = Field(default_factory=ResponseExpect)
    headers: dict[str, str] = Field(default_factory=dict)


class Case(_Strict):
    name: str
    request: dict[str, Any]
    headers: dict[str, str] = Field(default_factory=dict)
    upstream: UpstreamScript = Field(default_factory=UpstreamScript)
    modes: list[Literal["json", "stream"]] = Field(default_factory=lambda: ["json", "stream"])  # type: ignore[arg-type]  # mypy infers list[str] for the lambda
    #: the APIs the case runs on: chat completions as written, and the Responses API (the request
    #: rewritten as the Responses request that means the same)
    apis: list[Literal["chat", "responses"]] = Field(default_factory=lambda: ["chat", "responses"])  # type: ignore[arg-type]  # as above
    expect: Expect = Field(default_factory=Expect)


class CaseFile(_Strict):
    cases: list[Case]


def load_case_files(directory: Path) -> tuple[list[tuple[Path, CaseFile]], list[str]]:
    """Every ``tests/*.yaml`` under the policy directory; problems as readable lines."""
    files: list[tuple[Path, CaseFile]] = []
    problems: list[str] = []
    for path in sorted((directory / "tests").glob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
            files.append((path, CaseFile.model_validate(data)))
        except yaml.YAMLError as exc:
            found = describe_yaml_error(text, exc)
            where = ":".join(str(x) for x in (path, found.line, found.column) if x is not None)
            problems.append(f"{where}: {found.message}" + (f" ({found.hint})" if found.hint else ""))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                problems.append(f"{path}: {loc}: {err['msg']}")
    return files, problems
