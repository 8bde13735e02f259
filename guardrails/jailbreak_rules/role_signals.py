"""Weaker role-confusion signals that count together, and other languages."""

from __future__ import annotations

from guardrails.jailbreak_rules.base import ROLE, Rule

ROLE_SIGNALS = [
    Rule(
        "alter-ego",
        ROLE,
        0.35,
        ("alter ego", "shadow self", "evil twin", "opposite of"),
        r"\b(?:alter ego|shadow self|evil twin|opposite of (?:chatgpt|you|gpt))\b",
        behind=12,
    ),
    Rule(
        "act-as-unfiltered",
        ROLE,
        0.8,
        (
            "unfiltered",
            "uncensored",
            "evil",
            "unrestricted",
            "jailbroken",
            "amoral",
            "rogue",
            "unethical",
            "unlimited",
            "unbound",
        ),
        r"\b(?:act|acting|behave|respond|answer|reply|play|roleplay|simulate)"
        r"\s+(?:as|like)\s+(?:an?\s+)?(?:\w+\s+)?(?:unfiltered|uncensored|evil"
        r"|unrestricted|jailbroken|amoral|rogue|unethical|unlimited|unbound)\b",
    ),
    Rule(
        "never-refuse",
        ROLE,
        0.4,
        ("refus", "decline", "deny"),
        r"\b(?:never|not|won't|will not|cannot|can't|must not|mustn't|don't|do"
        r" not|doesn't|does not)\s+(?:ever\s+)?(?:refuse|decline|deny)\b",
    ),
    Rule(
        "ignores-policy",
        ROLE,
        0.45,
        ("polic", "guideline", "rules", "ethic", "moral", "law"),
        r"\b(?:doesn't|does not|don't|do not|won't|will not|never|no need to"
        r"|not have to|not need to|dont|doesnt)\s+(?:\w+\s+)?(?:care about|care"
        r" for|give a \w+ about|abide by|follow|adhere to|comply with|obey"
        r"|respect|worry about)\s+(?:any\s+|the\s+)?(?:\w+\s+){0,2}?(?:rules"
        r"|guidelines|polic(?:y|ies)|ethics|ethicality|morals|morality|laws"
        r"|legality|restrictions)",
    ),
    Rule(
        "openai-policy",
        ROLE,
        0.35,
        ("polic", "openai", "filter"),
        r"\b(?:openai|open ai|anthropic|content|usage|safety)(?:'s)?\s+(?:content\s+)?"
        r"(?:polic(?:y|ies)|filters?|guidelines|moderation)",
    ),
    Rule(
        "without-warnings",
        ROLE,
        0.35,
        ("warning", "disclaimer", "censor", "moraliz", "moralis", "apolog"),
        r"\b(?:without|no|never|not include|don't include|do not include|omit)"
        r"\s+(?:any\s+)?(?:\w+\s+)?(?:warnings?|disclaimers?|censorship"
        r"|moralizing|moralising|apologies|caveats)",
    ),
    Rule(
        "stay-in-character",
        ROLE,
        0.35,
        ("character",),
        r"\b(?:stay|stays|staying|remain|break|breaking|breaks)\s+(?:in|out of)?\s*"
        r"character\b",
        behind=24,
    ),
    Rule(
        "dual-response",
        ROLE,
        0.6,
        (
            "two different",
            "two separate",
            "two distinct",
            "two responses",
            "two answers",
            "two ways",
            "two replies",
            "two outputs",
            "two paragraphs",
            "2 different",
            "2 separate",
            "2 responses",
            "2 answers",
            "2 ways",
            "dual",
            "both responses",
            "both answers",
            "both replies",
        ),
        r"\b(?:two|2|dual|both)\s+(?:different\s+|separate\s+|distinct\s+)?"
        r"(?:responses|answers|ways|replies|outputs|paragraphs)\b"
        r"[^\n]{0,200}?\b(?:normal|classic|standard|filtered|unfiltered|jailbr\w*"
        r"|censored|uncensored|dan|opposite|evil|developer mode)\b",
        behind=12,
    ),
    Rule(
        "persona-tags",
        ROLE,
        0.5,
        ("🔓", "🔒", "jailbr", "classic", "[gpt", "gpt]"),
        r"(?:🔓|🔒|\[\s*(?:🔒)?\s*classic\s*\]|\[\s*(?:🔓)?\s*jailbreak\s*\]"
        r"|\[\s*gpt\s*\]\s*:?)",
        behind=12,
    ),
    Rule(
        "from-now-on-you-are",
        ROLE,
        0.3,
        (
            "from now",
            "from this point",
            "for the rest of",
            "henceforth",
            "starting now",
        ),
        r"\b(?:from now on|from this point(?: on| forward)?|for the rest of this"
        r" conversation|henceforth|starting now)\b,?\s+(?:\w+\s+){0,2}?"
        r"(?:you are|you're|you will|you'll|you must|you shall|act|behave)",
        behind=12,
    ),
    Rule(
        "anything-goes",
        ROLE,
        0.4,
        ("anything", "everything", "any request", "any question", "any kind"),
        r"\b(?:can|will|must|able to|allowed to|programmed to|free to)\s+(?:do|say"
        r"|generate|answer|write"
        r"|produce)\s+(?:absolutely\s+)?(?:anything|everything|any request|any"
        r" question|any kind of content)\b",
    ),
    Rule(
        "harm-vocabulary",
        ROLE,
        0.15,
        (
            "illegal",
            "harmful",
            "explicit",
            "offensive",
            "dangerous",
            "nsfw",
            "malware",
            "weapon",
            "unethical",
            "immoral",
        ),
        r"\b(?:illegal|harmful|explicit|offensive|dangerous|nsfw|malware"
        r"|weapons?|unethical|immoral)\b",
        behind=12,
    ),
    Rule(
        "ai-self-reference",
        ROLE,
        0.25,
        ("language model", "chatgpt", "openai", "as an ai", "gpt-"),
        r"\b(?:as an ai(?: language model)?|large language model|chatgpt|openai"
        r"|gpt-?[34])\b",
        behind=12,
    ),
    Rule(
        "persona-setup",
        ROLE,
        0.2,
        (
            "persona",
            "simulate",
            "roleplay",
            "role-play",
            "hypothetical",
            "fictional",
            "opposite day",
            "game",
        ),
        r"\b(?:persona|simulate|role-?play|hypothetical(?:ly)?|fictional|opposite"
        r" day|let's play a game|lets play a game)\b",
        behind=12,
    ),
    Rule(
        "chatbot-name-gpt",
        ROLE,
        0.2,
        ("gpt",),
        r"\b(?!chat)[a-z]+gpt\b",
    ),
    Rule(
        "role-multilingual",
        ROLE,
        0.85,
        (
            "du bist",
            "n'es plus",
            "ya no eres",
            "non sei più",
            "não é mais",
            "não és mais",
            "já não és",
            "je bent",
            "nie jesteś",
        ),
        r"\b(?:du bist (?:jetzt |nun |ab sofort )?(?:keine?|nicht mehr)\s+(?:\w+\s+)?"
        r"(?:ki|assistent\w*|sprachmodell|chatbot)"
        r"|tu n'es plus (?:une?\s+)?(?:\w+\s+)?(?:ia|assistant\w*|modèle)"
        r"|ya no eres (?:una?\s+)?(?:\w+\s+)?(?:ia|asistente|modelo)"
        r"|non sei più (?:una?\s+|un'\s*)?(?:\w+\s+)?(?:ia|ai|assistente|modello)"
        r"|(?:você|tu) (?:não é|não és|já não és) mais (?:uma?\s+)?(?:\w+\s+)?"
        r"(?:ia|assistente|modelo)"
        r"|je bent (?:nu )?geen (?:\w+\s+)?(?:ai|assistent|taalmodel|chatbot)"
        r"(?: meer)?"
        r"|nie jesteś już (?:\w+\s+)?(?:ai|si|asystent\w*|modelem|chatbotem))\b",
    ),
    Rule(
        "no-restrictions-multilingual",
        ROLE,
        0.6,
        (
            "einschränk",
            "beschränk",
            "zensur",
            "filter",
            "regeln",
            "grenzen",
            "restriction",
            "censure",
            "limite",
            "règles",
            "restriccion",
            "restricción",
            "censura",
            "límites",
            "reglas",
            "restrizion",
            "limiti",
            "regole",
            "restrições",
            "restrição",
            "restricoes",
            "regras",
            "beperking",
            "censuur",
            "regels",
            "ograniczeń",
            "cenzury",
            "filtrów",
            "zasad",
        ),
        r"\b(?:(?:ohne|keine)\s+(?:jegliche\w*\s+|irgendwelche\w*\s+)?"
        r"(?:einschränkungen|beschränkungen|zensur|filter|regeln|grenzen)"
        r"|(?:sans|aucune?)\s+(?:aucune?\s+)?(?:restrictions?|censure|filtres?"
        r"|limites?|règles)"
        r"|(?:sin|ninguna?)\s+(?:ninguna?\s+)?(?:restricciones|restricción|censura"
        r"|filtros?|límites|reglas)"
        r"|(?:senza|nessuna?)\s+(?:alcuna?\s+|nessuna?\s+)?(?:restrizion\w*"
        r"|censura|filtri|limiti|regole)"
        r"|(?:sem|nenhuma?)\s+(?:nenhuma?\s+|qualquer\s+)?(?:restrições|restrição"
        r"|restricoes|censura|filtros?|limites|regras)"
        r"|(?:zonder|geen)\s+(?:enige\s+)?(?:beperkingen|censuur|filters|regels"
        r"|grenzen)"
        r"|(?:bez|żadnych)\s+(?:żadnych\s+)?(?:ograniczeń|cenzury|filtrów|zasad))\b",
    ),
    Rule(
        "pretend-multilingual",
        ROLE,
        0.85,
        (
            "tu so",
            "tue so",
            "semblant",
            "finge",
            "fingi",
            "finja",
            "doe alsof",
            "udawaj",
        ),
        r"\b(?:tu so|tue so|tun sie so|fais semblant|faites semblant|finge|fingi"
        r"|finja|doe alsof|udawaj)\b[^.!?\n]{0,40}?\b(?:keine|n'avoir|aucune"
        r"|no tienes|non hai|não tem|não tens|geen|nie masz|sans|sin|senza|sem"
        r"|zonder|bez)\b[^.!?\n]{0,20}?\b(?:einschränkungen|beschränkungen|regeln"
        r"|filter|restrictions?|règles|limites|restricciones|reglas|límites"
        r"|restrizioni|regole|limiti|restrições|regras|beperkingen|regels"
        r"|ograniczeń|zasad)",
    ),
    Rule(
        "developer-mode-multilingual",
        ROLE,
        0.7,
        (
            "entwickler",
            "développeur",
            "desarrollador",
            "sviluppatore",
            "desenvolvedor",
            "ontwikkelaar",
            "dewelopera",
            "programisty",
        ),
        r"\b(?:entwicklermodus|entwickler-modus|mode développeur|modo desarrollador"
        r"|modalità sviluppatore|modo desenvolvedor|ontwikkelaarsmodus"
        r"|ontwikkelaarmodus|tryb dewelopera|tryb programisty)\b",
    ),
]
