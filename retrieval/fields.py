"""Which text of an entry goes into which index field.

An FAQ entry is a question (title), other phrasings of it (aliases) and an answer (body). Users
ask questions, so question-to-question similarity is the strongest signal; the answer adds the
words the question leaves out. Each field is indexed on its own and the scores are combined.
"""

from __future__ import annotations

from retrieval.models import Entry

# The answer is embedded with its question in front and cut after this many characters:
# measured on the Amagasaki FAQ, whole answers cost twice the embedding time for no recall gain
# (most answers open with the gist; e5-small reads at most 512 tokens anyway).
ANSWER_EMBED_CHARS = 256


def question_texts(entry: Entry) -> list[str]:
    """The title and each alias: each becomes its own vector; the best one counts.

    They are embedded on the query side (e5's "query: " prefix), as e5 prescribes for symmetric
    question-to-question matching; on the Amagasaki dev set this lifted Hit@1 by about 0.01.
    """
    return [entry.title, *(a for a in entry.aliases if a.strip())]


def answer_text(entry: Entry) -> str:
    return f"{entry.title}\n{entry.body[:ANSWER_EMBED_CHARS]}"


def question_lexical_text(entry: Entry) -> str:
    return "\n".join(question_texts(entry))


def answer_lexical_text(entry: Entry) -> str:
    return entry.body
