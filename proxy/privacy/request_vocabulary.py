"""What the request walk knows about the OpenAI request shapes: fields, closed vocabularies, limits.

The shapes are chat completions' and, for a Responses request mapped onto them at the edge
(``proxy.responses.request``), the Responses API's own names: its top-level fields, the ``item`` and
``part`` fields kept beside messages and content parts, the kept ``input_items``, and the closed
vocabularies of its item types, statuses and ``include`` values.

Knowing a field here never means skipping its value: the walk (``proxy.privacy.request_walk``)
still reads every value. These sets only say which *names* are the API's own (so they are not
analysed as if a client made them up), which values belong to a closed vocabulary (``role``,
``type``, ``detail`` ...: skipped only when the value is one of theirs), and which parameters are
numeric or Bedside's own.
"""

from __future__ import annotations

__all__ = [
    "BINARY_KEYS", "ENUMS", "KNOWN_MESSAGE", "KNOWN_PART", "KNOWN_TOP", "MAX_JSON_DEPTH", "MIN_NUMBER_DIGITS",
    "SKIP_TOP", "STRUCTURAL_KEYS",
]  # fmt: skip

#: Numbers shorter than this hold no structured PII (a card, phone, IBAN or SSN has more digits).
MIN_NUMBER_DIGITS = 6
#: JSON held in a string (tool arguments, tool results) nested deeper than this is read as text
#: (the API refuses bodies nested deeper, see proxy/api/body.py)
MAX_JSON_DEPTH = 64

SKIP_TOP = frozenset(
    """model messages user safety_identifier stream n temperature top_p max_tokens max_completion_tokens
    presence_penalty frequency_penalty seed top_logprobs logprobs parallel_tool_calls store
    stream_options dimensions encoding_format""".split()
)
ENUMS: dict[str, frozenset[str]] = {
    "role": frozenset({"system", "developer", "user", "assistant", "tool", "function"}),
    "type": frozenset(
        """text image_url input_audio file refusal input_text output_text function json_schema json_object
        content object string number integer boolean array null custom grammar
        message function_call function_call_output reasoning item_reference summary_text reasoning_text input_image input_file
        url_citation file_citation container_file_citation file_path allowed_tools web_search web_search_preview file_search
        code_interpreter image_generation mcp local_shell computer_use_preview""".split()
    ),
    "detail": frozenset({"auto", "low", "high"}),
    "format": frozenset({"wav", "mp3", "flac", "opus", "pcm16", "aac"}),
    "tool_choice": frozenset({"none", "auto", "required"}),
    "function_call": frozenset({"none", "auto"}),
    "reasoning_effort": frozenset({"minimal", "low", "medium", "high", "none"}),
    "service_tier": frozenset({"auto", "default", "flex", "scale", "priority"}),
    "verbosity": frozenset({"low", "medium", "high"}),
    "voice": frozenset({"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}),
    "modalities": frozenset({"text", "audio"}),
    # the Responses API's vocabularies (item and part types, statuses, options)
    "status": frozenset({"in_progress", "completed", "incomplete", "searching", "failed", "interpreting", "generating"}),
    "truncation": frozenset({"auto", "disabled"}),
    "summary": frozenset({"auto", "concise", "detailed"}),
    "effort": frozenset({"minimal", "low", "medium", "high", "none"}),
    "prompt_cache_retention": frozenset({"in-memory", "in_memory", "24h"}),
    "search_context_size": frozenset({"low", "medium", "high"}),
    "mode": frozenset({"auto", "required"}),
    "include": frozenset(
        """web_search_call.action.sources web_search_call.results code_interpreter_call.outputs computer_call_output.output.image_url
        file_search_call.results message.input_image.image_url message.output_text.logprobs reasoning.encrypted_content""".split()
    ),
}
BINARY_KEYS = frozenset({"file_data"})
#: Field names of the API's own (their values are still walked; only the names are not analysed).
KNOWN_TOP = frozenset(
    """tools functions tool_choice function_call response_format logit_bias metadata stop prediction
    modalities audio reasoning_effort service_tier verbosity web_search_options input
    input_items text reasoning include truncation background max_tool_calls prompt prompt_cache_key prompt_cache_retention""".split()
)
KNOWN_MESSAGE = frozenset("content name tool_calls function_call tool_call_id refusal audio item".split())
KNOWN_PART = frozenset("type text image_url input_audio file refusal cache_control part".split())
#: Keys of JSON Schema and of the API's nested objects: structure, never personal data.
STRUCTURAL_KEYS = frozenset(
    """type properties description items required enum title default format content text name
    additionalProperties anyOf oneOf allOf not $ref $defs definitions minimum maximum minLength
    maxLength minItems maxItems pattern const examples strict schema nullable url detail
    id status call_id role summary encrypted_content annotations logprobs arguments output file_id filename file_url""".split()
)
