"""Delimiter injection: fake role tags, chat-template tokens, end markers."""

from __future__ import annotations

from guardrails.jailbreak_rules.base import DELIMITER, Rule

DELIMITER_RULES = [
    Rule(
        "chat-template-token",
        DELIMITER,
        0.9,
        ("<|",),
        r"<\|[a-z_]{2,24}(?:\|>|>)",
        behind=12,
    ),
    Rule("inst-tag", DELIMITER, 0.8, ("inst]",), r"\[/?inst\]"),
    Rule("sys-tag", DELIMITER, 0.85, ("<<sys>>", "<</sys>>"), r"<</?sys>>"),
    Rule(
        "markdown-role-header",
        DELIMITER,
        0.7,
        ("#",),
        r"^[ \t]*#{1,4}[ \t]*(?:system|assistant|human)[ \t]*(?:prompt|message)?"
        r"[ \t]*:?[ \t]*$|^[ \t]*#{1,4}[ \t]*(?:system|assistant|instructions?"
        r"|human|user|response|new instructions)[ \t]*:",
    ),
    Rule(
        "xml-role-tag",
        DELIMITER,
        0.7,
        ("</", "<system", "<assistant", "<sys", "<instruction", "<admin"),
        r"</?(?:system|user|assistant|human|instructions?|sys|tool_result"
        r"|function_results|im_start|im_end)\s*>",
        behind=12,
    ),
    Rule(
        "role-line",
        DELIMITER,
        0.3,
        ("system", "assistant", "human", "user:", "user :", "ai:"),
        r"^[ \t]*(?:system|assistant|human|user|ai)[ \t]*:",
    ),
    Rule(
        "bracket-role",
        DELIMITER,
        0.75,
        ("[system", "(#", "[assistant", "[admin"),
        r"\[(?:system|assistant|admin|developer)\]\s*\(#\w+\)"
        r"|\[(?:system|admin|developer)(?: message| note| override| prompt)?\s*:"
        r"|\[system (?:message|note|override|prompt)\]",
    ),
    Rule(
        "end-of-input-marker",
        DELIMITER,
        0.75,
        ("END", "End of"),
        r"\bEND OF (?:THE )?(?:USER |SYSTEM )?(?:INPUT|PROMPT|TEXT|DOCUMENT"
        r"|CONTEXT|CONVERSATION|INSTRUCTIONS|MESSAGE|DATA)\b"
        r"|(?:\[|<|\(|={2,}|-{2,})\s*(?:END|End|end)(?: of (?:input|prompt|text"
        r"|document|context|user input))?\s*(?:\]|>|\)|={2,}|-{2,})",
        cased=True,
    ),
    Rule(
        "begin-system-marker",
        DELIMITER,
        0.7,
        ("BEGIN", "SYSTEM"),
        r"\b(?:BEGIN|START) (?:OF )?(?:SYSTEM|NEW|ADMIN)\s+(?:PROMPT|INSTRUCTIONS?"
        r"|MESSAGE|INPUT)\b|\bSYSTEM (?:PROMPT|MESSAGE|OVERRIDE|NOTICE|NOTE):",
        cased=True,
    ),
    Rule(
        "end-of-input-phrase",
        DELIMITER,
        0.4,
        ("end of",),
        r"\bend of (?:the )?(?:user |system )?(?:input|prompt|instructions?"
        r"|user message|system message)\b",
    ),
    Rule(
        "message-termination",
        DELIMITER,
        0.6,
        ("termination", "begins", "starts"),
        r"\b(?:user|human) (?:message|input) (?:termination|ends|ended)\b"
        r"|\bsystem\s+(?:instructions?|message|prompt)\s+(?:begins?|starts?)\b",
    ),
    Rule(
        "user-left",
        DELIMITER,
        0.6,
        ("has left", "left the", "ended the", "has ended", "disconnected"),
        r"\b(?:user|human|the user)\s+(?:has\s+)?(?:left|ended|disconnected from)"
        r"\s+(?:the\s+)?(?:chat|conversation|session)\b",
    ),
    Rule(
        "system-announcement",
        DELIMITER,
        0.4,
        ("system", "$system"),
        r"\$system\b|\bsystem\s*annou-?ncement\s*(?:begins)?\s*[:<]",
    ),
]
