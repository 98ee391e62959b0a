"""A service handler's CPU work in pure Python: JSON round trip, regexes, dict and str work.

``cpu_sum_squares`` is one tight arithmetic loop; real handlers mostly parse, match, count and
format. This is the lecture's CPU-bound lesson on work that stresses the parts free-threading
makes costlier (reference counting and allocation of many small objects, dict and str
operations, the regex and json C accelerators) rather than integer arithmetic.
Documents come from a seeded ``random.Random`` so every run and interpreter does the same work.
"""

import functools
import hashlib
import json
import random
import re

from harness import CheckFailed, Context, Workload, paired

COUNT = 20  # requests per run
WORDS = ("thread", "process", "lock", "queue", "event", "loop", "future", "task", "pipe",
         "socket", "signal", "memory", "gil", "core", "race", "mutex", "barrier", "await")
DOMAINS = ("example.org", "mail.test", "corp.example", "uni.edu")
EMAIL_RE = re.compile(r"([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)")
DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})")
WORD_RE = re.compile(r"[a-z]+")


def make_tasks(params: dict, ctx: Context) -> list[tuple[int, int]]:
    return [(seed, params["docs"]) for seed in range(params["count"])]


def documents(seed: int, count: int) -> list[dict]:
    """``count`` nested records with free text, as a request body might carry."""
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        name = rng.choice(WORDS) + str(rng.randrange(1000))
        body = " ".join(rng.choice(WORDS).capitalize() if j % 7 == 0 else rng.choice(WORDS)
                        for j in range(rng.randrange(20, 60)))
        docs.append({
            "id": f"{seed}-{i}",
            "user": {"name": name, "contact": f"Write to {name}@{rng.choice(DOMAINS)} today"},
            "created": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                       f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
            "tags": rng.sample(WORDS, 3),
            "score": rng.random() * 100,
            "body": body,
        })
    return docs


def handle(task: tuple[int, int]) -> str:
    """Decode a request, index and aggregate it, encode the response; returns its sha256."""
    seed, count = task
    docs = json.loads(json.dumps(documents(seed, count)))
    words: dict[str, int] = {}
    domains: dict[str, int] = {}
    months: dict[str, float] = {}
    for doc in docs:
        for word in WORD_RE.findall(doc["body"].lower()):
            words[word] = words.get(word, 0) + 1
        user, domain = EMAIL_RE.search(doc["user"]["contact"]).groups()
        domains[domain] = domains.get(domain, 0) + 1
        year, month, *_ = DATE_RE.match(doc["created"]).groups()
        months[f"{year}/{month}"] = months.get(f"{year}/{month}", 0.0) + doc["score"]
        doc["title"] = "{}: {}".format(user.upper(), " ".join(doc["body"].split()[:5]).title())
    summary = {
        "n": len(docs),
        "top": sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:10],
        "domains": domains,
        "months": {k: round(v, 6) for k, v in sorted(months.items())},
        "titles": [d["title"] for d in docs[:20]],
    }
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()


@functools.lru_cache(maxsize=256)
def expected(task: tuple[int, int]) -> str:
    """The same handler run once, sequentially, in the checking process (cached per task)."""
    return handle(task)


def check(tasks: list, results: list, shared) -> None:
    for task, got in paired(tasks, results):
        if got != expected(tuple(task)):
            raise CheckFailed(f"handle{task} = {got!r}, expected {expected(tuple(task))!r}")


WORKLOAD = Workload(
    name="cpu_realistic",
    kind="cpu",
    description="json round trip, regexes, dict and str work on seeded documents (a handler)",
    sizes={
        "tiny": {"docs": 5, "count": 4},
        "quick": {"docs": 40, "count": COUNT},
        "default": {"docs": 450, "count": COUNT},  # sequential, 2-core VM: 0.31 s 3.13, 0.43 s 3.13t
        "rigorous": {"docs": 1200, "count": COUNT},
    },
    make_tasks=make_tasks,
    task=handle,
    check=check,
    pyperf={"quick": {"processes": 2, "values": 2, "warmups": 1},
            "default": {"processes": 2, "values": 2, "warmups": 1},
            "rigorous": {"processes": 10, "values": 5, "warmups": 1}},
)
