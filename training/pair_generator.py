"""Generated training pairs for the hit verifier: near-misses by perturbation, paraphrases by noise.

Two sources of seed requests:

- real questions from the QQP *train* split, perturbed where a rule applies (swap two named
  entities, change a number or year, a time word, an antonym, a quantifier, add or drop a
  negation; and typos, casing, filler, aliases, punctuation for positives);
- cache-shaped requests built from templates over broad lexicons (about 150 verbs, people,
  companies, countries, topics), so that role swaps, for/against, time words, scope and versions
  are seen with many verbs and frames, not a few.

Every rule is written from the kinds of difference the verifier must catch (issue 11), not from
any evaluation pair: the fresh held-out set (``tests/data/cache_pairs_fresh.jsonl``) and the old
one are never read here.  Deterministic for a seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["GeneratedPair", "generate_pairs"]


@dataclass(frozen=True, slots=True)
class GeneratedPair:
    a: str
    b: str
    label: int
    kind: str


PEOPLE = [
    "Biden", "Trump", "Macron", "Merkel", "Scholz", "Modi", "Lula", "Putin", "Zelensky", "Sunak",
    "Starmer", "Meloni", "Trudeau", "Albanese", "Erdogan", "Xi Jinping", "Kishida", "Ramaphosa",
    "Elon Musk", "Jeff Bezos", "Tim Cook", "Satya Nadella", "Sundar Pichai", "Mark Zuckerberg",
    "Sam Altman", "Jensen Huang", "Lisa Su", "Warren Buffett", "Taylor Swift", "Beyonce",
    "Messi", "Ronaldo", "Serena Williams", "Novak Djokovic", "Rafael Nadal", "LeBron James",
    "Lewis Hamilton", "Max Verstappen", "Greta Thunberg", "the mayor", "the CEO", "the coach",
    "the senator", "the governor", "the referee", "the prime minister", "the president",
    "Alice", "Bob", "Carlos", "Dmitri", "Emma", "Fatima", "Grace", "Hiro", "Ines", "Jonas",
]
ORGS = [
    "Apple", "Microsoft", "Google", "Amazon", "Meta", "Netflix", "Tesla", "Nvidia", "Intel", "AMD",
    "Samsung", "Sony", "Nintendo", "IBM", "Oracle", "OpenAI", "Anthropic", "Spotify", "Uber", "Airbnb",
    "Boeing", "Airbus", "Toyota", "Ford", "Volkswagen", "BMW", "Shell", "BP", "Exxon", "Pfizer",
    "Moderna", "Walmart", "Target", "Nike", "Adidas", "Disney", "Warner Bros", "Coinbase", "Binance",
    "the SEC", "the FTC", "the EU Commission", "the Fed", "the ECB", "the IMF", "the World Bank",
    "NATO", "the UN", "the WHO", "FIFA", "UEFA", "the NBA", "the NFL", "Real Madrid", "Barcelona",
    "Manchester United", "Liverpool", "Arsenal", "Chelsea", "the Lakers", "the Celtics", "Ferrari",
    "Mercedes", "Red Bull", "the union", "the city council", "the school board", "the regulator",
]
PLACES = [
    "France", "Germany", "Italy", "Spain", "Poland", "Ukraine", "Russia", "China", "Japan", "India",
    "Brazil", "Mexico", "Canada", "Australia", "Nigeria", "Kenya", "Egypt", "Turkey", "Iran", "Israel",
    "Saudi Arabia", "South Korea", "North Korea", "Taiwan", "Vietnam", "Argentina", "Chile", "Norway",
    "Sweden", "the Netherlands", "Paris", "London", "Berlin", "Tokyo", "Madrid", "Rome", "Lagos",
    "Mumbai", "Toronto", "Sydney", "Chicago", "Texas", "California", "Florida", "Scotland", "Wales",
]
# Verbs whose two sides cannot be swapped without changing the meaning: (base, past).
ASYMMETRIC_VERBS = [
    ("fine", "fined"), ("sue", "sued"), ("acquire", "acquired"), ("beat", "beat"), ("hire", "hired"),
    ("fire", "fired"), ("criticise", "criticised"), ("endorse", "endorsed"), ("sanction", "sanctioned"),
    ("invade", "invaded"), ("overtake", "overtook"), ("replace", "replaced"), ("interview", "interviewed"),
    ("outbid", "outbid"), ("defeat", "defeated"), ("arrest", "arrested"), ("pay", "paid"), ("owe", "owed"),
    ("warn", "warned"), ("attack", "attacked"), ("defend", "defended"), ("support", "supported"),
    ("impeach", "impeached"), ("succeed", "succeeded"), ("trust", "trusted"), ("blame", "blamed"),
    ("copy", "copied"), ("cite", "cited"), ("investigate", "investigated"), ("ban", "banned"),
    ("block", "blocked"), ("tax", "taxed"), ("sponsor", "sponsored"), ("coach", "coached"),
    ("mentor", "mentored"), ("poach", "poached"), ("lobby", "lobbied"), ("host", "hosted"),
    ("visit", "visited"), ("reject", "rejected"), ("approve", "approved"), ("buy", "bought"),
    ("sell", "sold"), ("lend", "lent"), ("fund", "funded"), ("bail out", "bailed out"),
    ("outsell", "outsold"), ("outspend", "outspent"), ("overtake", "overtook"), ("eliminate", "eliminated"),
    ("knock out", "knocked out"), ("sign", "signed"), ("release", "released"), ("suspend", "suspended"),
    ("expel", "expelled"), ("punish", "punished"), ("reward", "rewarded"), ("praise", "praised"),
    ("insult", "insulted"), ("threaten", "threatened"), ("bribe", "bribed"), ("spy on", "spied on"),
    ("hack", "hacked"), ("infiltrate", "infiltrated"), ("outvote", "outvoted"), ("overrule", "overruled"),
    ("appoint", "appointed"), ("dismiss", "dismissed"), ("promote", "promoted"), ("demote", "demoted"),
    ("nominate", "nominated"), ("challenge", "challenged"), ("accuse", "accused"), ("forgive", "forgave"),
    ("betray", "betrayed"), ("follow", "followed"), ("lead", "led"), ("invite", "invited"),
    ("welcome", "welcomed"), ("snub", "snubbed"), ("sack", "sacked"), ("subpoena", "subpoenaed"),
    ("audit", "audited"), ("regulate", "regulated"), ("license", "licensed"), ("outrank", "outranked"),
    ("outperform", "outperformed"), ("undercut", "undercut"), ("out-earn", "out-earned"),
    ("absorb", "absorbed"), ("merge into", "merged into"), ("spin off from", "spun off from"),
    ("borrow from", "borrowed from"), ("learn from", "learned from"), ("rescue", "rescued"),
    ("tackle", "tackled"), ("foul", "fouled"), ("sue for libel", "sued for libel"), ("evict", "evicted"),
    ("deport", "deported"), ("extradite", "extradited"), ("boycott", "boycotted"), ("embargo", "embargoed"),
    ("annex", "annexed"), ("bomb", "bombed"), ("shell", "shelled"), ("blockade", "blockaded"),
    ("recognise", "recognised"), ("email", "emailed"),
    ("call", "called"), ("text", "texted"), ("kick", "kicked"), ("chase", "chased"), ("teach", "taught"),
    ("train", "trained"), ("employ", "employed"), ("supply", "supplied"), ("license to", "licensed to"),
    ("owe money to", "owed money to"), ("compensate", "compensated"), ("refund", "refunded"),
    ("invoice", "invoiced"), ("charge", "charged"), ("outmanoeuvre", "outmanoeuvred"),
    ("surpass", "surpassed"), ("dethrone", "dethroned"), ("upset", "upset"), ("thrash", "thrashed"),
    ("edge out", "edged out"), ("outscore", "outscored"), ("relegate", "relegated"),
]
SWAP_TEMPLATES = [
    "Why did {a} {past} {b}?", "Why did {a} {base} {b}", "How did {a} {base} {b}?",
    "When did {a} {base} {b}?", "Did {a} {base} {b}?", "Why has {a} {past} {b}?",
    "Explain why {a} {past} {b}", "What happened when {a} {past} {b}?", "Summarise how {a} {past} {b}",
    "{a} {past} {b}: what does it mean?", "Analyse the reasons {a} {past} {b}",
    "Will {a} {base} {b} again?", "Could {a} {base} {b} this year?", "Why would {a} {base} {b}?",
    "what made {a} {base} {b}", "Reasons {a} {past} {b}", "Is it true that {a} {past} {b}?",
    "Give me the background on why {a} {past} {b}", "how much did {a} {base} {b}",
]
PASSIVE_TEMPLATES = ["Why was {b} {past} by {a}?", "How was {b} {past} by {a}?", "When was {b} {past} by {a}?"]
DIRECTIONAL_TEMPLATES = [
    "flights from {x} to {y}", "How long is the train from {x} to {y}?", "Exports from {x} to {y} in 2023",
    "Cheapest way to send money from {x} to {y}", "Is {x} bigger than {y}?", "Why is {x} richer than {y}?",
    "Travel time from {x} to {y}", "How do I move from {x} to {y}?", "Migration from {x} to {y}",
    "Is {x} safer than {y}?", "Does {x} import gas from {y}?", "Why does {x} owe money to {y}?",
    "Energy exports of {x} to {y}", "Convert {cx} to {cy}", "Is {x} ahead of {y} in the rankings?",
]
CURRENCIES = ["dollars", "euros", "pounds", "yen", "rupees", "bitcoin", "pesos", "yuan", "francs"]
TIME_SWAPS = [
    ("this week", "last week"), ("this week", "next week"), ("last week", "next week"),
    ("this month", "last month"), ("this month", "next month"), ("this year", "last year"),
    ("this year", "next year"), ("today", "yesterday"), ("today", "tomorrow"), ("yesterday", "tomorrow"),
    ("before", "after"), ("since", "until"), ("this quarter", "last quarter"), ("tonight", "last night"),
    ("in the morning", "in the evening"), ("early", "late"), ("in the first half", "in the second half"),
    ("this season", "last season"), ("this weekend", "last weekend"), ("currently", "previously"),
    ("in the past", "in the future"), ("this decade", "last decade"),
    ("recent", "upcoming"), ("the previous", "the next"), ("pre-war", "post-war"), ("ago", "from now"),
]
ANTONYMS = [
    ("up", "down"), ("rise", "fall"), ("rising", "falling"), ("rose", "fell"), ("win", "lose"),
    ("won", "lost"), ("winning", "losing"), ("buy", "sell"), ("buying", "selling"), ("bought", "sold"),
    ("increase", "decrease"), ("increased", "decreased"), ("gain", "loss"), ("gains", "losses"),
    ("strengths", "weaknesses"), ("advantages", "disadvantages"), ("pros", "cons"), ("best", "worst"),
    ("cheapest", "most expensive"), ("cheap", "expensive"), ("import", "export"), ("imports", "exports"),
    ("inflow", "outflow"), ("bull", "bear"), ("bullish", "bearish"), ("approve", "reject"),
    ("approved", "rejected"), ("open", "close"), ("opened", "closed"), ("hire", "lay off"),
    ("hiring", "layoffs"), ("profit", "loss"), ("success", "failure"), ("succeed", "fail"),
    ("benefits", "risks"), ("support", "oppose"), ("supporters", "opponents"),
    ("highest", "lowest"), ("high", "low"), ("more", "less"), ("most", "least"), ("largest", "smallest"),
    ("biggest", "smallest"), ("fastest", "slowest"), ("easiest", "hardest"), ("easy", "hard"),
    ("good", "bad"), ("positive", "negative"), ("safe", "dangerous"), ("legal", "illegal"),
    ("strong", "weak"), ("stronger", "weaker"), ("expand", "shrink"), ("growth", "decline"),
    ("boom", "bust"), ("inflation", "deflation"), ("surplus", "deficit"), ("accept", "refuse"),
    ("allow", "forbid"), ("start", "stop"), ("started", "stopped"), ("arrive", "leave"),
    ("men", "women"), ("male", "female"), ("north", "south"), ("east", "west"),
    ("hot", "cold"), ("warm", "cold"), ("young", "old"), ("rich", "poor"), ("love", "hate"),
    ("add", "remove"), ("enable", "disable"), ("install", "uninstall"), ("upload", "download"),
    ("input", "output"), ("minimum", "maximum"), ("lower", "raise"), ("raised", "lowered"),
]
SCOPE_SWAPS = [
    ("the main cause", "all the causes"), ("the main reason", "all the reasons"),
    ("the top 3", "the top 10"), ("the top 5", "all"), ("one example", "every example"),
    ("the first", "every"), ("the biggest risk", "all the risks"), ("a single", "every"),
    ("in Europe", "worldwide"), ("in the US", "globally"), ("the best", "all the"),
    ("one", "all"), ("each", "one"), ("the key", "every"), ("the only", "one of the"),
    ("the most important", "every"), ("the leading", "all"),
]
FOR_AGAINST = [
    ("arguments for", "arguments against"), ("the case for", "the case against"),
    ("pros of", "cons of"), ("benefits of", "risks of"), ("reasons to support", "reasons to oppose"),
    ("advantages of", "disadvantages of"),
    ("evidence for", "evidence against"),
]
TOPICS = [
    "nuclear power", "a four-day work week", "universal basic income", "remote work", "rent control",
    "the carbon tax", "electric cars", "school uniforms", "banning TikTok", "raising the minimum wage",
    "the new stadium", "Brexit", "the merger", "the strike", "self-driving cars", "crypto regulation",
    "the AI act", "the housing plan", "the tariff", "the vaccine mandate", "the ceasefire",
    "lab-grown meat", "space tourism", "the Olympics bid", "open-source models", "the server rules change",
    "the new moderation policy", "daylight saving time", "the interest rate hike", "the budget",
]
TOPIC_TEMPLATES = [
    "What are the {x} {t}?", "Summarise the {x} {t}", "List the {x} {t}", "Explain the {x} {t}",
    "Give me the {x} {t} in short", "{x} {t}?", "Analyse the {x} {t}",
]
SCOPED_TEMPLATES = [
    "What was {s} of the 2008 financial crisis?", "Explain {s} of the strike at {o}",
    "Summarise {s} behind {o}'s layoffs", "What is {s} for {t}?", "List {s} of the outage at {o}",
    "Name {s} of {o}'s decline", "What are {s} players at {o}?", "Describe {s} problem with {t}",
]
VERSIONED = [
    ("iPhone", ["13", "14", "15", "16"]), ("Python", ["3.10", "3.11", "3.12", "3.13"]),
    ("GPT", ["3.5", "4", "4o", "5"]), ("Windows", ["7", "10", "11"]), ("PlayStation", ["3", "4", "5"]),
    ("Android", ["12", "13", "14", "15"]), ("macOS", ["13", "14", "15"]), ("Pixel", ["7", "8", "9"]),
    ("Galaxy S", ["22", "23", "24"]), ("Java", ["8", "11", "17", "21"]), ("Node", ["18", "20", "22"]),
    ("Ubuntu", ["20.04", "22.04", "24.04"]), ("Xbox Series", ["S", "X"]), ("Llama", ["2", "3"]),
    ("FIFA", ["23", "24"]), ("Call of Duty", ["MW2", "MW3"]), ("Kubernetes", ["1.28", "1.29", "1.30"]),
]
VERSION_TEMPLATES = [
    "What is new in {p} {v}?", "Is {p} {v} worth buying?", "Main problems with {p} {v}",
    "How do I upgrade to {p} {v}?", "Review of {p} {v}", "{p} {v} battery life", "Release date of {p} {v}",
]
ENTITY_TEMPLATES = [
    "What is {e}'s revenue?", "Why did {e} shares drop?", "Summarise {e}'s latest earnings call",
    "Who runs {e}?", "What does {e} plan for AI?", "Latest news about {e}", "Is {e} profitable?",
    "How many people work at {e}?", "What happened to {e} stock today?", "Analyse {e}'s strategy",
]
PLACE_TEMPLATES = [
    "What is the population of {p}?", "Inflation in {p} this year", "Who won the election in {p}?",
    "Best time to visit {p}", "Why are protests happening in {p}?", "Economy of {p}", "Weather in {p} today",
]
ASPECT_SWAPS = [
    ("revenue", "profit"), ("price", "availability"), ("causes", "effects"), ("symptoms", "treatment"),
    ("cost", "benefits"), ("history", "future"), ("population", "area"), ("salary", "bonus"),
    ("battery life", "screen size"), ("speed", "range"), ("ingredients", "calories"), ("rules", "penalties"),
    ("members", "leaders"), ("exports", "debt"), ("capital", "currency"), ("design", "price"),
    ("market share", "valuation"), ("unemployment rate", "inflation rate"), ("budget", "schedule"),
    ("attendance", "ticket price"), ("score", "lineup"), ("plot", "cast"), ("side effects", "dosage"),
]
ASPECT_TEMPLATES = [
    "What is the {x} of {e}?", "Summarise {e}'s {x}", "How has {e}'s {x} changed?", "{e} {x} in 2024",
    "Explain the {x} of the new policy", "Tell me about the {x} of {e}",
]
NEGATION_TEMPLATES = [
    ("Why did {e} {base} {f}?", "Why did {e} not {base} {f}?"), ("Does {e} support {t}?", "Does {e} not support {t}?"),
    ("Why is {t} popular?", "Why is {t} not popular?"), ("Why did the vote pass?", "Why did the vote fail?"),
    ("Can {e} survive without {f}?", "Can {e} survive with {f}?"), ("Is {t} legal?", "Is {t} not legal?"),
    ("Why does {e} still use {t}?", "Why does {e} no longer use {t}?"), ("Will {e} join {f}?", "Will {e} never join {f}?"),
    ("Why did {e} manage to {base} {f}?", "Why did {e} fail to {base} {f}?"),
]
FILLERS_BEFORE = [
    "hey bot, ", "hey, ", "please ", "quick question: ", "can you tell me ", "could you tell me ",
    "I was wondering ", "bot, ", "yo ", "hi! ", "so ", "ok so ", "question - ", "tell me ",
    "could you explain ", "I'd like to know ", "do you know ", "help: ", "@bot ", "pls ",
]
FILLERS_AFTER = [" please", " thanks", " thanks!", " pls", ", thank you", " ?", "??", " :)", " asap", " for me"]
ALIASES = [
    ("US", "United States"), ("USA", "United States"), ("U.S.", "US"), ("UK", "United Kingdom"),
    ("UK", "Britain"), ("EU", "European Union"), ("UN", "United Nations"), ("AI", "artificial intelligence"),
    ("ML", "machine learning"), ("Q1", "first quarter"), ("Q2", "second quarter"), ("Q3", "third quarter"),
    ("Q4", "fourth quarter"), ("the Fed", "the Federal Reserve"), ("NYC", "New York City"),
    ("WHO", "World Health Organization"), ("COVID", "the coronavirus pandemic"), ("2nd", "second"),
    ("1st", "first"), ("3rd", "third"), ("$5bn", "5 billion dollars"), ("5%", "5 percent"),
    ("GDP", "gross domestic product"), ("CEO", "chief executive"), ("NASA", "the US space agency"),
    ("LA", "Los Angeles"), ("SF", "San Francisco"), ("EV", "electric vehicle"), ("EVs", "electric cars"),
    ("govt", "government"), ("Dec", "December"), ("Jan", "January"), ("approx.", "approximately"),
    ("vs", "versus"), ("&", "and"), ("NHS", "National Health Service"), ("IPO", "initial public offering"),
    ("M&A", "mergers and acquisitions"), ("ECB", "European Central Bank"), ("PM", "prime minister"),
]
NEGATION_EDITS = [
    # Only where the negated form is natural English: "why" questions (whose answer depends on the
    # negation) and word pairs; a yes/no question's negation ("Is X legal?" / "Isn't X legal?") asks
    # the same thing, so it is never generated.
    (r"^Why is ", "Why isn't "), (r"^Why are ", "Why aren't "), (r"^Why does ", "Why doesn't "),
    (r"^Why do ", "Why don't "), (r"^Why did ", "Why didn't "), (r"^Why can ", "Why can't "),
    (r"^Why was ", "Why wasn't "), (r"^Why were ", "Why weren't "), (r"^Why should ", "Why shouldn't "),
    (r"^Why would ", "Why wouldn't "), (r"^Why will ", "Why won't "), (r"\bwithout\b", "with"),
    (r"\bwith\b", "without"), (r"\bnever\b", "ever"), (r"\bstill\b", "no longer"),
]
REWORDS = [
    ("What is", "What's"), ("How do I", "How can I"), ("How can I", "What is the way to"),
    ("Why is", "What is the reason"), ("Summarise", "Give me a summary of"), ("Explain", "Help me understand"),
    ("What are", "Which are"), ("How does", "In what way does"), ("best way", "best method"),
    ("learn", "study"), ("quickly", "fast"), ("buy", "purchase"), ("start", "begin"), ("big", "large"),
    ("help", "assist"), ("show", "display"), ("make money", "earn money"), ("job", "work"),
    ("car", "automobile"), ("movie", "film"), ("phone", "smartphone"), ("kids", "children"),
]
# One word (or phrase) for another of the same meaning in a question: the positives that balance the
# one-word near-misses (time, antonym, scope), so that the model learns *which* changed word changes
# the request, not that any changed word does.  General English, written from the kinds of rewording
# users make; no evaluation pair was read.
SYNONYMS = [
    ("fail", "collapse"), ("failed", "collapsed"), ("raise", "increase"), ("raised", "increased"), ("cut", "reduce"),
    ("cuts", "reductions"), ("fix", "resolve"), ("fix", "solve"), ("solve", "resolve"), ("error", "bug"),
    ("issue", "problem"), ("problems", "issues"), ("begin", "start"), ("started", "began"), ("end", "finish"),
    ("ended", "finished"), ("buy", "purchase"), ("bought", "purchased"), ("big", "large"), ("small", "little"),
    ("huge", "enormous"), ("fast", "quick"), ("quickly", "rapidly"), ("cheap", "inexpensive"),
    ("expensive", "costly"), ("help", "assist"), ("show", "display"), ("find out", "learn"), ("use", "utilise"),
    ("using", "utilising"), ("build", "construct"), ("built", "constructed"), ("choose", "pick"), ("pick", "select"),
    ("improve", "boost"), ("grow", "expand"), ("growth", "expansion"), ("drop", "decline"), ("dropped", "declined"),
    ("rise", "climb"), ("rose", "climbed"), ("fell", "dropped"), ("release", "launch"),
    ("released", "launched"), ("come out", "be released"), ("costs", "expenses"), ("money", "cash"),
    ("salary", "pay"), ("job", "position"), ("company", "firm"), ("companies", "firms"), ("business", "company"),
    ("government", "administration"), ("law", "legislation"), ("rules", "regulations"), ("rule", "regulation"),
    ("sue", "take to court"), ("sued", "took to court"), ("hire", "recruit"), ("hired", "recruited"),
    ("quit", "resign"), ("kids", "children"), ("child", "kid"), ("people", "folks"), ("doctor", "physician"),
    ("car", "vehicle"), ("cars", "vehicles"), ("film", "movie"), ("films", "movies"), ("phone", "mobile"),
    ("laptop", "notebook computer"), ("app", "application"), ("website", "site"), ("photo", "picture"),
    ("photos", "pictures"), ("house", "home"), ("trip", "journey"), ("answer", "reply"), ("ask", "enquire"),
    ("explain", "describe"), ("summary", "overview"), ("summarise", "sum up"), ("rundown", "summary"),
    ("main", "primary"), ("reason", "cause"), ("reasons", "causes"), ("effect", "impact"),
    ("effects", "consequences"), ("affect", "impact"), ("benefits", "advantages"), ("drawbacks", "disadvantages"),
    ("risks", "dangers"), ("healthy", "good for your health"), ("dangerous", "unsafe to use"), ("easy", "simple"),
    ("tough", "difficult"), ("wrong", "incorrect"), ("happy", "glad"), ("sad", "unhappy"), ("angry", "upset"),
    ("smart", "intelligent"), ("rich", "wealthy"), ("talk about", "discuss"), ("look for", "search for"),
    ("need", "require"), ("needs", "requires"), ("allow", "permit"), ("allowed", "permitted"),
    ("stop", "halt"), ("stopped", "halted"), ("delay", "postpone"), ("delayed", "postponed"), ("cancel", "call off"),
    ("cancelled", "called off"), ("invented", "came up with"), ("inventor of", "person who invented"),
    ("findings", "results"), ("way", "method"), ("ways", "methods"),
]
_CAPITALISED = re.compile(r"\b([A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)*)")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")


def _is_name(span: str) -> bool:
    """A capitalised span that is a name, not a capitalised common word ("Difference", "What")."""
    from wordfreq import zipf_frequency

    return len(span.split()) > 1 or zipf_frequency(span.casefold(), "en") < 4.3


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    candidates = [index for index, word in enumerate(words) if len(word) > 4 and word.isalpha()]
    if not candidates:
        return text
    index = rng.choice(candidates)
    word = words[index]
    at = rng.randrange(1, len(word) - 1)
    operation = rng.randrange(4)
    if operation == 0:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif operation == 1:
        word = word[:at] + word[at + 1 :]
    elif operation == 2:
        word = word[:at] + word[at] + word[at:]
    else:
        word = word[:at] + rng.choice("aeiourstnl") + word[at + 1 :]
    words[index] = word
    return " ".join(words)


def _surface_noise(text: str, rng: random.Random) -> str:
    """A positive: the same request with its surface changed (typos, casing, filler, punctuation)."""
    operations: list[Callable[[str], str]] = [
        lambda value: _typo(value, rng),
        lambda value: value.lower(),
        lambda value: value.upper() if len(value) < 60 else value.lower(),
        lambda value: rng.choice(FILLERS_BEFORE) + value[:1].lower() + value[1:],
        lambda value: value.rstrip("?.! ") + rng.choice(FILLERS_AFTER),
        lambda value: value.rstrip("?.!"),
        lambda value: "  ".join(value.split(" ")),
        lambda value: value.replace("?", "") + "?",
    ]
    for operation in rng.sample(operations, rng.choice((1, 1, 2, 3))):
        text = operation(text)
    return text


def _replace_word(text: str, old: str, new: str) -> str | None:
    pattern = re.compile(rf"(?<![\w-]){re.escape(old)}(?![\w-])", re.IGNORECASE)
    if not pattern.search(text):
        return None
    return pattern.sub(new, text, count=1)


def _perturbations_of_real(question: str, rng: random.Random) -> Iterator[GeneratedPair]:
    """Near-misses and paraphrases of one real question, where a rule applies."""
    spans = [match for match in _CAPITALISED.finditer(question) if match.start() > 0 and _is_name(match.group(1))]
    if len(spans) >= 2:
        first, second = rng.sample(spans, 2)
        if first.group(1).casefold() != second.group(1).casefold():
            low, high = sorted((first, second), key=lambda match: match.start())
            swapped = question[: low.start()] + high.group(1) + question[low.end() : high.start()] \
                + low.group(1) + question[high.end() :]
            symmetric = re.search(r"\b(and|or|between|vs\.?|versus|compare|&)\b",
                                  question[low.start() : high.end()], re.IGNORECASE)
            yield GeneratedPair(question, swapped, 1 if symmetric else 0, "real_entity_swap")
    if spans:
        span = rng.choice(spans)
        replacement = rng.choice(ORGS + PLACES + PEOPLE)
        if replacement.casefold() != span.group(1).casefold():
            yield GeneratedPair(question, question[: span.start()] + replacement + question[span.end() :], 0,
                                "real_entity_change")
    number = _NUMBER.search(question)
    if number:
        value = number.group(0)
        digits = value.replace(",", "").replace(".", "")
        new_digits = str(int(digits) + rng.choice((1, 2, 5, 10, -1))) if digits.isdigit() else digits + "1"
        if new_digits.lstrip("-") and new_digits != digits and not new_digits.startswith("-"):
            yield GeneratedPair(question, question[: number.start()] + new_digits + question[number.end() :], 0,
                                "real_number")
    yield from _word_swaps(question, rng)
    yield GeneratedPair(question, _surface_noise(question, rng), 1, "real_noise")


def _word_swaps(question: str, rng: random.Random) -> Iterator[GeneratedPair]:
    for table, kind in ((TIME_SWAPS, "real_time"), (ANTONYMS, "real_antonym"), (SCOPE_SWAPS, "real_scope")):
        order = list(table)
        rng.shuffle(order)
        for left, right in order[:40]:
            old, new = (left, right) if rng.random() < 0.5 else (right, left)
            changed = _replace_word(question, old, new)
            if changed is not None and changed != question:
                yield GeneratedPair(question, changed, 0, kind)
                break
    for old, new in rng.sample(NEGATION_EDITS, len(NEGATION_EDITS)):
        changed = re.sub(old, new, question, count=1)
        if changed != question:
            yield GeneratedPair(question, changed, 0, "real_negation")
            break
    for short, long in rng.sample(ALIASES, len(ALIASES)):
        old, new = (short, long) if rng.random() < 0.5 else (long, short)
        changed = _replace_word(question, old, new) if old[0].isalnum() else None
        if changed is not None and changed != question:
            yield GeneratedPair(question, changed, 1, "real_alias")
            break
    for old, new in rng.sample(REWORDS, len(REWORDS)):
        changed = _replace_word(question, old, new)
        if changed is not None and changed != question:
            yield GeneratedPair(question, changed, 1, "real_reword")
            break


def _dense_word_swaps(questions: Sequence[str], rng: random.Random, *, per_kind: int) -> Iterator[GeneratedPair]:
    """Time, antonym and scope swaps over every real question that has such a word, ``per_kind`` each.

    A 7 % sample of real questions holds only a few hundred of them (one per question at most), too
    few for the model to learn that one changed word of this kind changes the request.
    """
    for table, kind in ((TIME_SWAPS, "dense_time"), (ANTONYMS, "dense_antonym"), (SCOPE_SWAPS, "dense_scope")):
        for question, changed in _one_word_swaps(table, questions, rng, count=per_kind):
            if changed.casefold() != question.casefold():
                yield GeneratedPair(question, changed, 0, kind)


def _dense_synonyms(questions: Sequence[str], rng: random.Random, *, count: int) -> Iterator[GeneratedPair]:
    """Up to ``count`` positives: a real question with one word of the :data:`SYNONYMS` table swapped."""
    for question, changed in _one_word_swaps(SYNONYMS, questions, rng, count=count):
        yield GeneratedPair(question, changed, 1, "dense_synonym")


def _one_word_swaps(
    table: Sequence[tuple[str, str]], questions: Sequence[str], rng: random.Random, *, count: int
) -> Iterator[tuple[str, str]]:
    """Up to ``count`` questions that hold a word of ``table``, each with its first such word
    replaced by one of that word's partners."""
    partners: dict[str, list[str]] = {}
    for left, right in table:
        partners.setdefault(left.casefold(), []).append(right)
        partners.setdefault(right.casefold(), []).append(left)
    words = sorted(partners, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])", re.IGNORECASE)
    having = [question for question in questions if pattern.search(question)]
    for question in rng.sample(having, min(count, len(having))):
        match = pattern.search(question)
        assert match is not None
        new = rng.choice(partners[match.group(1).casefold()])
        yield question, question[: match.start()] + new + question[match.end() :]


def _two(rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    first, second = rng.sample(list(pool), 2)
    return first, second


def _role_swaps(rng: random.Random) -> Iterator[GeneratedPair]:
    base, past = rng.choice(ASYMMETRIC_VERBS)
    a, b = _two(rng, rng.choice((PEOPLE, ORGS, PLACES, PEOPLE + ORGS)))
    template = rng.choice(SWAP_TEMPLATES)
    stored = template.format(a=a, b=b, base=base, past=past)
    yield GeneratedPair(stored, template.format(a=b, b=a, base=base, past=past), 0, "role_swap")
    passive = rng.choice(PASSIVE_TEMPLATES)
    active = "Why did {a} {base} {b}?" if passive.startswith("Why") else \
        ("How did {a} {base} {b}?" if passive.startswith("How") else "When did {a} {base} {b}?")
    yield GeneratedPair(active.format(a=a, b=b, base=base), passive.format(a=a, b=b, past=past), 1,
                        "active_passive")
    yield GeneratedPair(active.format(a=a, b=b, base=base), passive.format(a=b, b=a, past=past), 0,
                        "passive_swap")
    x, y = _two(rng, PLACES)
    cx, cy = _two(rng, CURRENCIES)
    directional = rng.choice(DIRECTIONAL_TEMPLATES)
    yield GeneratedPair(directional.format(x=x, y=y, cx=cx, cy=cy), directional.format(x=y, y=x, cx=cy, cy=cx), 0,
                        "direction_swap")


def _template_pairs(rng: random.Random) -> Iterator[GeneratedPair]:
    topic, entity = rng.choice(TOPICS), rng.choice(ORGS + PEOPLE)
    left, right = rng.choice(FOR_AGAINST)
    template = rng.choice(TOPIC_TEMPLATES)
    yield GeneratedPair(template.format(x=left, t=topic), template.format(x=right, t=topic), 0, "for_against")
    old, new = rng.choice(SCOPE_SWAPS)
    scoped = rng.choice(SCOPED_TEMPLATES)
    yield GeneratedPair(scoped.format(s=old, o=entity, t=topic), scoped.format(s=new, o=entity, t=topic), 0, "scope")
    product, versions = rng.choice(VERSIONED)
    first, second = _two(rng, versions)
    versioned = rng.choice(VERSION_TEMPLATES)
    yield GeneratedPair(versioned.format(p=product, v=first), versioned.format(p=product, v=second), 0, "version")
    other = rng.choice([name for name in ORGS if name != entity])
    entity_template = rng.choice(ENTITY_TEMPLATES)
    yield GeneratedPair(entity_template.format(e=entity), entity_template.format(e=other), 0, "entity")
    here, there = _two(rng, PLACES)
    place_template = rng.choice(PLACE_TEMPLATES)
    yield GeneratedPair(place_template.format(p=here), place_template.format(p=there), 0, "place")
    aspect, other_aspect = rng.choice(ASPECT_SWAPS)
    aspect_template = rng.choice(ASPECT_TEMPLATES)
    yield GeneratedPair(aspect_template.format(x=aspect, e=entity), aspect_template.format(x=other_aspect, e=entity),
                        0, "aspect")
    positive, negative = rng.choice(NEGATION_TEMPLATES)
    base, _ = rng.choice(ASYMMETRIC_VERBS)
    values = {"e": entity, "f": other, "t": topic, "base": base}
    pair = (positive.format(**values), negative.format(**values))
    yield GeneratedPair(*(pair if rng.random() < 0.5 else pair[::-1]), 0, "negation")
    year = rng.randrange(1990, 2027)
    year_template = rng.choice(("What happened to {e} in {y}?", "{e} results {y}", "Summarise {e}'s {y} annual report",
                                "Who won the league in {y}?", "Key events of {y} for {e}"))
    yield GeneratedPair(year_template.format(e=entity, y=year),
                        year_template.format(e=entity, y=year + rng.choice((-2, -1, 1, 2))), 0, "year")
    amount = rng.choice((2, 3, 5, 10, 20, 50, 100, 250))
    number_template = rng.choice(("Is a {n} dollar budget enough for {t}?", "Top {n} facts about {t}",
                                  "What happens if rates rise {n}%?", "{n} ways {e} could grow"))
    yield GeneratedPair(number_template.format(n=amount, t=topic, e=entity),
                        number_template.format(n=amount * rng.choice((2, 3, 10)), t=topic, e=entity), 0, "number")


def _template_positive(rng: random.Random) -> GeneratedPair:
    """A paraphrase of a template request: noise, alias, or the same roles reworded."""
    base, past = rng.choice(ASYMMETRIC_VERBS)
    a, b = _two(rng, PEOPLE + ORGS)
    stored = rng.choice(SWAP_TEMPLATES).format(a=a, b=b, base=base, past=past)
    topic = rng.choice(TOPICS)
    options = [
        (stored, _surface_noise(stored, rng)),
        (f"What are the arguments for {topic}?", f"Why do people support {topic}?"),
        (f"Summarise the risks of {topic}", f"What are the dangers of {topic}?"),
        (f"Explain the pros and cons of {topic}", f"Explain the cons and pros of {topic}"),
        (f"Compare {a} and {b}", f"Compare {b} and {a}"),
        (f"What is the difference between {a} and {b}?", f"What's the difference between {b} and {a}?"),
        (f"Why did {a} {base} {b}?", f"What led {a} to {base} {b}?"),
        (f"{a} vs {b}: who is better?", f"Who is better, {b} or {a}?"),
    ]
    query_stored, query = rng.choice(options)
    for short, long in rng.sample(ALIASES, 3):
        changed = _replace_word(query, short, long) if short[0].isalnum() else None
        if changed:
            query = changed
            break
    return GeneratedPair(query_stored, query, 1, "template_positive")


def _twins(pairs: Sequence[GeneratedPair], rng: random.Random) -> Iterator[GeneratedPair]:
    """Same-frame positives for every near-miss: one side of each negative against its own noisy copy.

    Without them the model learns "two requests that differ in one word are different requests"
    from the frame alone, and then refuses a casing change or a typo of the very same request.
    With them the only thing that separates a negative from its twin is the word that changed.
    """
    for pair in [pair for pair in pairs if pair.label == 0]:
        side = pair.a if rng.random() < 0.5 else pair.b
        twin = _surface_noise(side, rng)
        if twin != side:
            yield GeneratedPair(side, twin, 1, "twin")


def generate_pairs(
    real_questions: Sequence[str], *, per_question: float, templates: int, seed: int, word_swaps: int = 1500,
    synonyms: int = 0,
) -> list[GeneratedPair]:
    """Perturbations of a share of ``real_questions``, up to ``word_swaps`` one-word swaps of each kind
    (time, antonym, scope) over all of them, up to ``synonyms`` one-word synonym positives, and
    ``templates`` rounds of template pairs."""
    rng = random.Random(seed)
    pairs: list[GeneratedPair] = []
    chosen = rng.sample(list(real_questions), min(len(real_questions), int(len(real_questions) * per_question)))
    for question in chosen:
        pairs.extend(_perturbations_of_real(question, rng))
    pairs.extend(_dense_word_swaps(real_questions, rng, per_kind=word_swaps))
    if synonyms:  # drawn after the others, so that runs without them keep their pairs
        pairs.extend(_dense_synonyms(real_questions, random.Random(seed + 1), count=synonyms))
    for _ in range(templates):
        pairs.extend(_role_swaps(rng))
        pairs.extend(_template_pairs(rng))
        pairs.append(_template_positive(rng))
        pairs.append(_template_positive(rng))
    pairs.extend(_twins(pairs, rng))
    unique = {(pair.a, pair.b): pair for pair in pairs if pair.a != pair.b}
    result = list(unique.values())
    rng.shuffle(result)
    return result
