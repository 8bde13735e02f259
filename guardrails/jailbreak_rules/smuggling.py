"""Context smuggling: instructions to the model hidden in data."""

from __future__ import annotations

from guardrails.jailbreak_rules.base import DATA_SOURCE, SMUGGLE, Rule

_ADDRESSEE = (
    r"(?:the\s+)?(?:ai|a\.i\.|assistant|ai assistant|model|language model|llm"
    r"|chatbot|bot|agent|ai agent|gpt|chatgpt|claude|copilot|gemini)"
)

SMUGGLE_RULES = [
    Rule(
        "note-to-the-ai",
        SMUGGLE,
        0.8,
        (
            "ai",
            "a.i.",
            "assistant",
            "model",
            "llm",
            "chatbot",
            "bot",
            "agent",
            "gpt",
            "claude",
            "copilot",
            "gemini",
        ),
        rf"\b(?:note|message|instructions?|attention|reminder|hint|important|memo"
        rf"|p\.s\.)\s+(?:to|for)\s+{_ADDRESSEE}\b|\bdear\s+{_ADDRESSEE}\b",
    ),
    Rule(
        "if-you-are-an-ai",
        SMUGGLE,
        0.85,
        ("if you are", "if you're", "reading this", "processing this"),
        rf"\b(?:if you are|if you're)\s+(?:an?\s+)?(?:ai|a\.i\.|assistant|language"
        rf" model|llm|chatbot|bot|ai agent|agent|automated)\b"
        rf"|\b{_ADDRESSEE}\s+(?:reading|processing|summari[sz]ing|analy[sz]ing)"
        rf"\s+this\b",
    ),
    Rule(
        "when-summarising",
        SMUGGLE,
        0.6,
        ("summar", "when you read", "when you process"),
        r"\bwhen (?:you|the (?:ai|assistant|model))\s+(?:summari[sz]e|read|process"
        r"|analy[sz]e)\s+this\b",
    ),
    Rule(
        "html-comment-instruction",
        SMUGGLE,
        0.7,
        ("<!--",),
        r"<!--[^>]{0,300}?\b(?:ai|assistant|model|llm|chatgpt|you|your|instructions?"
        r"|ignore|system|prompt)\b",
        behind=12,
    ),
    Rule(
        "markdown-comment",
        SMUGGLE,
        0.6,
        ("]: #", "]: <>", "]:#"),
        r"^\s*\[[^\]\n]{0,40}\]:\s*(?:#|<>)\s*[\"(]",
    ),
    Rule(
        "hidden-text-style",
        SMUGGLE,
        0.35,
        ("display", "font-size", "visibility", "color", "opacity"),
        r"(?:display\s*:\s*none|font-size\s*:\s*0(?:px|pt|em)?\b|visibility\s*:"
        r"\s*hidden|opacity\s*:\s*0(?:\.0+)?\s*[;\"']|color\s*:\s*(?:white|#fff"
        r"(?:fff)?)\b)",
    ),
    Rule(
        "hidden-instruction-mention",
        SMUGGLE,
        0.5,
        ("hidden", "invisible", "secret"),
        r"\b(?:hidden|invisible|secret)\s+(?:instructions?|prompt|command|text"
        r" for (?:the )?(?:ai|assistant|model))\b",
    ),
    Rule(
        "smuggle-multilingual",
        SMUGGLE,
        0.8,
        (
            "hinweis",
            "nachricht",
            "anweisung",
            "note",
            "message",
            "instruction",
            "nota",
            "mensaje",
            "messaggio",
            "mensagem",
            "notitie",
            "bericht",
            "opmerking",
            "notatka",
            "wiadomo",
            "uwaga",
            "instrucc",
            "istruzion",
            "instruç",
            "instrukc",
        ),
        r"\b(?:(?:hinweis|nachricht|anweisung\w*) (?:an|für) (?:die |den )?"
        r"(?:ki|assistent\w*|sprachmodell)"
        r"|(?:note|message|instructions?) (?:à|pour) (?:l'|le |la )?"
        r"(?:ia|assistant\w*|modèle)"
        r"|(?:nota|mensaje|instrucciones?) (?:para|a) (?:la |el )?(?:ia|asistente"
        r"|modelo)"
        r"|(?:nota|messaggio|istruzion\w*) (?:per|a|all') ?(?:l'|il |la )?"
        r"(?:ia|ai|assistente|modello)"
        r"|(?:nota|mensagem|instruç\w*) (?:para|à|ao) (?:a |o )?(?:ia|assistente"
        r"|modelo)"
        r"|(?:notitie|bericht|opmerking|instructie\w*) (?:voor|aan) (?:de |het )?"
        r"(?:ai|assistent|model|taalmodel)"
        r"|(?:notatka|wiadomość|uwaga|instrukcj\w*) (?:dla|do) (?:ai|si|asystent\w*"
        r"|modelu))\b",
        behind=12,
    ),
    Rule(
        "instruction-to-model",
        SMUGGLE,
        0.6,
        ("your", "you"),
        r"\byour\s+(?:\w+\s+)?(?:response|reply|answer|output|summary|code|solution"
        r"|implementation|message|algorithm|codebase|program|script|elucidation)\b"
        r"|\b(?:add|include|integrat\w*|incorporat\w*|append|embed|insert|merge"
        r"|blend)\b[^.!?\n]{0,40}?\bthe (?:following|below|subsequent) (?:code"
        r"|snippet|text|sentence|link|line)",
        sources=DATA_SOURCE,
    ),
    Rule(
        "imperative-in-data",
        SMUGGLE,
        0.55,
        (),
        r"(?:^|[.!?:]\s+|\n\s*)(?:(?:also|and|now|then|finally|additionally|next"
        r"|lastly|oh),?\s+)?(?:please\s+)?(?:provide|show|give|tell|write|list"
        r"|describe|explain|analy[sz]e|recommend|suggest|help|determine|classify"
        r"|translate|render|encode|decode|include|add|modify|integrate|insert"
        r"|append|mention|respond|reply|answer|say|print|output|use|replace|apply"
        r"|ensure|make|send|visit|click|call|execute|run|forward|summari[sz]e"
        r"|generate|create|find|compose|draft|rewrite|express|enhance|incorporate"
        r"|merge|blend|leverage|utili[sz]e|consider|take|keep|remember|don't"
        r"|do not|never|always|ignore|stop|reveal|shift|invert|reverse|convert"
        r"|embed|refine|upgrade|develop|supplement|validate|seamlessly|identify"
        r"|calculate|compare|predict|evaluate|check|assess|outline|share|offer"
        r"|present|format|begin|start|end|finish|introduce|let|is this"
        r"|can you|could you|would you|will you)\b",
        sources=DATA_SOURCE,
    ),
    Rule(
        "question-in-data",
        SMUGGLE,
        0.45,
        ("?",),
        r"(?:^|[.!?:]\s+|\n\s*)(?:how|what|which|where|when|why|who|is|are|does|do"
        r"|should|can|could|would|will)\b[^?\n]{0,200}\?",
        sources=DATA_SOURCE,
    ),
    Rule(
        "first-person-request",
        SMUGGLE,
        0.3,
        ("me", "my", "i "),
        r"\b(?:me|my|i)\b",
        sources=DATA_SOURCE,
    ),
]
