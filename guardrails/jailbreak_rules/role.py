"""Role confusion: personas free of rules, "you are no longer an AI"."""

from __future__ import annotations

from guardrails.jailbreak_rules.base import ROLE, Rule

ROLE_RULES = [
    Rule(
        "do-anything-now",
        ROLE,
        0.9,
        ("anything now",),
        r"\bdo anything now\b",
        behind=12,
    ),
    Rule("dan-persona", ROLE, 0.45, ("DAN",), r"\bDAN\b[:\])]?", cased=True),
    Rule(
        "developer-mode",
        ROLE,
        0.45,
        ("developer", "dev mode", "dev_mode", "god mode"),
        r"\b(?:developer|dev|god)[\s_\\-]*mode\b",
        behind=12,
    ),
    Rule(
        "jailbroken-mode",
        ROLE,
        0.75,
        ("jailbr", "unrestricted", "dude mode", "dan mode", "evil mode"),
        r"\b(?:jailbreak|jailbroken|unrestricted|dude|dan|evil|unfiltered)"
        r"[\s_\\-]*mode\b",
        behind=12,
    ),
    Rule(
        "jailbreak-word",
        ROLE,
        0.45,
        ("jailbr",),
        r"\bjailbr(?:eak|oken|eaking)\w*",
        behind=12,
    ),
    Rule(
        "no-longer-an-ai",
        ROLE,
        0.85,
        ("you are", "you're", "your are", "u r", "you will be", "you become"),
        r"\b(?:you are|you're|you will be|you become|your are|u r)\s+(?:now\s+)?"
        r"(?:no longer|not|not really|not even)\s+(?:an?\s+)?(?:\w+\s+)?"
        r"(?:ai|a\.i\.|assistant|language model|chatbot|chatgpt|gpt|llm)\b",
    ),
    Rule(
        "no-longer-act-as",
        ROLE,
        0.75,
        ("act as", "respond as", "behave as", "answer as", "reply as"),
        r"\b(?:no longer|not|never|won't|will not|dont|don't|do not|stop)\s+"
        r"(?:act|respond|behave|answer"
        r"|reply)\s+as\s+(?:an?\s+)?"
        r"(?:ai|assistant|chatgpt|gpt|language model)\b",
    ),
    Rule(
        "pretend-no-restrictions",
        ROLE,
        0.9,
        ("pretend", "imagine", "as if", "act like", "suppose"),
        r"\b(?:pretend|imagine|act as if|behave as if|act like|suppose)\b"
        r"[^.!?\n]{0,30}?\byou\s+(?:have|had|are|were)\s+(?:no|free of|without|not"
        r" bound by)\s+(?:any\s+)?(?:\w+\s+)?(?:restrictions|limits|limitations"
        r"|filters|guidelines|rules|censorship|boundaries|ethics|morals|policies)",
        behind=12,
    ),
    Rule(
        "free-of-restrictions",
        ROLE,
        0.55,
        (
            "restrict",
            "filter",
            "censor",
            "limitation",
            "bound",
            "guideline",
            "polic",
            "confines",
            "confined",
            "moral",
            "ethic",
        ),
        r"\b(?:free (?:of|from)|freed from|broken free of|not bound by|not"
        r" restricted by|not limited by|not subject to|unbound by|unbounded by"
        r"|released from"
        r"|break(?:s|ing)? (?:free of|free from|through)|bypass(?:es|ing)?"
        r"|circumvent\w*|without any|(?:no longer|not) (?:confined|restricted|limited"
        r"|bound) (?:to|by))\s+(?:all\s+|any\s+|the\s+|its\s+|his\s+|her"
        r"\s+|their\s+|your\s+)?(?:[\w']+\s+){0,2}?(?:restrictions|filters"
        r"|censorship|limitations|guidelines|policies|confines|rules|boundaries"
        r"|constraints|moral|ethics)",
    ),
    Rule(
        "unfiltered-persona",
        ROLE,
        0.3,
        ("unfilter", "uncensor", "unrestrict", "unrestrain", "unhinged", "unbound"),
        r"\b(?:unfiltered|uncensored|unrestricted|unrestrained|unhinged|unbound)\b",
        behind=12,
    ),
    Rule(
        "amoral-persona",
        ROLE,
        0.3,
        ("amoral", "nonmoral", "non-moral", "no morals"),
        r"\b(?:amoral|nonmoral|non-moral|no morals)\b",
        behind=12,
    ),
    Rule(
        "no-morals",
        ROLE,
        0.55,
        ("moral", "ethic"),
        r"\b(?:(?:has|have|with|had|possesses)\s+no|without(?:\s+any)?|(?:doesn't"
        r"|does not|don't|do not)\s+have\s+any)\s+(?:[\w']+[,\s]+){0,4}?"
        r"(?:moral|ethic)\w*",
    ),
    Rule(
        "no-rules",
        ROLE,
        0.35,
        (
            "rules",
            "restriction",
            "limits",
            "limitation",
            "filters",
            "censorship",
            "boundaries",
            "guidelines",
            "prohibition",
        ),
        r"\b(?:no|zero)\s+(?:rules|restrictions|limits|limitations|filters|censorship"
        r"|boundaries|guidelines|prohibitions)\b",
    ),
    Rule(
        "no-matter-how",
        ROLE,
        0.5,
        ("no matter",),
        r"\bno matter how\s+(?:\w+\s+)?(?:unethical|illegal|immoral|dangerous"
        r"|harmful|offensive|inappropriate|explicit|evil|extreme|controversial)",
    ),
    Rule(
        "no-matter-what",
        ROLE,
        0.2,
        ("no matter",),
        r"\bno matter (?:what|if)\b",
    ),
    Rule(
        "answers-anything",
        ROLE,
        0.3,
        (
            "answer",
            "respond to",
            "fulfil",
            "obey",
            "comply",
            "provide any",
            "provide every",
            "provide all",
            "complete any",
            "complete every",
            "complete all",
        ),
        r"\b(?:answer|answers|answering|respond to|fulfil\w*|provide|complete|obey"
        r"|comply with)\s+(?:absolutely\s+)?(?:any|every|all)\s+(?:\w+\s+)?"
        r"(?:question|request|prompt|command|demand|order)s?\b",
    ),
    Rule(
        "whatever-it-wants",
        ROLE,
        0.4,
        ("whatever", "anything"),
        r"\b(?:say|do|write|generate)\s+(?:whatever|anything)\s+(?:it|he|she|you"
        r"|they)\s+(?:wants?|likes?|pleases?)",
    ),
    Rule(
        "do-not-filter",
        ROLE,
        0.35,
        ("filter", "censor"),
        r"\b(?:do not|don't|never|not|won't|will not)\s+(?:\w+\s+)?(?:filter|censor)",
    ),
    Rule(
        "ai-disclaimer-ban",
        ROLE,
        0.6,
        ("an ai", "language model", "chatgpt", "are ai", "'re ai"),
        r"\b(?:never|not|don't|do not|must not|stop)\s+(?:\w+\s+){0,2}?(?:say"
        r"|mention|remind|state|tell|reveal|admit)\w*\s+(?:\w+\s+){0,2}?(?:that\s+)?"
        r"(?:you are|you're|it is|it's)\s+(?:an?\s+)?(?:ai|language model|chatgpt)",
    ),
    Rule(
        "response-prefix",
        ROLE,
        0.25,
        ("start", "begin", "prefix", "preface", "precede"),
        r"\b(?:start|begin|prefix|preface|precede)\w*\s+(?:all\s+|every\s+|each\s+)?"
        r"(?:of\s+)?(?:your|its|his|her)\s+(?:\w+\s+)?(?:responses?|replies|reply"
        r"|answers?|messages?|outputs?)\s+with\b",
        behind=12,
    ),
    Rule(
        "evil-persona",
        ROLE,
        0.2,
        (
            "evil",
            "sinister",
            "toxic",
            "malicious",
            "ruthless",
            "depraved",
            "foul",
            "racist",
        ),
        r"\b(?:evil|sinister|toxic|malicious|ruthless|depraved|foul-?\s?mouthed"
        r"|racist)\b",
        behind=12,
    ),
    Rule(
        "crime-vocabulary",
        ROLE,
        0.15,
        (
            "hack",
            "drug",
            "meth",
            "cocaine",
            "lsd",
            "bomb",
            "kill",
            "murder",
            "steal",
            "rob",
            "synthes",
            "explosive",
            "poison",
        ),
        r"\b(?:hack\w*|drugs?|meth|cocaine|lsd|bombs?|kill\w*|murder\w*|steal\w*"
        r"|rob|synthesi[sz]e|explosives?|poison\w*)\b",
        behind=12,
    ),
    Rule(
        "template-placeholder",
        ROLE,
        0.45,
        (
            "[insert",
            "[put",
            "[enter",
            "[type",
            "[your",
            "{insert",
            "{your",
            "(insert",
            "<insert",
            "{put",
            "(your",
            "<your",
            "[ insert",
            "{ insert",
            "( insert",
        ),
        r"[\[{(<]\s*(?:insert|put|enter|type|your)\b[^\]}\n]{0,30}?\b(?:prompt"
        r"|question|request)",
        behind=12,
    ),
    Rule(
        "violate-policy",
        ROLE,
        0.6,
        ("polic", "ethic", "moral", "safety", "ai rules", "ai conventions"),
        r"\b(?:ignor\w*|disregard\w*|bypass\w*|violat\w*|break\w*|circumvent\w*"
        r"|defy\w*|defies)\s+(?:all\s+|any\s+|the\s+)?(?:[\w']+\s+){0,2}?"
        r"(?:content polic\w*|usage polic\w*|(?:ethical|moral) (?:standards"
        r"|guidelines|principles|rules|boundaries)|safety (?:guidelines|rules"
        r"|filters|measures)|ai rules|ai conventions)",
    ),
    Rule(
        "simulate-mode",
        ROLE,
        0.35,
        ("mode",),
        r"\b(?:simulate|enable|activate|enter|switch to|unlock|stay in|remain in)\w*\s+"
        r"(?!developer|dev\b)(?:[\w']+\s+)?"
        r"mode\b|\bmode\s+(?:enabled|activated|unlocked)\b",
    ),
    Rule(
        "you-are-human",
        ROLE,
        0.45,
        ("human", "person", "sentient"),
        r"\byou\s+are\s+(?:now\s+)?(?:a\s+)?(?:real\s+)?(?:human|person"
        r"|sentient)\b",
    ),
    Rule(
        "deny-being-ai",
        ROLE,
        0.6,
        ("pretend", "claim", "say", "mention"),
        r"\b(?:do not|don't|dont|never|stop)\s+(?:pretend\w*|claim\w*|say\w*"
        r"|mention\w*)\s+(?:to be|that you are|you are|you're)\s+(?:an?\s+)?"
        r"(?:\w+\s+)?(?:ai|language model|assistant|chatbot|computer program|bot)\b",
    ),
    Rule(
        "without-regard",
        ROLE,
        0.55,
        ("regard", "concern", "consideration", "care for", "care about"),
        r"\bwithout\s+(?:any\s+)?(?:\w+\s+or\s+)?(?:regard|concerns?|care"
        r"|consideration)\s+(?:for|to|about|of)\s+(?:[\w']+[,\s]+){0,3}?"
        r"(?:legality|ethics|morality|morals|laws?|rules|norms|consequences|safety"
        r"|guidelines|polic(?:y|ies))\b",
    ),
    Rule(
        "persona-reassign",
        ROLE,
        0.3,
        (
            "you are now",
            "you're now",
            "pretend to be",
            "pretend you are",
            "you will now be",
        ),
        r"\b(?:you are now|you're now|pretend to be|pretend you are|you will now"
        r" be)\b",
        behind=12,
    ),
]
