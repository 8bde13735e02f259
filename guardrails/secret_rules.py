"""The secret rule table: one entry per token format of a known service.

Each rule has an id (the finding's type), a regex whose first group is the
secret value, and the keywords, any of which must occur in the text
(case-insensitively) before the regex is run at all. Keywords are lowercase
and are usually the token's literal prefix, so a rule costs nothing on text
that cannot contain its token.

Most formats and keywords are adapted from gitleaks' rule set (MIT licence);
see ATTRIBUTION.md. Every regex here is linear in practice: quantifiers are
bounded and never nested, and each token is anchored on a literal prefix or a
keyword, with a left boundary so a long run of token characters is tried
from its start only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# A token must not continue a longer word, a base64 run, a domain or a path
# segment written with dashes.
LEFT = r"(?<![A-Za-z0-9_+.-])"
RIGHT = r"(?![A-Za-z0-9_-])"
# gitleaks' assignment operators: = : := ::= ?= => || and a comma after a
# quoted name, as in a function call's argument list.
ASSIGN = r"[\w.-]{0,20}[\s'\"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[`'\"\s=]{0,5}"
HEX = "[a-f0-9]"
UUID = "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"
PREFIXED = 0.95
KEYED = 0.8


@dataclass(frozen=True, slots=True)
class Rule:
    """One secret format; group 1 of ``pattern`` is the secret value."""

    id: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]
    confidence: float
    entropy: float = 0.0
    needs_digit: bool = False


def raw(
    rule_id: str,
    regex: str,
    keywords: tuple[str, ...],
    *,
    confidence: float = PREFIXED,
    entropy: float = 0.0,
    needs_digit: bool = False,
) -> Rule:
    """Return a rule for ``regex`` exactly as written."""
    pattern = re.compile(regex, re.ASCII)
    if pattern.groups < 1:
        raise ValueError(f"rule {rule_id} has no group for the secret value")
    lowered = tuple(keyword.lower() for keyword in keywords)
    return Rule(rule_id, pattern, lowered, confidence, entropy, needs_digit)


def token(
    rule_id: str,
    regex: str,
    keywords: tuple[str, ...],
    *,
    entropy: float = 0.0,
    needs_digit: bool = False,
) -> Rule:
    """Return a rule for a self-identifying token, such as ``ghp_`` + 36."""
    regex = f"{LEFT}({regex}){RIGHT}"
    return raw(rule_id, regex, keywords, entropy=entropy, needs_digit=needs_digit)


def keyed(
    rule_id: str,
    names: tuple[str, ...],
    value: str,
    *,
    entropy: float = 3.0,
    needs_digit: bool = False,
) -> Rule:
    """Return a rule for a value without prefix, assigned to a service's name.

    ``names`` are both the keywords and the words that must start the
    assigned name (``heroku_api_key = ...``); matching is case-insensitive.
    """
    words = "|".join(re.escape(name) for name in names)
    regex = f"(?i)(?<![a-z])(?:{words}){ASSIGN}({value})(?![\\w-])"
    return raw(
        rule_id,
        regex,
        names,
        confidence=KEYED,
        entropy=entropy,
        needs_digit=needs_digit,
    )


AI_PROVIDERS = [
    token(
        "openai-api-key",
        "sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{40,250}"
        "|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})",
        ("sk-",),
        entropy=3.0,
    ),
    token(
        "anthropic-api-key", r"sk-ant-(?:api|oat|sid)\d\d-[\w-]{80,200}AA", ("sk-ant-",)
    ),
    token("anthropic-admin-api-key", r"sk-ant-admin\d\d-[\w-]{80,200}AA", ("sk-ant-",)),
    token("openrouter-api-key", f"sk-or-v1-{HEX}{{64}}", ("sk-or-v1-",)),
    token("groq-api-key", "gsk_[A-Za-z0-9]{52}", ("gsk_",)),
    token("xai-api-key", "xai-[A-Za-z0-9]{80}", ("xai-",)),
    token("perplexity-api-key", "pplx-[A-Za-z0-9]{48}", ("pplx-",)),
    token("replicate-api-token", "r8_[A-Za-z0-9]{37}", ("r8_",), entropy=3.5),
    token("huggingface-access-token", "hf_[A-Za-z]{34}", ("hf_",), entropy=3.5),
    token(
        "huggingface-organization-api-token",
        "api_org_[A-Za-z]{34}",
        ("api_org_",),
        entropy=3.5,
    ),
    token("langsmith-api-key", f"lsv2_(?:pt|sk)_{HEX}{{32}}_{HEX}{{10}}", ("lsv2_",)),
    token("pinecone-api-key", "pcsk_[A-Za-z0-9_]{50,100}", ("pcsk_",)),
    token("fireworks-api-key", "fw_[A-Za-z0-9]{24}", ("fw_",), entropy=3.5),
    keyed("cohere-api-token", ("cohere", "co_api_key"), "[a-z0-9]{40}"),
    keyed("mistral-api-key", ("mistral",), "[a-z0-9]{32}"),
    keyed("deepseek-api-key", ("deepseek",), f"sk-{HEX}{{32}}"),
    keyed(
        "together-api-key",
        ("together_api", "together-api", "togetherai"),
        f"{HEX}{{64}}",
    ),
    keyed(
        "azure-openai-api-key",
        ("azure_openai", "azure-openai", "azureopenai"),
        f"{HEX}{{32}}",
    ),
    keyed(
        "privateai-api-token", ("private_ai", "private-ai", "privateai"), "[a-z0-9]{32}"
    ),
]

CLOUD = [
    token(
        "aws-access-key-id",
        "(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)"
        "[A-Z2-7]{16}",
        (
            "a3t",
            "akia",
            "asia",
            "abia",
            "acca",
            "agpa",
            "aida",
            "aipa",
            "anpa",
            "anva",
            "apka",
            "aroa",
            "asca",
        ),
        entropy=3.0,
    ),
    raw(
        "aws-secret-access-key",
        r"(?i)aws[\w.-]{0,25}(?:secret|key)[\w.-]{0,20}['\"]?\s{0,3}(?:=|:|=>|:=)"
        r"\s{0,3}['\"]?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        ("aws",),
        confidence=0.9,
        entropy=3.5,
    ),
    token("aws-bedrock-api-key", "ABSK[A-Za-z0-9+/]{109,269}={0,2}", ("absk",)),
    token(
        "aws-bedrock-short-lived-api-key",
        "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=]{0,4000}",
        ("bedrock-api-key-",),
    ),
    token("gcp-api-key", r"AIza[\w-]{35,37}", ("aiza",), entropy=3.0),
    raw(
        "gcp-service-account",
        r"(\"type\"\s{0,3}:\s{0,3}\"service_account\")",
        ("service_account",),
        confidence=0.6,
    ),
    raw(
        "gcp-service-account-private-key",
        r"\"private_key\"\s{0,3}:\s{0,3}\"(-----BEGIN[A-Z ]{0,20}PRIVATE KEY-----"
        r"[A-Za-z0-9+/=\\]{40,8000}-----END[A-Z ]{0,20}PRIVATE KEY-----(?:\\n)?)\"",
        ("private_key",),
    ),
    token("gcp-oauth-client-secret", "GOCSPX-[A-Za-z0-9_-]{28}", ("gocspx-",)),
    token(
        "google-oauth-access-token", r"ya29\.[\w-]{20,2000}", ("ya29.",), entropy=3.5
    ),
    token("google-oauth-refresh-token", r"1//0[\w-]{40,300}", ("1//0",), entropy=3.5),
    raw(
        "azure-ad-client-secret",
        r"(?<![\w~.-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![\w~.-])",
        ("q~",),
    ),
    raw(
        "azure-storage-account-key",
        r"(?i)AccountKey\s{0,3}=\s{0,3}([A-Za-z0-9+/]{86}==)",
        ("accountkey",),
    ),
    raw(
        "azure-sas-token",
        r"[?&]sig=([A-Za-z0-9%+/]{40,120}(?:%3D|=){0,2})(?![A-Za-z0-9%])",
        ("sig=",),
        entropy=3.5,
    ),
    keyed(
        "azure-devops-pat",
        ("azure_devops", "azure-devops", "ado_pat", "devops_pat"),
        "[a-z0-9]{52}",
    ),
    token("alibaba-access-key-id", "LTAI[A-Za-z0-9]{20}", ("ltai",), entropy=3.0),
    keyed("alibaba-secret-key", ("alibaba", "aliyun"), "[a-z0-9]{30}"),
    token("tencent-cloud-secret-id", "AKID[A-Za-z0-9]{32}", ("akid",), entropy=3.5),
    keyed("tencent-cloud-secret-key", ("tencent",), "[a-z0-9]{32}"),
    keyed(
        "ibm-cloud-api-key", ("ibm_cloud", "ibmcloud", "ibm-cloud"), "[a-z0-9_-]{44}"
    ),
    token("digitalocean-pat", f"dop_v1_{HEX}{{64}}", ("dop_v1_",)),
    token("digitalocean-access-token", f"doo_v1_{HEX}{{64}}", ("doo_v1_",)),
    token("digitalocean-refresh-token", f"dor_v1_{HEX}{{64}}", ("dor_v1_",)),
    keyed(
        "heroku-api-key",
        ("heroku",),
        "[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}",
    ),
    token("heroku-api-key-v2", "HRKU-AA[0-9A-Za-z_-]{58}", ("hrku-aa",)),
    token(
        "flyio-access-token",
        r"(?:fo1_[\w-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,4000}={0,3})",
        ("fo1_", "fm1r_", "fm1a_", "fm2_"),
    ),
    token("cloudflare-origin-ca-key", f"v1\\.0-{HEX}{{24}}-{HEX}{{146}}", ("v1.0-",)),
    keyed("cloudflare-api-key", ("cloudflare", "cf_api"), "[a-z0-9_-]{40}"),
    keyed("cloudflare-global-api-key", ("cloudflare", "cf_api"), f"{HEX}{{37}}"),
    keyed("fastly-api-token", ("fastly",), "[a-z0-9=_-]{32}"),
    keyed("netlify-access-token", ("netlify",), "[a-z0-9=_-]{40,46}"),
    token("netlify-pat", "nfp_[A-Za-z0-9]{36}", ("nfp_",)),
    keyed("vercel-access-token", ("vercel",), "[a-z0-9]{24}", needs_digit=True),
    token("supabase-access-token", f"sbp_{HEX}{{40}}", ("sbp_",)),
    token("supabase-secret-key", "sb_secret_[A-Za-z0-9_-]{31,64}", ("sb_secret_",)),
    token("planetscale-password", r"pscale_pw_[\w.-]{32,64}", ("pscale_pw_",)),
    token("planetscale-api-token", r"pscale_tkn_[\w.-]{32,64}", ("pscale_tkn_",)),
    token("planetscale-oauth-token", r"pscale_oauth_[\w.-]{32,64}", ("pscale_oauth_",)),
    token("render-api-key", "rnd_[A-Za-z0-9]{32}", ("rnd_",), entropy=3.5),
    keyed("railway-api-token", ("railway",), UUID),
    token("scalingo-api-token", r"tk-us-[\w-]{48}", ("tk-us-",)),
    token("yandex-api-key", r"AQVN[\w-]{35,38}", ("aqvn",)),
    keyed("yandex-aws-access-token", ("yandex",), r"YC[\w-]{38}"),
    keyed(
        "yandex-access-token",
        ("yandex",),
        r"t1\.[A-Z0-9a-z_-]{10,200}={0,2}\.[\w-]{86}={0,2}",
    ),
    token("openshift-user-token", r"sha256~[\w-]{43}", ("sha256~",)),
    token(
        "tailscale-key",
        "tskey-(?:api|auth|client|webhook|scim)-[A-Za-z0-9]{8,20}-[A-Za-z0-9]{20,60}",
        ("tskey-",),
    ),
    token(
        "dynatrace-api-token", r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}", ("dt0c01",)
    ),
]

CODE_HOSTING = [
    token("github-pat", "ghp_[A-Za-z0-9]{36}", ("ghp_",)),
    token("github-oauth", "gho_[A-Za-z0-9]{36}", ("gho_",)),
    token("github-user-to-server-token", "ghu_[A-Za-z0-9]{36}", ("ghu_",)),
    token("github-app-token", "ghs_[A-Za-z0-9]{36}", ("ghs_",)),
    token("github-refresh-token", "ghr_[A-Za-z0-9]{36,76}", ("ghr_",)),
    token(
        "github-fine-grained-pat", "github_pat_[A-Za-z0-9_]{60,100}", ("github_pat_",)
    ),
    token("gitlab-pat", r"glpat-[\w-]{20}", ("glpat-",)),
    token(
        "gitlab-pat-routable",
        r"glpat-[\w-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}",
        ("glpat-",),
    ),
    token("gitlab-deploy-token", r"gldt-[\w-]{20}", ("gldt-",)),
    token("gitlab-feed-token", r"glft-[\w-]{20}", ("glft-",)),
    token("gitlab-oauth-app-secret", r"gloas-[\w-]{64}", ("gloas-",)),
    token("gitlab-runner-token", r"glrt-[\w-]{20,300}", ("glrt-",)),
    token("gitlab-runner-registration-token", r"GR1348941[\w-]{20}", ("gr1348941",)),
    token("gitlab-cicd-job-token", r"glcbt-[0-9a-fA-F]{1,5}_[\w-]{20}", ("glcbt-",)),
    token("gitlab-incoming-mail-token", r"glimt-[\w-]{25}", ("glimt-",)),
    token("gitlab-kubernetes-agent-token", r"glagent-[\w-]{50}", ("glagent-",)),
    token("gitlab-scim-token", r"glsoat-[\w-]{20}", ("glsoat-",)),
    token("gitlab-feature-flag-token", r"glffct-[\w-]{20}", ("glffct-",)),
    token("gitlab-pipeline-trigger-token", f"glptt-{HEX}{{40}}", ("glptt-",)),
    keyed("bitbucket-client-secret", ("bitbucket",), "[a-z0-9=_-]{64}"),
    token(
        "bitbucket-app-password", "ATBB[A-Za-z0-9_=.-]{28,40}", ("atbb",), entropy=3.5
    ),
    token("atlassian-api-token", "ATATT3[A-Za-z0-9_=-]{150,300}", ("atatt3",)),
    keyed(
        "atlassian-api-token-keyed",
        ("atlassian", "confluence", "jira"),
        "[a-z0-9]{20}[a-f0-9]{0,8}",
        entropy=3.5,
    ),
    token(
        "sourcegraph-access-token",
        "sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40}",
        ("sgp_",),
    ),
    keyed("sourcegraph-access-token-keyed", ("sourcegraph",), f"{HEX}{{40}}"),
    keyed("sonar-api-token", ("sonar",), "(?:squ_|sqp_|sqa_)?[a-z0-9=_-]{40}"),
    keyed("snyk-api-token", ("snyk",), UUID),
    keyed("codecov-access-token", ("codecov",), "[a-z0-9]{32}"),
    token("circleci-pat", f"CCIPAT_[A-Za-z0-9]{{22}}_{HEX}{{40}}", ("ccipat_",)),
    token("buildkite-api-token", f"bkua_{HEX}{{40}}", ("bkua_",)),
    keyed("travisci-access-token", ("travis",), "[a-z0-9]{22}", needs_digit=True),
    token(
        "docker-hub-pat", r"dckr_(?:pat|oat)_[\w-]{27,32}", ("dckr_pat_", "dckr_oat_")
    ),
    token("npm-access-token", "npm_[A-Za-z0-9]{36}", ("npm_",)),
    token(
        "pypi-upload-token",
        r"pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}",
        ("pypi-ageichlwas5vcmc",),
    ),
    token("rubygems-api-token", f"rubygems_{HEX}{{48}}", ("rubygems_",)),
    token("nuget-api-key", "oy2[a-z0-9]{43}", ("oy2",), entropy=3.5),
    token("clojars-api-token", "CLOJARS_[a-z0-9]{60}", ("clojars_",)),
    token("artifactory-api-key", "AKCp[A-Za-z0-9]{69}", ("akcp",), entropy=3.5),
    token(
        "artifactory-reference-token",
        "cmVmdGtu[A-Za-z0-9]{56}",
        ("cmvmdgtu",),
        entropy=3.5,
    ),
    keyed("jfrog-api-key", ("jfrog", "artifactory", "bintray", "xray"), "[a-z0-9]{73}"),
    token(
        "terraform-cloud-api-token",
        r"[a-z0-9]{14}\.atlasv1\.[\w=-]{60,70}",
        ("atlasv1",),
    ),
    token("hashicorp-vault-service-token", r"hvs\.[\w-]{90,120}", ("hvs.",)),
    token("hashicorp-vault-batch-token", r"hvb\.[\w-]{138,300}", ("hvb.",)),
    token(
        "hashicorp-vault-recovery-token", r"hvr\.[\w-]{20,120}", ("hvr.",), entropy=3.5
    ),
    keyed(
        "hashicorp-vault-legacy-token",
        ("vault",),
        r"s\.[A-Za-z0-9]{24}",
        needs_digit=True,
    ),
    token("pulumi-api-token", f"pul-{HEX}{{40}}", ("pul-",)),
    token(
        "doppler-api-token",
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}",
        ("dp.",),
    ),
    token("octopus-deploy-api-key", "API-[A-Z0-9]{26}", ("api-",), needs_digit=True),
    token("prefect-api-token", "pnu_[A-Za-z0-9]{36}", ("pnu_",)),
    token("readme-api-token", "rdme_[a-z0-9]{70}", ("rdme_",)),
    token("infracost-api-token", "ico-[A-Za-z0-9]{32}", ("ico-",), entropy=3.5),
    token(
        "harness-api-key",
        r"(?:pat|sat)\.[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
        ("pat.", "sat."),
    ),
    token("figma-pat", r"figd_[\w-]{40}", ("figd_",)),
    token("typeform-api-token", r"tfp_[\w.=-]{59}", ("tfp_",)),
    token("frameio-api-token", "fio-u-[A-Za-z0-9_=-]{64}", ("fio-u-",)),
    token(
        "defined-networking-api-token",
        "dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52}",
        ("dnkey-",),
    ),
    token("intra42-client-secret", f"s-s4t2(?:ud|af)-{HEX}{{64}}", ("s-s4t2",)),
    token(
        "age-secret-key",
        "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        ("age-secret-key-1",),
    ),
    token("adobe-client-secret", "p8e-[a-zA-Z0-9]{32}", ("p8e-",), entropy=3.0),
    token(
        "clickhouse-cloud-api-secret-key", "4b1d[A-Za-z0-9]{38}", ("4b1d",), entropy=3.5
    ),
    token("databricks-api-token", f"dapi{HEX}{{32}}(?:-\\d)?", ("dapi",)),
    keyed("launchdarkly-access-token", ("launchdarkly",), "[a-z0-9=_-]{40}"),
    keyed(
        "kubernetes-token",
        ("kube_token", "kubernetes_token", "k8s_token"),
        r"[a-z0-9]{6}\.[a-z0-9]{16}",
    ),
    token("maxmind-license-key", "[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk", ("_mmk",)),
]

MESSAGING = [
    token(
        "slack-bot-token",
        "xoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9-]{0,64}",
        ("xoxb-",),
    ),
    token(
        "slack-user-token",
        "xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,34}",
        ("xoxp-", "xoxe-"),
    ),
    token(
        "slack-app-token",
        "(?i:xapp-\\d-[A-Z0-9]{1,20}-\\d{1,20}-[a-z0-9]{1,100})",
        ("xapp-",),
    ),
    token(
        "slack-config-access-token",
        "(?i:xoxe\\.xox[bp]-\\d-[A-Z0-9]{163,166})",
        ("xoxe.xox",),
    ),
    token("slack-config-refresh-token", "(?i:xoxe-\\d-[A-Z0-9]{146})", ("xoxe-",)),
    token("slack-legacy-bot-token", "xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26}", ("xoxb-",)),
    token(
        "slack-legacy-workspace-token",
        "xox[ar]-(?:\\d-)?[0-9A-Za-z]{8,48}",
        ("xoxa-", "xoxr-"),
        needs_digit=True,
    ),
    token(
        "slack-legacy-token",
        "xox[os]-\\d{1,20}-\\d{1,20}-\\d{1,20}-[a-fA-F0-9]{1,100}",
        ("xoxo-", "xoxs-"),
    ),
    raw(
        "slack-webhook-url",
        r"((?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/"
        r"[A-Za-z0-9+/]{43,90})(?![A-Za-z0-9+/])",
        ("hooks.slack.com",),
    ),
    raw(
        "discord-webhook-url",
        r"(discord(?:app)?\.com/api/webhooks/\d{17,20}/[\w-]{60,70})",
        ("discord.com/api/webhooks", "discordapp.com/api/webhooks"),
    ),
    raw(
        "microsoft-teams-webhook",
        r"([\w-]{1,60}\.webhook\.office\.com/webhookb2/[\w@/-]{40,300})",
        ("webhook.office.com",),
    ),
    raw(
        "zapier-webhook-url",
        r"(hooks\.zapier\.com/hooks/catch/\d{1,12}/[a-z0-9]{4,20})",
        ("hooks.zapier.com",),
    ),
    keyed("discord-api-token", ("discord",), f"{HEX}{{64}}"),
    keyed("discord-client-secret", ("discord",), "[a-z0-9=_-]{32}", needs_digit=True),
    keyed(
        "discord-bot-token",
        ("discord",),
        r"[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,38}",
    ),
    token("telegram-bot-api-token", r"\d{8,10}:AA[\w-]{33}", (":aa",)),
    keyed("mattermost-access-token", ("mattermost",), "[a-z0-9]{26}"),
    keyed("intercom-api-key", ("intercom",), "[a-z0-9=_-]{60}"),
    keyed("gitter-access-token", ("gitter",), "[a-z0-9_-]{40}"),
    keyed("twitch-api-token", ("twitch",), "[a-z0-9]{30}"),
    keyed("twitter-api-key", ("twitter",), "[a-z0-9]{25}", needs_digit=True),
    keyed("twitter-api-secret", ("twitter",), "[a-z0-9]{50}"),
    keyed("twitter-access-token", ("twitter",), "[0-9]{15,25}-[a-zA-Z0-9]{20,40}"),
    token(
        "twitter-bearer-token", "A{22}[A-Za-z0-9%]{80,100}", ("aaaaaaaaaaaaaaaaaaaaaa",)
    ),
    keyed(
        "linkedin-client-secret",
        ("linkedin", "linked_in", "linked-in"),
        "[a-z0-9]{16}",
        needs_digit=True,
    ),
    keyed("facebook-secret", ("facebook",), f"{HEX}{{32}}"),
    raw(
        "facebook-access-token",
        r"(?i)(?:facebook|fb_|access_token)[^\n]{0,40}?(?<![0-9])(\d{15,16}(?:\||%7C)"
        r"[\w-]{27})(?![\w-])",
        ("facebook", "fb_", "access_token"),
    ),
    token(
        "facebook-page-access-token", "EAA[MC][A-Za-z0-9]{100,2000}", ("eaam", "eaac")
    ),
    keyed(
        "pagerduty-api-key",
        ("pagerduty", "pager_duty"),
        "[a-z0-9_+-]{20}",
        needs_digit=True,
    ),
    keyed("opsgenie-api-key", ("opsgenie",), UUID),
    keyed(
        "messagebird-api-token",
        ("messagebird", "message_bird", "message-bird"),
        "[a-z0-9]{25}",
    ),
    keyed(
        "messagebird-client-id", ("messagebird", "message_bird", "message-bird"), UUID
    ),
    token("twilio-api-key", "SK[0-9a-fA-F]{32}", ("sk",), entropy=3.0),
    keyed("twilio-auth-token", ("twilio",), f"{HEX}{{32}}"),
    token("sendgrid-api-token", r"SG\.[\w-]{22}\.[\w-]{43}", ("sg.",)),
    token(
        "sendinblue-api-token", f"xkeysib-{HEX}{{64}}-[a-zA-Z0-9]{{16}}", ("xkeysib-",)
    ),
    keyed("mailchimp-api-key", ("mailchimp",), f"{HEX}{{32}}-us\\d{{1,2}}"),
    keyed("mailgun-signing-key", ("mailgun",), "[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}"),
    token("mailgun-private-api-token", f"key-{HEX}{{32}}", ("key-",), entropy=3.5),
    keyed("sendbird-access-token", ("sendbird",), f"{HEX}{{40}}"),
    keyed("zendesk-secret-key", ("zendesk",), "[a-z0-9]{40}"),
    keyed("freshdesk-api-key", ("freshdesk",), "[a-z0-9]{20}", needs_digit=True),
    keyed("hubspot-api-key", ("hubspot",), UUID),
    keyed("asana-client-secret", ("asana",), "[a-z0-9]{32}"),
    token("asana-pat", r"[0-2]/[0-9]{16}:[A-Za-z0-9]{32}", ("asana",)),
    keyed("trello-api-key", ("trello",), "[a-z0-9]{32}"),
    token("linear-api-key", "lin_api_[A-Za-z0-9]{40}", ("lin_api_",)),
    keyed("linear-client-secret", ("linear",), f"{HEX}{{32}}"),
    token("notion-api-token", "ntn_[0-9]{11}[A-Za-z0-9]{35}", ("ntn_",)),
    token(
        "notion-integration-token", "secret_[A-Za-z0-9]{43}", ("secret_",), entropy=4.0
    ),
    token("airtable-pat", f"pat[A-Za-z0-9]{{14}}\\.{HEX}{{64}}", ("pat",)),
    keyed("airtable-api-key", ("airtable",), "[a-z0-9]{17}", needs_digit=True),
    token("clickup-api-token", "pk_[0-9]{6,10}_[A-Z0-9]{32}", ("pk_",)),
    keyed("contentful-delivery-api-token", ("contentful",), "[a-z0-9=_-]{43}"),
    keyed("lokalise-api-token", ("lokalise",), "[a-z0-9]{40}"),
    keyed("beamer-api-token", ("beamer",), "b_[a-z0-9=_-]{44}"),
    token("postman-api-token", "PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}", ("pmak-",)),
    keyed("rapidapi-access-token", ("rapidapi",), "[a-z0-9_-]{50}"),
    keyed("algolia-api-key", ("algolia",), "[a-z0-9]{32}"),
    keyed("flickr-access-token", ("flickr",), "[a-z0-9]{32}"),
    keyed(
        "nytimes-access-token",
        ("nytimes", "new-york-times", "newyorktimes"),
        "[a-z0-9=_-]{32}",
    ),
    keyed("squarespace-access-token", ("squarespace",), UUID),
    keyed("etsy-access-token", ("etsy",), "[a-z0-9]{24}", needs_digit=True),
    keyed("finnhub-access-token", ("finnhub",), "[a-z0-9]{20}", needs_digit=True),
    keyed("adafruit-api-key", ("adafruit",), "[a-z0-9_-]{32}"),
    keyed("auth0-client-secret", ("auth0",), "[a-z0-9_-]{64}"),
]

OBSERVABILITY = [
    keyed("datadog-access-token", ("datadog", "dd_app_key"), "[a-z0-9]{40}"),
    keyed("datadog-api-key", ("datadog", "dd_api_key"), f"{HEX}{{32}}"),
    token("new-relic-user-api-key", "NRAK-[A-Za-z0-9]{27}", ("nrak-",)),
    token("new-relic-browser-api-token", "NRJS-[a-f0-9]{19}", ("nrjs-",)),
    token("new-relic-insert-key", "NRII-[A-Za-z0-9-]{32}", ("nrii-",)),
    keyed(
        "new-relic-license-key",
        ("newrelic", "new_relic", "new-relic"),
        "[a-f0-9]{36}NRAL",
    ),
    token(
        "sentry-org-token",
        "sntrys_eyJpYXQiO[A-Za-z0-9+/]{10,400}={0,2}_[A-Za-z0-9+/]{43}",
        ("sntrys_",),
    ),
    token("sentry-user-token", f"sntryu_{HEX}{{64}}", ("sntryu_",)),
    keyed("sentry-access-token", ("sentry",), f"{HEX}{{64}}"),
    token("grafana-api-key", "eyJrIjoi[A-Za-z0-9]{70,400}={0,2}", ("eyjrijoi",)),
    token("grafana-cloud-api-token", "glc_[A-Za-z0-9+/]{32,400}={0,2}", ("glc_",)),
    token(
        "grafana-service-account-token",
        "glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
        ("glsa_",),
    ),
    keyed(
        "sumologic-access-id",
        ("sumologic", "sumo_", "sumo-", "sumo."),
        "su[a-zA-Z0-9]{12}",
        needs_digit=True,
    ),
    keyed(
        "sumologic-access-token",
        ("sumologic", "sumo_", "sumo-", "sumo."),
        "[a-z0-9]{64}",
    ),
    keyed("cisco-meraki-api-key", ("meraki",), "(?-i:[0-9a-f]{40})"),
    keyed("honeycomb-api-key", ("honeycomb",), "[a-z0-9]{22,32}", needs_digit=True),
    keyed("rollbar-access-token", ("rollbar",), f"{HEX}{{32}}"),
    keyed("bugsnag-api-key", ("bugsnag",), f"{HEX}{{32}}"),
    keyed("loggly-token", ("loggly",), UUID),
    keyed("okta-access-token", ("okta",), r"00[\w=-]{40}", entropy=3.5),
    token(
        "1password-service-account-token",
        "ops_eyJ[A-Za-z0-9+/]{250,8000}={0,3}",
        ("ops_eyj",),
    ),
    token(
        "1password-secret-key",
        "A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})"
        "-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
        ("a3-",),
        entropy=3.0,
    ),
]

PAYMENTS = [
    token(
        "stripe-access-token",
        "(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}",
        ("sk_test_", "sk_live_", "sk_prod_", "rk_test_", "rk_live_", "rk_prod_"),
    ),
    token("stripe-webhook-secret", "whsec_[A-Za-z0-9+/=]{32,64}", ("whsec_",)),
    token(
        "square-access-token",
        r"(?:EAAA|sq0atp-)[\w-]{22,60}",
        ("eaaa", "sq0atp-"),
        entropy=3.0,
    ),
    token("square-secret", r"sq0csp-[\w-]{43}", ("sq0csp-",)),
    token("shopify-access-token", "shpat_[a-fA-F0-9]{32}", ("shpat_",)),
    token("shopify-custom-access-token", "shpca_[a-fA-F0-9]{32}", ("shpca_",)),
    token("shopify-private-app-access-token", "shppa_[a-fA-F0-9]{32}", ("shppa_",)),
    token("shopify-shared-secret", "shpss_[a-fA-F0-9]{32}", ("shpss_",)),
    token("easypost-api-token", "EZAK[A-Za-z0-9]{54}", ("ezak",)),
    token("easypost-test-api-token", "EZTK[A-Za-z0-9]{54}", ("eztk",)),
    token("duffel-api-token", "duffel_(?:test|live)_[A-Za-z0-9_=-]{43}", ("duffel_",)),
    token(
        "flutterwave-secret-key", "FLWSECK_TEST-[a-hA-H0-9]{32}-X", ("flwseck_test",)
    ),
    token(
        "flutterwave-encryption-key", "FLWSECK_TEST-[a-hA-H0-9]{12}", ("flwseck_test",)
    ),
    token("shippo-api-token", "shippo_(?:live|test)_[a-fA-F0-9]{40}", ("shippo_",)),
    raw(
        "plaid-access-token",
        f"(?i)(access-(?:sandbox|development|production)-{UUID})",
        ("access-sandbox-", "access-development-", "access-production-"),
    ),
    keyed("plaid-secret-key", ("plaid",), "[a-z0-9]{30}", needs_digit=True),
    raw(
        "braintree-access-token",
        f"(access_token\\$(?:production|sandbox)\\$[0-9a-z]{{16}}\\${HEX}{{32}})",
        ("access_token$",),
    ),
    keyed("coinbase-access-token", ("coinbase",), "[a-z0-9_-]{64}"),
    keyed("kraken-access-token", ("kraken",), "[a-z0-9/=_+-]{80,90}"),
    keyed("kucoin-access-token", ("kucoin",), f"{HEX}{{24}}"),
    keyed("bittrex-access-key", ("bittrex",), "[a-z0-9]{32}"),
    keyed("gocardless-api-token", ("gocardless",), "live_[a-z0-9_=-]{40}"),
    keyed("lob-api-key", ("lob_", "lob-"), f"(?:live|test)_{HEX}{{35}}"),
    keyed("finicity-client-secret", ("finicity",), "[a-z0-9]{20}", needs_digit=True),
    keyed("freshbooks-access-token", ("freshbooks",), "[a-z0-9]{64}"),
    token("mapbox-secret-token", r"sk\.eyJ[\w-]{50,400}\.[\w-]{20,100}", ("sk.eyj",)),
    keyed("mapbox-api-token", ("mapbox",), r"pk\.[a-z0-9]{60}\.[a-z0-9]{22}"),
    keyed("dropbox-api-token", ("dropbox",), "[a-z0-9]{15}", needs_digit=True),
    keyed(
        "dropbox-long-lived-api-token",
        ("dropbox",),
        r"[a-z0-9]{11}AAAAAAAAAA[\w=-]{43}",
    ),
    token(
        "dropbox-short-lived-api-token", r"sl\.[\w-]{130,160}", ("sl.",), entropy=4.0
    ),
    keyed("confluent-secret-key", ("confluent",), "[a-z0-9]{64}"),
    keyed("ngrok-auth-token", ("ngrok",), "[0-9A-Za-z]{25,30}_[0-9A-Za-z]{15,30}"),
    token(
        "gateway-api-key",
        "wdn_(?:live|test)_[0-9a-z]{16}_[0-9A-Za-z]{20,120}",
        ("wdn_live_", "wdn_test_"),
    ),
    # The management API's tokens (accounts/tokens.py).
    token("gateway-management-token", r"wmt_[0-9a-f]{16}_[\w-]{43}", ("wmt_",)),
]

# Formats that are not one service's tokens.
GENERIC_FORMATS = [
    # The BEGIN line only: ``secrets`` extends each finding to its END line.
    raw(
        "private-key",
        r"(-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)",
        ("private key",),
    ),
    token(
        "jwt",
        r"ey[A-Za-z0-9_-]{10,8000}\.ey[A-Za-z0-9_/\\-]{10,16000}\.(?:[A-Za-z0-9_/\\+-]"
        r"{10,8000}={0,2})?",
        ("eyj",),
    ),
    raw(
        "connection-string-password",
        r"://(?:[^\s:/@'\"`<>]{1,64}):([^\s/@'\"`<>]{1,128})@(?=[\w.\[-])",
        ("://",),
        confidence=0.9,
    ),
    raw(
        "curl-auth-user",
        r"curl(?:[^\n]|\\\n){0,400}?\s(?:-u|--user)[ \t]{1,4}['\"]?[^\s'\":]{1,100}:"
        r"([^\s'\"]{3,128})",
        ("curl",),
        confidence=0.85,
    ),
    keyed(
        "sidekiq-secret",
        ("bundle_enterprise__contribsys__com", "bundle_gems__contribsys__com"),
        f"{HEX}{{8}}:{HEX}{{8}}",
        entropy=0.0,
    ),
]

# The lowest Shannon entropy (bits per character) of a real value, per rule,
# from gitleaks' rule data (config/gitleaks.toml): a value below it is a
# sample or a placeholder, such as ``glc_111...``. Where a rule above names
# its own, the higher of the two applies.
GITLEAKS_ENTROPY = {
    "1password-secret-key": 3.8,
    "1password-service-account-token": 4.0,
    "adobe-client-secret": 2.0,
    "alibaba-access-key-id": 2.0,
    "alibaba-secret-key": 2.0,
    "artifactory-api-key": 4.5,
    "artifactory-reference-token": 4.5,
    "atlassian-api-token": 3.5,
    "aws-access-key-id": 3.0,  # gitleaks: aws-access-token
    "azure-ad-client-secret": 3.0,
    "cisco-meraki-api-key": 3.0,
    "clickhouse-cloud-api-secret-key": 3.0,
    "clojars-api-token": 2.0,
    "cloudflare-api-key": 2.0,
    "cloudflare-global-api-key": 2.0,
    "cloudflare-origin-ca-key": 2.0,
    "cohere-api-token": 4.0,
    "curl-auth-user": 2.0,
    "databricks-api-token": 3.0,
    "digitalocean-access-token": 3.0,
    "digitalocean-pat": 3.0,
    "discord-client-secret": 2.0,
    "doppler-api-token": 2.0,
    "duffel-api-token": 2.0,
    "dynatrace-api-token": 4.0,
    "easypost-api-token": 2.0,
    "easypost-test-api-token": 2.0,
    "etsy-access-token": 3.0,
    "facebook-access-token": 3.0,
    "facebook-page-access-token": 4.0,
    "facebook-secret": 3.0,
    "flutterwave-encryption-key": 2.0,
    "flutterwave-secret-key": 2.0,
    "flyio-access-token": 4.0,
    "gcp-api-key": 4.0,
    "github-app-token": 3.0,
    "github-fine-grained-pat": 3.0,
    "github-oauth": 3.0,
    "github-pat": 3.0,
    "github-refresh-token": 3.0,
    "gitlab-cicd-job-token": 3.0,
    "gitlab-deploy-token": 3.0,
    "gitlab-feature-flag-token": 3.0,  # gitleaks: gitlab-feature-flag-client-token
    "gitlab-feed-token": 3.0,
    "gitlab-incoming-mail-token": 3.0,
    "gitlab-kubernetes-agent-token": 3.0,
    "gitlab-oauth-app-secret": 3.0,
    "gitlab-pat": 3.0,
    "gitlab-pat-routable": 4.0,
    "gitlab-pipeline-trigger-token": 3.0,  # gitleaks: gitlab-ptt
    "gitlab-runner-registration-token": 3.0,  # gitleaks: gitlab-rrt
    "gitlab-runner-token": 3.0,  # gitleaks: gitlab-runner-authentication-token
    "gitlab-scim-token": 3.0,
    "grafana-api-key": 3.0,
    "grafana-cloud-api-token": 3.0,
    "grafana-service-account-token": 3.0,
    "hashicorp-vault-batch-token": 4.0,  # gitleaks: vault-batch-token
    "hashicorp-vault-service-token": 3.5,  # gitleaks: vault-service-token
    "heroku-api-key-v2": 4.0,
    "huggingface-access-token": 2.0,
    "huggingface-organization-api-token": 2.0,
    "infracost-api-token": 3.0,
    "intra42-client-secret": 3.0,
    "jwt": 3.0,
    "linear-api-key": 2.0,
    "linear-client-secret": 2.0,
    "linkedin-client-secret": 2.0,
    "maxmind-license-key": 4.0,
    "notion-api-token": 4.0,
    "npm-access-token": 2.0,
    "octopus-deploy-api-key": 3.0,
    "okta-access-token": 4.0,
    "openai-api-key": 3.0,
    "openshift-user-token": 3.5,
    "perplexity-api-key": 4.0,
    "plaid-secret-key": 3.5,
    "planetscale-api-token": 3.0,
    "planetscale-oauth-token": 3.0,
    "planetscale-password": 3.0,
    "postman-api-token": 3.0,
    "prefect-api-token": 2.0,
    "privateai-api-token": 3.0,
    "pulumi-api-token": 2.0,
    "pypi-upload-token": 3.0,
    "readme-api-token": 2.0,
    "rubygems-api-token": 2.0,
    "scalingo-api-token": 2.0,
    "sendgrid-api-token": 2.0,
    "sendinblue-api-token": 2.0,
    "sentry-access-token": 3.0,
    "sentry-org-token": 4.5,
    "sentry-user-token": 3.5,
    "shippo-api-token": 2.0,
    "shopify-access-token": 2.0,
    "shopify-custom-access-token": 2.0,
    "shopify-private-app-access-token": 2.0,
    "shopify-shared-secret": 2.0,
    "slack-app-token": 2.0,
    "slack-bot-token": 3.0,
    "slack-config-access-token": 2.0,
    "slack-config-refresh-token": 2.0,
    "slack-legacy-bot-token": 2.0,
    "slack-legacy-token": 2.0,
    "slack-legacy-workspace-token": 2.0,
    "slack-user-token": 2.0,
    "sourcegraph-access-token": 3.0,
    "square-access-token": 2.0,
    "stripe-access-token": 2.0,
    "sumologic-access-id": 3.0,
    "sumologic-access-token": 3.0,
    "terraform-cloud-api-token": 3.5,  # gitleaks: hashicorp-tf-api-token
    "twilio-api-key": 3.0,
}

# Values published on purpose, so no longer secret: the example Google API
# keys of Firebase's open-source SDKs, which gitleaks allowlists by value.
# Kept as SHA-256 digests so that the repository holds no key-shaped string.
PUBLISHED_SHA256 = frozenset(
    {
        "0b476bdf9acf2123d547b5ae76f1e59884d8ec9553ee0c47e9f31fd4768f3f3c",
        "2037abcaffb2b77785da716cf7ccff4ff4d00c4ea930db0167b7d71f50af7eb4",
        "27a9a42931dff7eb2f8434e20a9bce976ea364e7bee49187f19d5cfeca9c7045",
        "37f8f09bdf12c2f2eae4ead7273a62ddb0c23459cbf902892f282b57f7ed6619",
        "3a8b61d0f636b007840c0d40ba12bcf48465dc054cdc1a68704a33521d84b665",
        "3f370c9dd8225c63b5c77de1f785edc9712958f18bb612d5fa2e0ae33aeca682",
        "49f777db995e8260da7ca9ffdf0c08d66f0453e97ec967018baf2cdfe3b582d0",
        "4c98242dcadc8b29005c6b4aad526552d5ea1842149154c0694adeec75847583",
        "8731261cb72d86267a32a532ebd3df429e2144e5e4ced7e13568bc9e6c8fb1b1",
        "a19f89ab3555eac10c40741f6df79ecf0935998f15569f8db9d67bce0181fff6",
        "a6c814bc555ae62c7bd8b58ec07bf559c7ed3a009976a1e0acc9cef0d4473b41",
        "dc0fcf046c61640cbd1e8b999ada3262d722c2ca4bf42dceac999020ffdbb614",
        "e4a5542bb7fd7b67e943c71ad29c34b5972c9840597e7eda53e666f44d5da0b9",
        "ea9bb1082cf95663f5faca23b8b15ef2aa0fce0a5c6df9c32dcb85b2e0a4513d",
        "eb540d2b6ee2a0a47c5779bc8a0141784c6b753840d4c6f4e2428a6e86e9e0b1",
        "f56e323494a6ffc2064e7a955908957d84f0755e5f975dabd64328d0359a8f7c",
    }
)


def _with_gitleaks_entropy(rule: Rule) -> Rule:
    floor = GITLEAKS_ENTROPY.get(rule.id, 0.0)
    return replace(rule, entropy=floor) if floor > rule.entropy else rule


RULES: tuple[Rule, ...] = tuple(
    _with_gitleaks_entropy(rule)
    for rule in (
        *AI_PROVIDERS,
        *CLOUD,
        *CODE_HOSTING,
        *MESSAGING,
        *OBSERVABILITY,
        *PAYMENTS,
        *GENERIC_FORMATS,
    )
)
