"""Refusal reasons from editable templates (bot.requests.refusals): every shipped template has
its title, text and legal basis in both languages and cites PIPL Art. 50; a broken file is
refused with where it is broken; an edit shows without a restart."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.requests import refusals
from bot.requests.refusals import RefusalTemplateError


def test_the_shipped_templates_cite_the_pipl_in_both_languages():
    shipped = refusals.templates()
    keys = [t.key for t in shipped]
    assert {
        "manifestly_unfounded",
        "identity_not_verified",
        "legal_retention",
        "not_our_data",
    } <= set(keys) and len(keys) == len(set(keys))
    for template in shipped:
        assert "Art. 50" in template.legal_basis["en"], template.key
        assert "第五十条" in template.legal_basis["zh"], template.key
        for language in ("en", "zh"):
            reason = template.reason(language, "ACC-ABC123")
            assert "ACC-ABC123" in reason and "{" not in reason, (template.key, language)
    # Only articles this file is sure of are cited.
    cited = {int(n) for t in shipped for n in re.findall(r"Art\. (\d+)", t.legal_basis["en"])}
    assert cited <= {18, 45, 47, 50, 51}


def test_a_reason_is_its_text_then_its_legal_basis():
    retention = refusals.find("legal_retention")
    reason = retention.reason("en", "DEL-AAAAAA")
    body, basis = reason.split("\n\n")
    assert body.startswith("We cannot delete") and "DEL-AAAAAA" in body
    assert basis.startswith("Legal basis: ") and "Art. 47" in basis
    assert retention.reason("zh", "DEL-AAAAAA").split("\n\n")[1].startswith("法律依据：")
    assert retention.reason("fr") == retention.reason("en")  # an unknown language: English
    with pytest.raises(KeyError):
        refusals.find("no_such_template")


def entry(**changes):
    good = {
        "title": {"en": "T", "zh": "标题"},
        "text": {"en": "Text {reference}", "zh": "文"},
        "legal_basis": {"en": "PIPL Art. 50", "zh": "第五十条"},
    }
    good.update(changes)
    return {"templates": {"one": good}}


@pytest.mark.parametrize(
    "data, where",
    [
        ({}, "templates"),
        ({"templates": {"Bad Key": entry()["templates"]["one"]}}, "key"),
        (entry(legal_basis=None), "legal_basis"),
        (entry(text={"en": "only English"}), "no zh"),
        (entry(title={"en": "T", "zh": "  "}), "no zh"),
        ({"templates": {"one": {"title": {"en": "T", "zh": "T"}}}}, "needs exactly"),
    ],
)
def test_a_broken_file_is_refused_saying_where(data, where):
    with pytest.raises(RefusalTemplateError, match=where):
        refusals.parse(data)


def test_an_edit_of_the_file_shows_without_a_restart(tmp_path):
    path = tmp_path / "refusals.yml"
    path.write_text(yaml.safe_dump(entry(), allow_unicode=True), encoding="utf-8")
    assert refusals.templates(path)[0].title["en"] == "T"
    edited = entry(title={"en": "Edited", "zh": "改"})
    path.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    import os

    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))
    assert refusals.templates(path)[0].title["en"] == "Edited"
