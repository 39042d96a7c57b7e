"""Languages (issue 2 §5): Simplified Chinese by default, English as a user's preference; a switch on the login
page for people not signed in; an English catalogue with every message translated and placeholders intact."""
import os
import re
import tempfile
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from crm.extensions import db

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "crm" / "translations"
ENGLISH_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def english_catalogue():
    with ENGLISH_PO.open("rb") as f:
        return read_po(f)


def translations():
    """(message, translation) for every message and, for plural messages, every form."""
    for m in english_catalogue():
        if not m.id:
            continue
        if m.pluralizable:
            yield from ((m.id[min(i, 1)], form) for i, form in enumerate(m.string))
        else:
            yield m.id, m.string


@pytest.fixture(scope="module", autouse=True)
def compiled_english():
    """Compile the committed catalogue where the app reads it (as scripts/setup does), so the pages below are
    checked against the .po under test and never against a stale .mo."""
    catalogue = english_catalogue()
    target = ENGLISH_PO.with_suffix(".mo")
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as f:
        write_mo(f, catalogue)
    os.replace(f.name, target)


def lang_of(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


# ---- the catalogue ----------------------------------------------------------------------------------------

def test_every_message_has_an_english_translation_and_none_is_fuzzy():
    messages = [m for m in english_catalogue() if m.id]
    assert len(messages) > 500
    assert [message for message, translation in translations() if not translation] == []
    assert [m.id for m in messages if m.fuzzy] == []


def test_every_message_in_the_code_is_in_the_catalogue():
    """Extracted afresh as `pybabel extract -F babel.cfg -k _l -k lazy_gettext` does: a new _() string fails
    here until the catalogue is updated (pybabel update) and translated."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None)
    in_code = {m[2] for m in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}
    assert in_code - {m.id for m in english_catalogue()} == set()


def test_no_source_folder_is_hidden_from_extraction():
    """pybabel (and the test above) skip folders named _*: strings in templates/_macros went untranslated."""
    hidden = [p for root in (ROOT / "templates", ROOT / "crm") for p in root.rglob("_*")
              if p.is_dir() and p.name != "__pycache__"]
    assert hidden == []


def test_every_translation_keeps_the_placeholders_of_its_message():
    for message, translation in translations():
        assert set(PLACEHOLDER.findall(translation)) == set(PLACEHOLDER.findall(message)), message


def test_a_translation_adds_no_bare_percent_sign():
    """Templates %-format every message, so a '%' that the Chinese does not have would break the page."""
    for message, translation in translations():
        assert PLACEHOLDER.sub("", translation).count("%") == PLACEHOLDER.sub("", message).count("%"), message


def test_domain_terms_keep_their_agreed_english_names():
    strings = dict(translations())
    assert strings["高新技术企业"] == "High-tech enterprise (HNTE)"
    assert strings["科技型中小企业"] == "Tech-based SME"
    assert strings["瞪羚企业"] == "Gazelle enterprise"
    assert strings["包联干部"] == "Case officer"
    assert strings["统一社会信用代码"] == "Unified social credit code (USCC)"


# ---- a signed-in user's preference --------------------------------------------------------------------------

def test_chinese_is_the_default(client, auth, make):
    make.company(name="川东电子有限公司")
    auth.login(make.user("admin"))
    page = client.get("/companies/").get_data(as_text=True)
    assert lang_of(page) == "zh-CN"
    assert "企业名称" in page and "包联干部" in page and "Company name" not in page


def test_a_user_who_prefers_english_sees_the_company_list_in_english(client, auth, make):
    company = make.company(name="川东电子有限公司")
    make.cert(company, "tech_sme", year=2024)
    auth.login(make.user("admin", locale="en"))
    page = client.get("/companies/").get_data(as_text=True)
    assert lang_of(page) == "en"
    assert "Company name" in page and "Case officer" in page and "企业名称" not in page
    assert "All rungs" in page and "High-tech enterprise (HNTE)" in page  # the filter's rung labels
    assert "川东电子有限公司" in page  # data stays as entered


def test_a_label_that_arrives_as_a_value_is_shown_in_the_readers_language(client, auth, make):
    from crm.clock import today

    make.cert(make.company(), "tech_sme", year=today().year)
    auth.login(make.user("admin", locale="en"))
    assert 'rung-tech_sme">Tech-based SME</span>' in client.get("/companies/").get_data(as_text=True)
    auth.logout()
    auth.login(make.user("admin"))
    assert 'rung-tech_sme">科技型中小企业</span>' in client.get("/companies/").get_data(as_text=True)


def test_a_user_who_prefers_english_sees_the_dashboard_in_english(client, auth, make):
    auth.login(make.user("admin", locale="en"))
    page = client.get("/dashboard").get_data(as_text=True)
    assert lang_of(page) == "en"
    assert "Target progress" in page and "Valid HNTEs" in page and "Whole city" in page
    assert "目标进度" not in page and "有效高企数" not in page


def test_a_translation_with_quotes_stays_inside_the_attribute_it_is_written_into(client, auth, make):
    """The board's script reads its status texts from data- attributes; Moved "{company}" once ended the attribute
    at its first quote, so an English reader saw only "Moved"."""
    from html.parser import HTMLParser

    from crm.models import Round

    round_ = Round(kind="hnte", year=2026, name="第一批", opens_on=date(2026, 3, 1), closes_on=date(2026, 9, 30))
    db.session.add(round_)
    db.session.commit()
    auth.login(make.user("admin", locale="en"))
    attributes = {}

    class Board(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attributes.update({k: v for k, v in attrs if k in ("data-moved", "data-refused")})

    Board().feed(client.get(f"/rounds/{round_.id}").get_data(as_text=True))
    assert attributes == {"data-moved": 'Moved "{company}" to "{stage}".', "data-refused": 'Cannot move to "{stage}".'}


def test_a_value_that_cannot_be_read_is_explained_in_the_readers_language(client, auth, make):
    company = make.company()
    auth.login(make.user("admin", locale="en"))
    page = client.post(f"/companies/{company.id}/certifications",
                       data={"kind": "hnte", "issued_on": "2025年2月30日"}).get_data(as_text=True)
    assert "Date &#34;2025年2月30日&#34; is not a calendar date; accepted: 2021-03-05" in page
    page = client.post("/companies/new", data={"uscc": "91350100M000100Y4", "name": "甲", "district_id": 0}).text
    assert "A USCC has 18 characters, this one 17" in page
    page = client.post("/companies/new", data={"uscc": "91511702-00000000X", "name": "甲", "district_id": 0}).text
    assert "Character 9 of the USCC, -, is not allowed" in page and "Project-Id-Version" not in page
    assert "不是有效的日历日期" not in page and "应为18位" not in page


def test_english_pages_use_english_punctuation_around_english_words(client, auth, make):
    company = make.company(name="甲公司")
    auth.login(make.user("admin", locale="en"))
    page = client.get(f"/companies/{company.id}?tl=edit").get_data(as_text=True)
    assert "(as of " in page and "<li>Company name: — → 甲公司</li>" in page
    assert "（as of" not in page and "Company name：" not in page
    assert "Evaluation score: " in page and "Criteria: " in page and "；" not in page  # the eligibility panel
    visit_form = client.get(f"/visits/new?company={company.id}").text
    assert "Participants: " in visit_form and "Participants：" not in visit_form


def test_the_language_chosen_on_the_account_page_is_kept_for_the_user(client, auth, make):
    user = make.user("officer", areas=["511702"])
    auth.login(user)
    client.post("/account", data={"pref-locale": "en"})
    assert db.session.get(type(user), user.id).locale == "en"
    page = client.get("/account").get_data(as_text=True)
    assert lang_of(page) == "en" and "Saved." in page  # confirmed, in the language chosen


def test_a_service_message_reaches_the_page_in_the_readers_language(client, auth, make):
    """Rules raise their reasons through gettext: the same refusal reads in English for an English reader."""
    make.user("officer", username="wang")
    auth.login(make.user("admin", locale="en"))
    form = {"username": "wang", "display_name": "", "role": "officer", "email": "w@example.test",
            "password": "long-enough-1"}
    page = client.post("/users/new", data=form).get_data(as_text=True)
    assert "The username wang already exists" in page and "已存在" not in page


# ---- the login page's switch ----------------------------------------------------------------------------------

def test_the_login_page_offers_english_in_chinese_and_chinese_in_english(client):
    page = client.get("/login").get_data(as_text=True)
    assert lang_of(page) == "zh-CN" and "登录" in page and 'href="/login?lang=en"' in page
    client.get("/login?lang=en")
    page = client.get("/login").get_data(as_text=True)
    assert lang_of(page) == "en" and "Sign in" in page and "Username" in page and 'href="/login?lang=zh"' in page


def test_the_switch_returns_to_the_login_page_and_keeps_a_safe_next(client):
    response = client.get("/login?lang=en&next=/companies/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/companies/"


def test_the_switch_is_no_open_redirect(client):
    response = client.get("/login?lang=en&next=https://evil.example/")
    assert response.headers["Location"] == "/login"


def test_an_unknown_language_is_ignored(client):
    client.get("/login?lang=fr")
    assert lang_of(client.get("/login").get_data(as_text=True)) == "zh-CN"


def test_the_cli_speaks_chinese_whatever_the_catalogue(runner):
    result = runner.invoke(args=["users", "create", "x", "--role", "officer", "--email", "x@example.test",
                                 "--password", "long-enough-1", "--area", "nowhere"])
    assert result.exit_code != 0 and "未知区域：nowhere" in result.output


def test_english_counts_take_the_singular_for_one_and_the_plural_otherwise(app):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        text = render_template_string("{% for n in (1, 3) %}{{ ngettext('逾期 %(num)s 天', '逾期 %(num)s 天', n) }}|"
                                      "{% endfor %}")
    assert text == "1 day overdue|3 days overdue|"


def test_a_count_repeated_down_a_list_keeps_its_own_number_and_variables(app):
    """ngettext() keeps the messages it made during a render: a repeated count, another count and the same count
    with other variables must each still come out right."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = ("{% for n in (3, 1, 3, 2) %}{{ ngettext('逾期 %(num)s 天', '逾期 %(num)s 天', n) }}|{% endfor %}"
                "{% for d in ('2026-01-02', '<b>') %}"
                "{{ ngettext('上次走访：%(d)s（%(num)s 天前）', '上次走访：%(d)s（%(num)s 天前）', 3, d=d) }}|{% endfor %}")
    with app.test_request_context(), force_locale("en"):
        text = render_template_string(template)
    assert text == ("3 days overdue|1 day overdue|3 days overdue|2 days overdue|"
                    "Last visit: 2026-01-02 (3 days ago)|Last visit: &lt;b&gt; (3 days ago)|")


def test_english_picked_on_the_login_page_stays_after_signing_in(client, auth, make):
    user = make.user("officer")
    client.get("/login?lang=en")
    auth.login(user)
    assert lang_of(client.get("/dashboard").get_data(as_text=True)) == "en"
    assert db.session.get(type(user), user.id).locale == "en"
    auth.logout()
    auth.login(make.user("officer"))  # the next person on this browser gets their own language
    assert lang_of(client.get("/dashboard").get_data(as_text=True)) == "zh-CN"
