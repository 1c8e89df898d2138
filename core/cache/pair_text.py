"""What the hit verifier does to a (query, stored request) pair before and instead of its model.

Six rewrites make the two texts agree where they certainly mean the same, so the cross-encoder
judges the words that matter and not their spelling:

- :func:`expand_contractions`: "isn't" is "is not" (only the unambiguous contractions);
- :func:`canonical_aliases`: "Q3" is "third quarter", "US" is "United States" (a short, certain table);
- :func:`american_spelling`: "favour" is "favor", "analyse" is "analyze" (a closed list);
- :func:`active_voice`: "why was VMware acquired by Broadcom" is "why did Broadcom acquire VMware";
- :func:`canonical_question`: a fronted phrase goes to the end ("In Python, how do I ..." is "how do
  I ... in Python"), an inverted negation is put back ("why can't I" is "why can I not", not "why
  cannot I"), and "what caused X to V" is "why did X V";
- :func:`align_typos`: a word one side misspells (not a word the model's vocabulary knows, within one
  or two edits of a word of the other side) takes the other side's spelling.

And two vetoes that are certain without a model:

- :func:`is_role_swap`: the two requests use exactly the same words, but two of them trade places
  across the words between them ("why did Apple sue Samsung" / "why did Samsung sue Apple").  A
  symmetric connector between them ("X and Y", "X or Y", "X vs Y") is not a swap, and neither is a
  moved phrase ("in Python, how do I ..." / "how do I ... in Python").
- :func:`is_contrast`: the two requests differ in one place only, and there one says the opposite
  of the other: a negating prefix ("legal" / "illegal", "safe" / "unsafe"), or a pair of the
  contrast table (time: this / last / next, before / after; direction: rise / fall, buy / sell, win /
  lose, for / against; scope: one / all, person / people; comparison: more / less, best / worst).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Collection
from pathlib import Path

from core.engine.gazetteer import PLACES

__all__ = [
    "active_voice", "align_typos", "american_spelling", "canonical_aliases", "canonical_question", "expand_contractions", "is_contrast", "is_role_swap", "prepare_pair",
]

# -- contractions ---------------------------------------------------------------------------------
_IRREGULAR = {"won't": "will not", "can't": "cannot", "shan't": "shall not", "ain't": "is not"}
_CONTRACTION = re.compile(
    r"\b(won't|can't|shan't|ain't|\w+n't|(?:what|who|where|when|why|how|it|that|there|here|he|she)'s"
    r"|\w+'re|\w+'ve|\w+'ll|i'm)\b",
    re.IGNORECASE,
)
_SUFFIXES = (("n't", " not"), ("'s", " is"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'m", " am"))


def expand_contractions(text: str) -> str:
    """``text`` with its unambiguous English contractions spelled out (``"Why isn't"`` -> ``"Why is not"``).

    The ambiguous ones are left alone: a noun's ``'s`` (possessive or "is") and ``'d`` ("had" or "would").
    """
    return _CONTRACTION.sub(_expanded, text.replace("\u2019", "'"))


def _expanded(match: re.Match[str]) -> str:
    word = match.group(0)
    lowered = word.casefold()
    if lowered in _IRREGULAR:
        expansion = _IRREGULAR[lowered]
        return expansion.capitalize() if word[0].isupper() else expansion
    for suffix, replacement in _SUFFIXES:
        if lowered.endswith(suffix):
            return word[: -len(suffix)] + replacement
    return word


# -- aliases --------------------------------------------------------------------------------------
# Short forms matched case-sensitively ("US" the country, not "us"); each becomes its long form.
_ALIASES = {
    "US": "United States", "U.S.": "United States", "USA": "United States", "U.S.A.": "United States",
    "UK": "United Kingdom", "U.K.": "United Kingdom", "EU": "European Union", "UN": "United Nations",
    "NYC": "New York City", "AI": "artificial intelligence", "JS": "JavaScript", "Fed": "Federal Reserve",
    "GDP": "gross domestic product", "WHO": "World Health Organization", "ECB": "European Central Bank",
    "NHS": "National Health Service", "IPO": "initial public offering", "EV": "electric vehicle",
    "EVs": "electric vehicles", "UAE": "United Arab Emirates", "IMF": "International Monetary Fund",
    "WTO": "World Trade Organization", "SEC": "Securities and Exchange Commission",
    "FDA": "Food and Drug Administration", "CEO": "chief executive", "CFO": "chief financial officer",
    "LA": "Los Angeles", "SF": "San Francisco", "F1": "Formula 1", "PS5": "PlayStation 5", "PS4": "PlayStation 4",
    "TS": "TypeScript", "k8s": "Kubernetes", "ML": "machine learning", "LLM": "large language model",
    "LLMs": "large language models", "govt": "government", "gov't": "government", "approx.": "approximately",
    "vs.": "versus", "vs": "versus", "w/": "with", "w/o": "without", "pls": "please", "plz": "please",
    "thx": "thanks", "Covid": "COVID-19", "COVID": "COVID-19", "covid": "COVID-19", "COVID-19": "COVID-19",
    # places, offices and institutions
    "NY": "New York", "NZ": "New Zealand", "HK": "Hong Kong", "POTUS": "president of the United States",
    "SCOTUS": "Supreme Court", "GOP": "Republican Party", "MP": "member of parliament", "MPs": "members of parliament",
    "CTO": "chief technology officer", "COO": "chief operating officer", "VP": "vice president",
    "HR": "human resources", "R&D": "research and development", "M&A": "mergers and acquisitions",
    "WW2": "World War II", "WWII": "World War II", "WW1": "World War I", "WWI": "World War I",
    # economics and computing
    "CPI": "consumer price index", "ETF": "exchange-traded fund", "ETFs": "exchange-traded funds",
    "VAT": "value added tax", "YoY": "year over year", "YTD": "year to date", "OS": "operating system",
    "DB": "database", "repo": "repository", "repos": "repositories", "config": "configuration",
    # chat shorthand
    "info": "information", "dept": "department", "intl": "international", "tmrw": "tomorrow",
    "yday": "yesterday", "msg": "message", "pic": "picture", "pics": "pictures", "vid": "video",
    "vids": "videos", "b/c": "because", "bc": "because", "ASAP": "as soon as possible", "asap": "as soon as possible",
    "Xmas": "Christmas", "bday": "birthday",
    # months and weekdays
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June", "Jul": "July",
    "Aug": "August", "Sep": "September", "Sept": "September", "Oct": "October", "Nov": "November",
    "Dec": "December", "Mon": "Monday", "Tue": "Tuesday", "Tues": "Tuesday", "Wed": "Wednesday",
    "Thu": "Thursday", "Thurs": "Thursday", "Fri": "Friday",
    # agencies, leagues and hardware
    "NATO": "North Atlantic Treaty Organization", "NASA": "National Aeronautics and Space Administration",
    "FBI": "Federal Bureau of Investigation", "CIA": "Central Intelligence Agency",
    "EPA": "Environmental Protection Agency", "IRS": "Internal Revenue Service", "CDC": "Centers for Disease Control",
    "OPEC": "Organization of the Petroleum Exporting Countries", "NYSE": "New York Stock Exchange",
    "ISS": "International Space Station", "BoE": "Bank of England", "BoJ": "Bank of Japan", "BOJ": "Bank of Japan",
    "RBI": "Reserve Bank of India", "DOJ": "Department of Justice", "NFL": "National Football League",
    "NBA": "National Basketball Association", "NHL": "National Hockey League", "MLB": "Major League Baseball",
    "GPU": "graphics card", "GPUs": "graphics cards", "CPU": "processor", "CPUs": "processors",
}
_ALIAS = re.compile(r"(?<![\w.])(" + "|".join(re.escape(short) for short in sorted(_ALIASES, key=len, reverse=True))
                    + r")(?![\w])")
_QUARTER_ALIAS = re.compile(r"\bQ([1-4])\b", re.IGNORECASE)
_ORDINALS = {"1": "first", "2": "second", "3": "third", "4": "fourth"}


_QUARTER_AFTER = re.compile(r"\b(in|for|during|of|over|since|by|until|before|after)\s+Q([1-4])\b", re.IGNORECASE)


def canonical_aliases(text: str) -> str:
    """``text`` with its well-known short forms spelled out (``"Q3"`` -> ``"third quarter"``, ``"in
    Q3"`` -> ``"in the third quarter"``)."""
    text = _QUARTER_AFTER.sub(lambda match: f"{match.group(1)} the {_ORDINALS[match.group(2)]} quarter", text)
    text = _QUARTER_ALIAS.sub(lambda match: f"{_ORDINALS[match.group(1)]} quarter", text)
    return _ALIAS.sub(lambda match: _ALIASES[match.group(1)], text)


# -- British and American spelling ----------------------------------------------------------------
# Whole words, any case (a capital stays a capital); not "labour": Labour is also a party's name.
_AMERICAN = {
    "favour": "favor", "favours": "favors", "favourite": "favorite", "favourites": "favorites",
    "colour": "color", "colours": "colors", "honour": "honor", "behaviour": "behavior", "neighbour": "neighbor",
    "neighbours": "neighbors", "rumour": "rumor", "rumours": "rumors", "humour": "humor",
    "centre": "center", "centres": "centers", "theatre": "theater", "metre": "meter", "metres": "meters",
    "litre": "liter", "litres": "liters", "fibre": "fiber", "defence": "defense", "offence": "offense",
    "licence": "license", "programme": "program", "programmes": "programs", "catalogue": "catalog",
    "analyse": "analyze", "analysed": "analyzed", "analysing": "analyzing", "organise": "organize",
    "organised": "organized", "organisation": "organization", "organisations": "organizations",
    "recognise": "recognize", "realise": "realize", "apologise": "apologize", "summarise": "summarize",
    "summarised": "summarized", "prioritise": "prioritize", "optimise": "optimize", "optimisation": "optimization",
    "criticise": "criticize", "criticised": "criticized", "minimise": "minimize", "maximise": "maximize",
    "travelling": "traveling", "travelled": "traveled", "cancelled": "canceled", "modelling": "modeling",
    "grey": "gray", "tyre": "tire", "tyres": "tires", "aluminium": "aluminum", "mum": "mom",
    "aeroplane": "airplane", "jewellery": "jewelry", "cheque": "check", "enquiry": "inquiry",
}
_BRITISH = re.compile(r"\b(" + "|".join(sorted(_AMERICAN, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def american_spelling(text: str) -> str:
    """``text`` with common British spellings in their American form ("favour" -> "favor")."""
    return _BRITISH.sub(_american, text)


def _american(match: re.Match[str]) -> str:
    word = match.group(1)
    american = _AMERICAN[word.casefold()]
    return american.capitalize() if word[0].isupper() else american


# -- passive voice --------------------------------------------------------------------------------
# Irregular participles: participle -> (base form, simple past).  Regular ones are undone by rule.
_IRREGULAR_VERBS = {
    "beaten": ("beat", "beat"), "bought": ("buy", "bought"), "caught": ("catch", "caught"), "taken": ("take", "took"),
    "given": ("give", "gave"), "written": ("write", "wrote"), "won": ("win", "won"), "built": ("build", "built"),
    "made": ("make", "made"), "sold": ("sell", "sold"), "shot": ("shoot", "shot"), "stolen": ("steal", "stole"),
    "chosen": ("choose", "chose"), "eaten": ("eat", "ate"), "seen": ("see", "saw"), "known": ("know", "knew"),
    "driven": ("drive", "drove"), "broken": ("break", "broke"), "hit": ("hit", "hit"), "led": ("lead", "led"),
    "held": ("hold", "held"), "paid": ("pay", "paid"), "sent": ("send", "sent"), "told": ("tell", "told"),
    "thrown": ("throw", "threw"), "found": ("find", "found"), "sung": ("sing", "sang"), "drawn": ("draw", "drew"),
    "hidden": ("hide", "hid"), "bitten": ("bite", "bit"), "forgotten": ("forget", "forgot"), "begun": ("begin", "began"),
    "done": ("do", "did"), "got": ("get", "got"), "gotten": ("get", "got"), "kept": ("keep", "kept"),
    "left": ("leave", "left"), "lost": ("lose", "lost"), "met": ("meet", "met"), "put": ("put", "put"),
    "read": ("read", "read"), "run": ("run", "ran"), "said": ("say", "said"), "set": ("set", "set"),
    "shut": ("shut", "shut"), "spent": ("spend", "spent"), "struck": ("strike", "struck"), "taught": ("teach", "taught"),
    "brought": ("bring", "brought"), "thought": ("think", "thought"), "fought": ("fight", "fought"),
    "sought": ("seek", "sought"), "understood": ("understand", "understood"), "overtaken": ("overtake", "overtook"),
    "forgiven": ("forgive", "forgave"), "shaken": ("shake", "shook"), "woken": ("wake", "woke"), "worn": ("wear", "wore"),
    "torn": ("tear", "tore"), "sworn": ("swear", "swore"), "blown": ("blow", "blew"), "grown": ("grow", "grew"),
    "flown": ("fly", "flew"), "shown": ("show", "showed"), "ridden": ("ride", "rode"), "risen": ("rise", "rose"),
    "spoken": ("speak", "spoke"), "frozen": ("freeze", "froze"), "fed": ("feed", "fed"), "fled": ("flee", "fled"),
    "dealt": ("deal", "dealt"), "sunk": ("sink", "sank"), "swept": ("sweep", "swept"), "wound": ("wind", "wound"),
}
#: Irregular pasts and participles -> base form ("taught" -> "teach"), for comparing verbs.
_BASE_FORMS = {form: base for participle, (base, past) in _IRREGULAR_VERBS.items() for form in (participle, past)
               if form != base}  # "put", "hit", "read": the same in every tense
_IRREGULAR_BASES = frozenset(base for base, _ in _IRREGULAR_VERBS.values())
_PASSIVE = re.compile(
    r"^(?P<wh>why|how|when|where|how come)\s+(?:was|were)\s+(?P<patient>.+?)\s+(?P<verb>[a-z]+)\s+by\s+(?P<agent>[^?.!]+?)"
    r"(?P<end>\s*[?.!]*)$",
    re.IGNORECASE,
)
_PASSIVE_WHO = re.compile(
    r"^(?P<who>who)\s+(?:was|were)\s+(?P<patient>.+?)\s+(?P<verb>[a-z]+)\s+by(?P<end>\s*[?.!]*)$", re.IGNORECASE)

# "By whom was X painted?", "By which studio was X made?" and "X was painted by whom?"
_PASSIVE_BY_WHOM = re.compile(
    r"^by\s+(?P<who>whom|(?:which|what)\s+[^?.!]+?)\s+(?:was|were)\s+(?P<patient>.+?)\s+(?P<verb>[a-z]+)(?P<end>\s*[?.!]*)$"
    r"|^(?P<patient2>.+?)\s+(?:was|were)\s+(?P<verb2>[a-z]+)\s+by\s+whom(?P<end2>\s*[?.!]*)$",
    re.IGNORECASE,
)

_CLAUSE_WORD = re.compile(r"\b(?:was|were|is|are|that|what|which|who|whom|how|why|when|where)\b", re.IGNORECASE)


def active_voice(text: str, *, known: Collection[str]) -> str:
    """``text`` in the active voice when it is a passive question of a common shape; else ``text``.

    "Why was X acquired by Y?" -> "Why did Y acquire X?"; "Who was X designed by?", "By whom was X
    designed?" and "X was designed by whom?" -> "Who designed X?"; "By which firm was X designed?" ->
    "Which firm designed X?".
    The participle must be a verb: irregular ones from a table, regular ones ("-ed") undone to a base
    form the model's vocabulary knows (``known``), else kept as they are ("did Y ejected X").
    """
    match = _PASSIVE.match(text.strip())
    if match:
        forms = _verb_forms(match["verb"].casefold(), known=known)
        if forms:
            return f"{match['wh']} did {match['agent'].strip()} {forms[0]} {match['patient'].strip()}{match['end'] or '?'}"
    match = _PASSIVE_WHO.match(text.strip())
    if match:
        forms = _verb_forms(match["verb"].casefold(), known=known)
        if forms:
            return f"{match['who']} {forms[1]} {match['patient'].strip()}{match['end'] or '?'}"
    match = _PASSIVE_BY_WHOM.match(text.strip())
    if match:
        patient, verb = match["patient"] or match["patient2"], match["verb"] or match["verb2"]
        who = "who" if match["who"] is None or match["who"].casefold() == "whom" else match["who"]
        forms = _verb_forms(verb.casefold(), known=known)
        if forms and not _CLAUSE_WORD.search(patient):  # one noun phrase, not "what" or a clause
            return f"{who} {forms[1]} {patient.strip()}{match['end'] or match['end2'] or '?'}"
    return text


def _verb_forms(participle: str, *, known: Collection[str]) -> tuple[str, str] | None:
    """(base form, simple past) of a past participle, or None when it is not one."""
    if participle in _IRREGULAR_VERBS:
        return _IRREGULAR_VERBS[participle]
    if not participle.endswith("ed") or len(participle) < 4:  # "sued" -> "sue"
        return None
    stem = participle[:-2]
    candidates = [participle[:-1], stem]  # "acquired" -> "acquire"; "blocked" -> "block"
    if stem.endswith("i"):
        candidates.append(stem[:-1] + "y")  # "denied" -> "deny"
    if len(stem) > 2 and stem[-1] == stem[-2]:
        candidates.append(stem[:-1])  # "banned" -> "ban"
    for base in candidates:
        if base in known:
            return base, participle
    return participle, participle  # "did Y ejected X": the role-swap veto compares stems


# -- question shape -------------------------------------------------------------------------------
_PRONOUNS = "i|you|we|they|he|she|it|there"
_AUXILIARIES = "do|does|did|is|are|was|were|can|could|will|would|should|shall|have|has|had|must|may|might"
# "cannot I" / "is not it": a contraction spelled out in a question whose subject follows the verb.
_INVERTED_NOT = re.compile(rf"\b(?:(?P<can>can)not|(?P<aux>{_AUXILIARIES}) not) (?P<pronoun>{_PRONOUNS})\b", re.IGNORECASE)
_FRONTED = re.compile(
    r"^(?P<front>(?:in|on|for|with|at|during|using|from|under|within|inside|across|among|without|via|as of|as)"
    r"\b[^,?!.]{1,60}?|yesterday|today|tomorrow|tonight|now|right now|currently|recently|lately|so far"
    r"|these days|nowadays|this (?:morning|afternoon|evening|week|month|year)),\s*(?P<rest>(?:how|what|why|when|where|who|whom|which|whose|is|are|was|were|do|does|did"
    r"|can|could|should|would|will|has|have)\b[^?!]*?)(?P<end>\s*[?.!]*)$",
    re.IGNORECASE,
)
# "What caused X to V" asks why X did V; the "to" marks where X ends, so no parser is needed.  Only
# verbs whose "to" is followed by a verb ("what drove prices to record highs" is not "why did ...").
_CAUSE = re.compile(
    r"^what\s+(?P<verb>caused|causes|prompted|prompts|forced|forces)\s+(?!to\b)(?P<subject>[^?!]+?)"
    r"\s+to\s+(?P<rest>[a-z][^?!]*?)(?P<end>\s*[?.!]*)$",
    re.IGNORECASE,
)


# "this year's Super Bowl" is "the Super Bowl this year": the time phrase goes to the end.
_TIME_POSSESSIVE = re.compile(
    r"\b(?P<time>(?:this|last|next|the previous|the coming) (?:year|week|month|season|quarter|weekend)"
    r"|today|yesterday|tomorrow|tonight)['\u2019]s(?P<space>\s+|\b)",
    re.IGNORECASE,
)
_END = re.compile(r"\s*[?.!]*$")
# "Adobe's acquisition by Figma" is "the acquisition of Adobe by Figma": an action noun after a
# possessive, with its agent after "by".
_NOUN_BY = re.compile(
    r"\b(?P<owner>[A-Z][\w&.-]*(?: [A-Z][\w&.-]*)?)['\u2019]s (?P<noun>[a-z]+(?:tion|sion|ment|al|ure|over))(?= by\b)")


def canonical_question(text: str) -> str:
    """``text`` with four shapes of a question said one way.

    "In Python, how do I read a CSV?" -> "how do I read a CSV in Python?" (a fronted phrase moved to
    the end); "Why cannot I log in?" -> "Why can I not log in?" (an inverted negation put back after
    its subject); "What caused SVB to fail?" -> "Why did SVB fail?" (and "what causes" -> "why
    does/do"); "Who won this year's Super Bowl?" -> "Who won the Super Bowl this year?" (a time
    possessive, when there is one, moved to the end).  Anything else is returned as it is.
    """
    text = _INVERTED_NOT.sub(
        lambda match: f"{match['can'] or match['aux']} {match['pronoun']} not", text)
    text = _NOUN_BY.sub(lambda match: f"the {match['noun']} of {match['owner']}", text)
    possessives = list(_TIME_POSSESSIVE.finditer(text))
    if len(possessives) == 1 and possessives[0]["space"]:  # one, before its noun ("last year's?" is none)
        possessive = possessives[0]
        body = text[: possessive.start()] + "the " + text[possessive.end():]
        end = _END.search(body)
        assert end is not None  # the pattern matches the empty string at the end
        text = f"{body[: end.start()]} {possessive['time'].lower()}{end.group(0)}"
    match = _FRONTED.match(text.strip())
    if match:
        rest = match["rest"]
        text = f"{rest[0].upper()}{rest[1:]} {match['front'][0].lower()}{match['front'][1:]}{match['end'] or '?'}"
    match = _CAUSE.match(text.strip())
    if match:
        subject = match["subject"]
        if match["verb"].casefold().endswith("s"):  # "causes": present tense
            plural = subject.casefold().endswith("s") and not subject.casefold().endswith("ss")
            auxiliary = "do" if plural else "does"
        else:
            auxiliary = "did"
        text = f"Why {auxiliary} {subject} {match['rest']}{match['end'] or '?'}"
    return text


# -- typos ----------------------------------------------------------------------------------------
_LETTERS = re.compile(r"[A-Za-z]+")


def _edits(first: str, second: str, *, limit: int) -> int:
    """Optimal string alignment distance (a transposition is one edit), or ``limit + 1`` when over it."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, char in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, other in enumerate(second, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == second[j - 2] and first[i - 2] == other:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _within(first: str, second: str, edits: int) -> bool:
    return _edits(first, second, limit=edits) <= edits


def align_typos(query: str, stored: str, *, known: Collection[str]) -> tuple[str, str]:
    """Give a misspelt word of either side the other side's spelling.

    A word is taken for a typo when it has at least four letters, the other side lacks it, the
    model's vocabulary does not know it (``known``: lower-case whole words) and exactly one word of
    the other side, absent from this side, starts with the same letter, is not its opposite
    ("deflation" / "inflation", "asynchronous" / "synchronous", "uninstall" / "install": a prefix
    is a word, not a slip) and is within one edit (two for words of seven letters or
    more, when that word is a known one).  Two unknown words two edits apart are more often two
    names than a name and its typo ("Shopify" / "Spotify").  The query is aligned first, so two
    unknown spellings meet at the stored one.
    """
    query = _aligned(query, stored, known=known)
    return query, _aligned(stored, query, known=known)


def _aligned(text: str, other: str, *, known: Collection[str]) -> str:
    words = {word.casefold() for word in _LETTERS.findall(text)}
    other_words = {word.casefold() for word in _LETTERS.findall(other)}
    targets = [word for word in other_words - words if len(word) >= 4]

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        lowered = word.casefold()
        if len(lowered) < 4 or lowered in known or lowered in other_words:
            return word
        long_word = len(lowered) >= 7
        close = [target for target in targets if target[0] == lowered[0] and not _opposed(lowered, target)
                 and _within(lowered, target, 2 if long_word and target in known else 1)]
        return close[0] if len(close) == 1 else word

    return _LETTERS.sub(replace, text)


# -- role swaps -----------------------------------------------------------------------------------
_TOKEN = re.compile(r"[a-z0-9]+|'s\b|[&/,:;]")  # a possessive "'s" is a word of its own: it can move
_FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for from with about into onto over under is are was were be been being do does did "
    "has have had will would can could should may might must shall i me my we our you your it its this that these "
    "those there here what which who whom whose why how when where whether if than then so very just really please "
    "hey bot tell know 's".split()
)
_SYMMETRIC = frozenset({"and", "or", "vs", "versus", "&", "/", ",", "between", "nor"})


_RELATIONS = frozenset({"to", "from", "into", "onto", "for", "of", "over", "against", "than", "by", "on", "at", "under"})
"""Words that relate the two runs on either side of them: "a string to an int" / "an int to a string"."""


def _stem(word: str) -> str:
    """A crude stem for comparing two requests' words: "ejected", "eject" -> "eject"; "acquire",
    "acquired" -> "acquir" (a passive turned active keeps its participle when the base form is unknown)."""
    return re.sub(r"(?:ed|e|d)$", "", word) if len(word) >= 4 else word


# A country's adjective is its name for the role-swap test: "Canada taxes US residents" and "the US
# taxes Canadian residents" trade the two countries.  ("English" and "Polish" are left out: a
# language, a verb.)
_DEMONYMS = {
    "american": "united states", "british": "united kingdom", "canadian": "canada", "chinese": "china",
    "japanese": "japan", "german": "germany", "french": "france", "indian": "india", "russian": "russia",
    "ukrainian": "ukraine", "mexican": "mexico", "brazilian": "brazil", "italian": "italy", "spanish": "spain",
    "korean": "korea", "australian": "australia", "israeli": "israel", "iranian": "iran", "turkish": "turkey",
    "european": "europe", "african": "africa", "dutch": "netherlands", "swiss": "switzerland", "swedish": "sweden",
    "norwegian": "norway", "irish": "ireland", "greek": "greece", "egyptian": "egypt", "pakistani": "pakistan",
    "vietnamese": "vietnam", "taiwanese": "taiwan", "argentine": "argentina", "argentinian": "argentina",
    "nigerian": "nigeria", "venezuelan": "venezuela", "cuban": "cuba", "palestinian": "palestine",
    "syrian": "syria", "afghan": "afghanistan", "scottish": "scotland", "welsh": "wales", "saudi": "saudi arabia",
    "danish": "denmark", "finnish": "finland", "belgian": "belgium", "austrian": "austria", "portuguese": "portugal",
}
_ARTICLES = frozenset({"a", "an", "the"})


def _swap_words(text: str, *, verbs: bool = False) -> list[str]:
    """The words the role-swap test compares: stemmed, countries for their adjectives, no articles;
    with ``verbs``, an irregular past as its base form first ("taught" as "teach")."""
    words: list[str] = []
    for word in _TOKEN.findall(text.casefold()):
        if word not in _ARTICLES:
            word = _BASE_FORMS.get(word, word) if verbs else word
            words += [_stem(part) for part in _DEMONYMS.get(word, word).split()]
    return words


_WH = frozenset({"who", "whom", "what", "which"})
_COPULAS = frozenset({"is", "are", "was", "were", "be", "been", "has", "have", "had"})
_DO = frozenset({"do", "does", "did", "will", "would", "can", "could", "should"})


def _is_question_swap(first: list[str], second: list[str]) -> bool:
    """A question about the subject against one about the object: "who taught Socrates" / "who did
    Socrates teach", "which team beat Italy" / "which team did Italy beat".  The same words (the
    auxiliary aside), and one word, the verb, moved from right after the question word to after the
    noun phrase."""
    first, second = [word for word in first if word not in _DO], [word for word in second if word not in _DO]
    if first == second or sorted(first) != sorted(second) or not first or first[0] not in _WH:
        return False
    for subject_question, object_question in ((first, second), (second, first)):
        # the question word may take a noun: "which team"
        for start in (1, 2):
            if len(subject_question) <= start + 1 or subject_question[:start] != object_question[:start]:
                continue
            verb, rest = subject_question[start], subject_question[start + 1 :]
            if verb in _COPULAS:
                continue  # "what is the capital" / "what capital is": no subject and object
            for position in range(1, len(rest) + 1):
                noun_phrase = rest[:position]
                if any(word in _COPULAS or word in _RELATIONS for word in noun_phrase):
                    break  # "what capital is of France": no noun phrase between
                if object_question[start:] == [*noun_phrase, verb, *rest[position:]]:
                    return True
    return False


def is_role_swap(query: str, stored: str) -> bool:
    """True when the two requests have the same words (up to a crude stem, articles aside, a country
    for its adjective) and two runs of content words trade places across a word that relates them:
    ``L A M B R`` against ``L B M A R``, where ``M`` holds a content word or the words between hold a
    relation ("to", "from", "than"), and not only symmetric connectors ("and", "or", "vs"); or when
    one asks about the subject and the other about the object (:func:`_is_question_swap`)."""
    if _is_question_swap(_swap_words(query, verbs=True), _swap_words(stored, verbs=True)):
        return True
    first = _swap_words(query)
    second = _swap_words(stored)
    if first == second or sorted(first) != sorted(second):
        return False
    content = [(index, word) for index, word in enumerate(first) if word not in _FUNCTION_WORDS and word not in _SYMMETRIC]
    words = [word for _, word in content]
    other = [word for word in second if word not in _FUNCTION_WORDS and word not in _SYMMETRIC]
    if words == other:
        return False  # only function words moved
    # L and R are the common prefix and suffix; the differing middle must be A M B against B M A
    start = next(index for index, (mine, theirs) in enumerate(zip(words, other, strict=True)) if mine != theirs)
    end = len(words) - next(index for index, (mine, theirs) in enumerate(zip(words[::-1], other[::-1], strict=True))
                            if mine != theirs)
    for j in range(start + 1, end):
        for k in range(j, end):
            a, m, b = words[start:j], words[j:k], words[k:end]
            if a == b or b + m + a != other[start:end]:
                continue
            between = first[content[j - 1][0] + 1 : content[k][0]]
            if any(word in _SYMMETRIC for word in between) and all(
                    word in _SYMMETRIC or word in _FUNCTION_WORDS for word in between):
                continue  # "X and Y" / "Y and X"
            if m or any(word in _RELATIONS for word in between):
                return True
    return False


# -- tense ----------------------------------------------------------------------------------------
_FUTURE = frozenset({"will", "shall", "gonna"})
_PAST = frozenset({"did", "was", "were", "has", "have", "had"})
_TENSE_WORDS = frozenset({"so", "far", "yet", "already", "now", "still", "ever", "soon", "going", "to", "be", "been",
                          "is", "are", "am"})


def is_tense_contrast(query: str, stored: str) -> bool:
    """True when one request asks about the future and the other about the past, and they are
    otherwise the same request ("How will the DMA affect Apple?" / "How has the DMA affected Apple so
    far?"): the same words, verbs in their base form, auxiliaries and "so far", "yet" aside.  Present
    against past is left to the model: "why is X falling" and "why did X fall" are often one request."""
    first, second = _TOKEN.findall(query.casefold()), _TOKEN.findall(stored.casefold())
    if {_tense(first), _tense(second)} != {"future", "past"}:
        return False
    return _tenseless(first) == _tenseless(second)


def _tense(words: list[str]) -> str | None:
    if any(word in _FUTURE for word in words) or " going to " in f" {' '.join(words)} ":
        return "future"
    past = any(word in _PAST or (word in _BASE_FORMS and word not in _IRREGULAR_BASES) for word in words)
    return "past" if past or any(word.endswith("ed") and len(word) > 4 for word in words) else None


def _tenseless(words: list[str]) -> list[str]:
    return sorted(_stem(re.sub(r"ied$", "y", _BASE_FORMS.get(word, word))) for word in words
                  if word not in _FUTURE and word not in _PAST and word not in _TENSE_WORDS and word not in _ARTICLES)


# -- contrasts ------------------------------------------------------------------------------------
_CONTRAST_GROUPS = [
    # time
    {"this", "last", "next", "previous", "coming"}, {"before", "after", "during"}, {"yesterday", "today", "tomorrow", "tonight"},
    {"past", "future", "current"}, {"earlier", "later"}, {"early", "late"}, {"morning", "evening", "afternoon", "night"},
    {"weekly", "monthly", "yearly", "daily"}, {"start", "end"}, {"started", "ended"}, {"begin", "finish"},
    {"first", "last", "final"}, {"old", "new"}, {"oldest", "newest", "latest"}, {"older", "newer"},
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "weekend"},
    {"mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "weekends"},
    {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"},
    {"spring", "summer", "autumn", "winter"}, {"day", "week", "month", "year", "quarter", "decade", "century"},
    {"days", "weeks", "months", "years", "quarters", "decades", "centuries"}, {"am", "pm"}, {"since", "until"},
    # direction and antonyms
    {"rise", "fall", "drop"}, {"rising", "falling", "dropping", "declining"}, {"rose", "fell", "dropped"}, {"rises", "falls", "drops"},
    {"up", "down"}, {"increase", "decrease", "cut"}, {"increasing", "decreasing"}, {"increased", "decreased"}, {"increases", "decreases"},
    {"raise", "lower", "cut"}, {"raised", "lowered"}, {"gain", "loss", "lose"}, {"gains", "losses"}, {"gained", "lost"},
    {"win", "lose"}, {"won", "lost"}, {"wins", "losses"}, {"winning", "losing"}, {"winner", "loser"}, {"winners", "losers"},
    {"buy", "sell"}, {"buying", "selling"}, {"bought", "sold"}, {"buyers", "sellers"}, {"buyer", "seller"},
    {"import", "export"}, {"imports", "exports"}, {"importing", "exporting"}, {"imported", "exported"},
    {"profit", "loss"}, {"profits", "losses"}, {"hire", "fire"}, {"hiring", "firing", "layoffs"}, {"hired", "fired"},
    {"open", "close", "closed"}, {"opening", "closing"}, {"opened", "closed"}, {"expand", "shrink"}, {"expanding", "shrinking"},
    {"growing", "shrinking"}, {"grow", "shrink"}, {"growth", "decline"}, {"strong", "weak"}, {"stronger", "weaker"},
    {"strengthen", "weaken"}, {"high", "low"}, {"higher", "lower"}, {"highest", "lowest"}, {"more", "less", "fewer"},
    {"most", "least", "fewest"}, {"best", "worst"}, {"better", "worse"}, {"good", "bad"}, {"easy", "hard", "difficult"},
    {"easier", "harder"}, {"easiest", "hardest"}, {"cheap", "expensive"}, {"cheaper", "pricier"}, {"cheapest", "priciest"},
    {"fast", "slow"}, {"faster", "slower"}, {"fastest", "slowest"}, {"big", "small"}, {"bigger", "smaller"},
    {"biggest", "smallest"}, {"largest", "smallest"}, {"larger", "smaller"}, {"rich", "poor"}, {"richest", "poorest"},
    {"safe", "dangerous"}, {"safest", "deadliest", "dangerous"}, {"hot", "cold"}, {"hotter", "colder"}, {"warm", "cool"},
    {"north", "south", "east", "west"}, {"northern", "southern", "eastern", "western"}, {"left", "right"},
    {"inside", "outside"}, {"above", "below"}, {"over", "under"}, {"from", "to"}, {"into", "out"},
    {"add", "remove", "delete"}, {"enable", "disable"}, {"install", "uninstall"}, {"upgrade", "downgrade"},
    {"encrypt", "decrypt"}, {"encode", "decode"}, {"push", "pull"}, {"send", "receive"}, {"upload", "download"},
    {"accept", "reject"}, {"accepted", "rejected"}, {"approve", "reject"}, {"approved", "rejected", "blocked"},
    {"allow", "ban", "forbid"}, {"allowed", "banned"}, {"support", "oppose"}, {"supports", "opposes"},
    {"supporters", "opponents", "critics"}, {"for", "against"}, {"pros", "cons"}, {"advantages", "disadvantages"},
    {"benefits", "risks", "drawbacks", "downsides"}, {"positive", "negative"}, {"success", "failure"},
    {"succeed", "fail"}, {"succeeded", "failed"}, {"true", "false"}, {"right", "wrong"}, {"agree", "disagree"},
    {"like", "dislike", "hate"}, {"love", "hate"}, {"friend", "enemy"}, {"allies", "enemies", "rivals"},
    {"men", "women"}, {"man", "woman"}, {"boys", "girls"}, {"male", "female"}, {"adults", "children", "kids"},
    # the two sides of a relation
    {"lend", "borrow"}, {"lending", "borrowing"}, {"lender", "borrower"}, {"lenders", "borrowers"},
    {"supply", "demand"}, {"employer", "employee"}, {"employers", "employees", "workers"},
    {"landlord", "tenant"}, {"landlords", "tenants"}, {"teacher", "student"}, {"teachers", "students"},
    {"parent", "child"}, {"parents", "children"}, {"doctor", "patient"}, {"doctors", "patients"},
    {"client", "server"}, {"frontend", "backend"}, {"sender", "recipient"}, {"input", "output"},
    {"inbound", "outbound"}, {"debit", "credit"}, {"assets", "liabilities"}, {"top", "bottom"},
    {"husband", "wife"}, {"mother", "father"}, {"son", "daughter"}, {"brother", "sister"},
    {"minimum", "maximum"}, {"min", "max"}, {"bull", "bear"}, {"bullish", "bearish"}, {"long", "short"},
    {"attack", "defend"}, {"criticize", "criticise", "praise", "defend"}, {"criticized", "criticised", "praised", "defended"},
    {"criticism", "praise"}, {"promote", "demote"}, {"promoted", "demoted"}, {"offense", "defense"}, {"offensive", "defensive"}, {"home", "away"}, {"entry", "exit"},
    {"arrive", "leave", "depart"}, {"arrivals", "departures"}, {"join", "leave", "quit"}, {"joined", "left"},
    {"legal", "illegal", "banned"}, {"surplus", "deficit"}, {"surpluses", "deficits"}, {"hawkish", "dovish"},
    {"hawks", "doves"}, {"inflation", "deflation"}, {"inflationary", "deflationary"}, {"appreciate", "depreciate"},
    {"appreciation", "depreciation"}, {"overweight", "underweight"}, {"overbought", "oversold"},
    {"outperform", "underperform"}, {"outperformed", "underperformed"}, {"inflows", "outflows"},
    {"inflow", "outflow"}, {"upside", "downside"}, {"boom", "bust"}, {"shortage", "glut"}, {"shortages", "gluts"},
    {"horizontal", "vertical"}, {"horizontally", "vertically"}, {"promoted", "relegated"}, {"promotion", "relegation"},
    {"pass", "fail"}, {"passed", "failed"}, {"majority", "minority"},
    # scope
    {"one", "all", "every", "each", "any", "both"}, {"person", "people"}, {"main", "all", "other"},
    {"only", "all", "every"}, {"some", "none", "no", "all"}, {"only", "also"}, {"cause", "causes"}, {"reason", "reasons"},
    {"always", "never", "sometimes", "often", "rarely"}, {"everyone", "nobody", "someone"},
    # negation and modality
    {"with", "without"}, {"ever", "never"}, {"still", "no"}, {"can", "cannot"},
]
_CONTRASTS = frozenset(frozenset((a, b)) for group in _CONTRAST_GROUPS for a in group for b in group if a != b)
_NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "non-", "anti")
_PHRASES = ((re.compile(r"\bin favou?r of\b"), "for"), (re.compile(r"\bup to date\b"), "current"))


def is_contrast(query: str, stored: str) -> bool:
    """True when the two requests differ in one place only, and there one word says the opposite of
    the other (a negating prefix, or a pair of the contrast table).  Any other difference is left
    to the model."""
    first, second = _contrast_words(query), _contrast_words(stored)
    differences = [op for op in difflib.SequenceMatcher(a=first, b=second, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(differences) != 1:
        return False
    tag, i1, i2, j1, j2 = differences[0]
    removed, added = first[i1:i2], second[j1:j2]
    if tag == "replace" and _other_place(" ".join(removed), " ".join(added)):
        return True  # "weather in Austria" / "weather in Australia"
    if tag == "replace" and len(removed) == len(added) <= 3:  # "import from" / "export to"
        return all(_opposed(old, new) for old, new in zip(removed, added, strict=True))
    if tag in {"insert", "delete"}:  # "is not" / "is", "no longer" / "still"
        return (added or removed) in (["not"], ["no"], ["never"], ["no", "longer"])
    return False


# The gazetteer's places and every US state (the gazetteer lists only some: it settles entity types)
_US_STATES = frozenset("""arkansas connecticut delaware idaho indiana iowa kansas kentucky louisiana maine maryland
    mississippi missouri montana nebraska oklahoma tennessee utah vermont wisconsin wyoming""".split()) | {
    "new hampshire", "north dakota", "rhode island", "south carolina", "south dakota", "west virginia"}
_PLACES = frozenset(place.casefold() for place in PLACES) | _US_STATES
#: Two names of one place: not a change of place.
_SAME_PLACE = [frozenset(group) for group in (
    {"america", "united states"}, {"britain", "great britain", "united kingdom"}, {"czechia", "czech republic"},
    {"kiev", "kyiv"}, {"korea", "south korea"},
)]


def _other_place(first: str, second: str) -> bool:
    """Both are well-known places (``core.engine.gazetteer.PLACES``: countries, regions, large cities)
    and not two names of one."""
    return (first != second and first in _PLACES and second in _PLACES
            and not any(first in group and second in group for group in _SAME_PLACE))


def _contrast_words(text: str) -> list[str]:
    lowered = expand_contractions(text).casefold()
    for pattern, replacement in _PHRASES:
        lowered = pattern.sub(replacement, lowered)
    return [word for word in _TOKEN.findall(lowered) if word not in _GRAMMAR_WORDS]


@functools.cache
def _wordnet_antonyms() -> frozenset[frozenset[str]]:
    """WordNet 3.0's antonym pairs with their inflections (``data/antonyms.txt``, made by
    ``training/wordnet_antonyms.py``): the long tail the table above does not list."""
    text = (Path(__file__).parent / "data" / "antonyms.txt").read_text()
    return frozenset(frozenset(line.split()) for line in text.splitlines() if line and not line.startswith("#"))


_GRAMMAR_WORDS = frozenset("a an the is are was were be been do does did".split())
"""Left out of the comparison: "who is the richest person" / "who are the richest people" differ in one place."""


def _opposed(first: str, second: str) -> bool:
    pair = frozenset((first, second))
    if pair in _CONTRASTS or pair in _wordnet_antonyms():
        return True
    short, long = sorted((first, second), key=len)
    if len(short) >= 3 and any(long == prefix + short for prefix in _NEGATING_PREFIXES):
        return True
    # "asynchronous", "decentralize", "misinformation": only on longer words ("await" is not "wait")
    return len(short) >= 6 and any(long == prefix + short for prefix in ("a", "de", "mis"))


def prepare_pair(query: str, stored: str, *, known: Collection[str]) -> tuple[str, str]:
    """Both texts as the verifier's model sees them: contractions and aliases spelled out, passive
    questions turned active, question shapes said one way, typos aligned."""
    query, stored = _spelled(query), _spelled(stored)
    query, stored = _joined(query, stored), _joined(stored, query)
    # typos first: a misspelt participle ("inerviewed") would keep its passive question passive
    query, stored = align_typos(query, stored, known=known)
    return _reshaped(query, known=known), _reshaped(stored, known=known)


_HYPHENATED = re.compile(r"\b([A-Za-z]+)-([A-Za-z]+)\b")


def _joined(text: str, other: str) -> str:
    """``text`` with a hyphenated word written as one where ``other`` writes it so ("e-mail", "email")."""
    words = {word.casefold() for word in _LETTERS.findall(other)}
    return _HYPHENATED.sub(lambda match: match[1] + match[2] if (match[1] + match[2]).casefold() in words
                           else match[0], text)


def _spelled(text: str) -> str:
    return canonical_aliases(expand_contractions(text))


def _reshaped(text: str, *, known: Collection[str]) -> str:
    return canonical_question(active_voice(american_spelling(text), known=known))
