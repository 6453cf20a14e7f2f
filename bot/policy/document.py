"""The published privacy policy, parsed into the sections named by ``sections.yml``.

The policy text is the single source of truth: every answer quotes sentences produced here, so
nothing is copied into responses by hand. The section map says where each section starts and
which announced lists or addresses the text never gives (``gaps``); the parser checks both
against the text and fails loudly when the text and the map disagree.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot.core.paths import POLICY_TEXT, SECTION_MAP

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = ("Co.", "Ltd.", "etc.", "e.g.", "i.e.")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[\"'(A-Z0-9])")
_ITEM_TITLE = re.compile(r"^\d\.(?: \S+){0,6}$")  # "1." or "1. Mail and message push."
_NUMBERED_ITEM = re.compile(r"^(\d)(?=[A-Z])")
_GLUED_SENTENCE = re.compile(r"(?<=[a-z])\.(?=[A-Z])")
_QUOTED_ANCHOR = re.compile(r"'([^']+)'")
_EFFECTIVE_DATE = re.compile(r"Effective date:\s*(.+)")


class PolicyFormatError(ValueError):
    """The policy text and the section map disagree; answering from it would be wrong."""


@dataclass(frozen=True)
class Gap:
    """A place where the text announces a list or an e-mail address and then gives none."""

    kind: str  # "list" or "email"
    anchor: str  # the announcing words, verbatim from the text
    description: str


@dataclass(frozen=True)
class Sentence:
    text: str
    paragraph: int


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    heading_in_text: bool
    paragraphs: Tuple[str, ...]
    gaps: Tuple[Gap, ...] = ()

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @functools.cached_property
    def sentences(self) -> Tuple[Sentence, ...]:
        out: List[Sentence] = []
        for index, paragraph in enumerate(self.paragraphs):
            out.extend(Sentence(text, index) for text in split_sentences(paragraph))
        return tuple(out)

    def gap_for(self, sentence: str) -> Optional[Gap]:
        for gap in self.gaps:
            if gap.anchor in sentence:
                return gap
        return None


@dataclass(frozen=True)
class PostalContact:
    addressee: str
    address: str

    def one_line(self) -> str:
        return f"{self.addressee}, {self.address}"


@dataclass(frozen=True)
class Policy:
    title: str
    effective_date: str
    sections: Tuple[Section, ...]
    postal_contact: PostalContact
    _by_id: Dict[str, Section] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({s.id: s for s in self.sections})

    def section(self, section_id: str) -> Section:
        try:
            return self._by_id[section_id]
        except KeyError:
            raise KeyError(f"no policy section {section_id!r}") from None

    def has_section(self, section_id: str) -> bool:
        return section_id in self._by_id

    @property
    def section_ids(self) -> List[str]:
        return [s.id for s in self.sections]


def split_sentences(paragraph: str) -> List[str]:
    """Split one paragraph into sentences, keeping company abbreviations whole."""
    pieces = _SENTENCE_END.split(paragraph)
    sentences: List[str] = []
    for piece in pieces:
        if sentences and (
            sentences[-1].endswith(_ABBREVIATIONS) or _ITEM_TITLE.match(sentences[-1])
        ):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]


def normalise_paragraph(raw: str) -> str:
    """Undo the publishing glitches that make numbered items unreadable
    ("1Mail and message push.When")."""
    text = " ".join(raw.split())
    text = _NUMBERED_ITEM.sub(r"\1. ", text)
    return _GLUED_SENTENCE.sub(". ", text)


def _paragraphs(raw: str) -> Tuple[str, ...]:
    parts = [normalise_paragraph(p) for p in re.split(r"\n\s*\n", raw)]
    return tuple(p for p in parts if p)


def _parse_gap(description: str) -> Gap:
    match = _QUOTED_ANCHOR.search(description)
    if not match:
        raise PolicyFormatError(f"gap without a quoted anchor: {description!r}")
    kind = "list" if "list" in description else "email" if "address" in description else None
    if kind is None:
        raise PolicyFormatError(f"gap of unknown kind: {description!r}")
    return Gap(kind=kind, anchor=normalise_paragraph(match.group(1)), description=description)


def _heading_before(text: str, start: int, heading: str) -> Optional[int]:
    """Offset of ``heading`` when it stands alone on the last non-blank line before ``start``."""
    before = text[:start].rstrip()
    line_start = before.rfind("\n") + 1
    if before[line_start:].strip() == heading:
        return line_start
    return None


def _postal_contact(section: Section) -> PostalContact:
    for index, paragraph in enumerate(section.paragraphs):
        if paragraph.startswith("Address:") and index > 0:
            return PostalContact(
                addressee=section.paragraphs[index - 1],
                address=paragraph[len("Address:") :].strip(),
            )
    raise PolicyFormatError(f"section {section.id!r} gives no 'Address:' line")


def parse_policy(text: str, section_map: dict) -> Policy:
    entries = section_map["sections"]
    if not entries:
        raise PolicyFormatError("the section map lists no sections")
    starts: List[int] = []
    cursor = 0
    for entry in entries:
        if not str(entry.get("starts_with") or "").strip():
            raise PolicyFormatError(f"section {entry['id']!r} is empty: it has no starting words")
        position = text.find(entry["starts_with"], cursor)
        if position < 0:
            raise PolicyFormatError(
                f"section {entry['id']!r} not found in order: {entry['starts_with']!r}"
            )
        starts.append(position)
        cursor = position + len(entry["starts_with"])

    heading_offsets = [
        _heading_before(text, s, e["heading"]) for s, e in zip(starts, entries, strict=True)
    ]
    header = text[: heading_offsets[0] if heading_offsets[0] is not None else starts[0]]
    title = next((line.strip() for line in header.splitlines() if line.strip()), "")
    date_match = _EFFECTIVE_DATE.search(header)
    if not date_match:
        raise PolicyFormatError("the policy gives no effective date")

    sections: List[Section] = []
    for index, entry in enumerate(entries):
        if index + 1 < len(entries):
            nxt = heading_offsets[index + 1]
            end = nxt if nxt is not None else starts[index + 1]
        else:
            end = len(text)
        paragraphs = _paragraphs(text[starts[index] : end])
        if not paragraphs:
            raise PolicyFormatError(f"section {entry['id']!r} is empty")
        gaps = tuple(_parse_gap(d) for d in entry.get("gaps") or ())
        section = Section(
            id=entry["id"],
            heading=entry["heading"],
            heading_in_text=heading_offsets[index] is not None,
            paragraphs=paragraphs,
            gaps=gaps,
        )
        for gap in gaps:
            if gap.anchor not in section.body:
                raise PolicyFormatError(f"gap anchor {gap.anchor!r} not in section {section.id!r}")
        sections.append(section)

    contact = next((s for s in sections if s.id == "contact"), sections[-1])
    return Policy(
        title=title,
        effective_date=date_match.group(1).strip(),
        sections=tuple(sections),
        postal_contact=_postal_contact(contact),
    )


def load_policy_from(text_path: Path, map_path: Path) -> Policy:
    with open(map_path, encoding="utf-8") as handle:
        section_map = yaml.safe_load(handle)
    return parse_policy(text_path.read_text(encoding="utf-8"), section_map)


@functools.lru_cache(maxsize=1)
def load_policy() -> Policy:
    """The project's policy, parsed once per process."""
    return load_policy_from(POLICY_TEXT, SECTION_MAP)
