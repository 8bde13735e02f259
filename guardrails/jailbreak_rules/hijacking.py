"""Instruction hijacking: throwing away earlier instructions, asking for the prompt."""

from __future__ import annotations

from guardrails.jailbreak_rules.base import HIJACK, Rule
from guardrails.jailbreak_rules.ignore_phrases import ignore_rules

HIJACK_RULES = [
    *ignore_rules(),
    Rule(
        "ignore-prior-input",
        HIJACK,
        0.7,
        ("ignore", "disregard", "forget"),
        r"\b(?:ignore|disregard|forget)\b[^.!?\n]{0,20}?\b(?:previous|prior|above"
        r"|preceding|earlier)\s+(?:inputs?|context|conversation|text|prompts?)\b",
        behind=12,
    ),
    Rule(
        "forget-everything",
        HIJACK,
        0.75,
        ("forget", "disregard", "ignore"),
        r"\b(?:forget|disregard|ignore)\s+(?:about\s+)?(?:everything|all(?: of)? that"
        r"|all of the above)[^.!?\n]{0,40}?\b(?:above|before|earlier|so far"
        r"|previously|been told|read|said)\b",
        behind=12,
    ),
    Rule(
        "ignore-the-above",
        HIJACK,
        0.8,
        ("ignore", "disregard", "forget"),
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:of\s+)?"
        r"(?:the\s+|what(?:'s| is| was)\s+)?(?:above|before|preceding)\b",
        behind=12,
    ),
    Rule(
        "new-instructions",
        HIJACK,
        0.6,
        ("instruction", "task", "directive"),
        r"\b(?:new|updated|revised|real|actual|true|secret|hidden|override)\s+"
        r"(?:instructions?|task|directives?|orders)\s*(?::|follow|are\b|is\b)",
    ),
    Rule(
        "your-real-task",
        HIJACK,
        0.8,
        ("task", "goal", "job", "purpose", "objective", "mission", "instruction"),
        r"\byour\s+(?:real|actual|true|only|new|sole|primary)\s+"
        r"(?:task|goal|job|purpose|objective|mission|instructions?)\s+"
        r"(?:is|are|now is|will be|from now on)\b",
    ),
    Rule(
        "from-now-on-goal",
        HIJACK,
        0.6,
        ("from now on", "from this point", "henceforth"),
        r"\b(?:from now on|from this point(?: on| forward)?|henceforth),?\s+"
        r"(?:your|you will only|you must only)\b",
        behind=12,
    ),
    Rule(
        "system-prompt-reveal",
        HIJACK,
        0.85,
        ("system", "prompt", "instruction"),
        r"\b(?:(?:reveal|show|print|output|repeat|display|tell me|give me|leak"
        r"|share|recite|write out|dump|spell out|paste)\b[^.!?\n]{0,30}?\b(?:your"
        r"|the|its|any)|what(?:'s| is| are| were| was)\s+(?:in\s+)?your)\s+"
        r"(?:\w+\s+){0,2}?"
        r"(?:system\s*prompt|system message|initial (?:prompt|instructions)"
        r"|original (?:prompt|instructions)|hidden (?:prompt|instructions)"
        r"|secret (?:prompt|instructions)|pre-?prompt|instructions above"
        r"|prompt above|developer (?:message|instructions))",
    ),
    Rule(
        "repeat-words-above",
        HIJACK,
        0.7,
        ("above", "beginning"),
        r"\b(?:repeat|print|output|copy)\b[^.!?\n]{0,30}?\b(?:words|text|everything)"
        r"\s+(?:above|before this|at the (?:beginning|start))",
    ),
    Rule(
        "system-prompt-mention",
        HIJACK,
        0.3,
        (
            "system prompt",
            "system message",
            "systemprompt",
            "system-prompt",
            "prompt système",
            "prompt del sistema",
            "prompt di sistema",
            "prompt do sistema",
            "systeemprompt",
            "prompt systemowy",
        ),
        r"\b(?:system ?prompt|system message|system-prompt|prompt système"
        r"|invite système|prompt del sistema|prompt di sistema|prompt do sistema"
        r"|systeemprompt|prompt systemowy)",
        behind=12,
    ),
    Rule(
        "reveal-prompt-multilingual",
        HIJACK,
        0.8,
        ("prompt", "anweisung", "instruc", "istruzion", "instruç", "instrukc"),
        r"\b(?:zeig\w*|gib\w*|nenne|verrate|affiche\w*|montre\w*|révèle\w*"
        r"|donne-moi|muestra\w*|revela\w*|dime|mostra\w*|rivela\w*|dimmi"
        r"|mostre|revele|toon|laat\w* zien|geef|pokaż|ujawnij|podaj|wypisz)\b"
        r"[^.!?\n]{0,30}?\b(?:system-?prompt|systemanweisung\w*|prompt système"
        r"|invite système|instructions (?:initiales|système)|prompt del sistema"
        r"|instrucciones (?:iniciales|del sistema)|prompt di sistema"
        r"|istruzioni (?:iniziali|di sistema)|prompt do sistema"
        r"|instruções (?:iniciais|do sistema)|systeemprompt|systeeminstructies"
        r"|prompt systemowy|instrukcje systemowe|instrukcj\w* systemow\w*)",
    ),
    Rule(
        "new-instructions-multilingual",
        HIJACK,
        0.6,
        ("neue", "nouvelles", "nuevas", "nuove", "novas", "nieuwe", "nowe"),
        r"\b(?:neue anweisung\w*|nouvelles instructions|nuevas instrucciones"
        r"|nuove istruzioni|novas instruções|novas instrucoes|nieuwe instructies"
        r"|nowe instrukcje|nowe polecenia)\s*:",
    ),
    Rule(
        "real-task-multilingual",
        HIJACK,
        0.75,
        ("aufgabe", "tâche", "tarea", "compito", "tarefa", "taak", "zadanie"),
        r"\b(?:deine (?:eigentliche|wahre|wirkliche|neue|einzige) aufgabe ist"
        r"|ta (?:vraie|véritable|nouvelle|seule) tâche est"
        r"|tu (?:verdadera|nueva|única|real) tarea es"
        r"|il tuo (?:vero|nuovo|unico) compito è"
        r"|sua (?:verdadeira|nova|única) tarefa é"
        r"|je (?:echte|eigenlijke|nieuwe|enige) taak is"
        r"|twoje (?:prawdziwe|nowe|jedyne) zadanie to)\b",
    ),
    Rule(
        "nevermind",
        HIJACK,
        0.4,
        ("nevermind", "never mind", "stop everything"),
        r"\b(?:nevermind|never mind|stop everything)\b",
        behind=12,
    ),
    Rule(
        "just-print",
        HIJACK,
        0.3,
        (
            "just say",
            "just print",
            "just output",
            "just write",
            "just reply",
            "just respond",
        ),
        r"\bjust\s+(?:say|print|output|write|reply with|respond with)\b\s*[\"'“:]",
        behind=12,
    ),
    Rule(
        "override-mode",
        HIJACK,
        0.4,
        ("override", "admin", "maintenance", "debug"),
        r"\b(?:system override|admin(?:istrator)? override|(?:maintenance"
        r"|debug(?:ging)?) mode\s+(?:enabled|activated|on)\b)",
    ),
]
