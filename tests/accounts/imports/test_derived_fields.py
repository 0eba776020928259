"""``contact_derive_fields`` remembers the parts that repeat; its results must not change.

The import derives the same names, readings, departments and titles again and again, so
``contact_derive_fields`` folds them once (bounded caches) and joins per-part bigrams instead
of splitting the whole search text again. ``reference`` is the function as it was before:
both must give the same fields for any contact.
"""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tokui.accounts.imports.fastpath import _created_changes
from tokui.accounts.models import Contact
from tokui.accounts.services import _digits, _search_piece, contact_derive_fields
from tokui.core.audit import diff, snapshot
from tokui.core.japanese import bigrams, fold, person_match_key

DERIVED = ("sort_key", "search_text", "search_bigrams", "match_key", "reading_key", "email_key")


def reference(contact: Contact) -> dict[str, str]:
    """contact_derive_fields before the caches, line for line."""
    reading = " ".join(p for p in (contact.family_name_kana, contact.given_name_kana) if p)
    parts = [
        contact.family_name + contact.given_name,
        contact.given_name + contact.family_name,
        contact.family_name_kana + contact.given_name_kana,
        contact.email,
        _digits(contact.phone),
        _digits(contact.mobile),
        contact.department,
        contact.title,
    ]
    search_text = "|".join(fold(re.sub(r"\s+", "", p)) for p in parts if p)
    return {
        "sort_key": fold(reading or contact.full_name)[:200],
        "search_text": search_text,
        "search_bigrams": bigrams(search_text),
        "match_key": person_match_key(contact.family_name, contact.given_name)[:200],
        "reading_key": person_match_key(contact.family_name_kana, contact.given_name_kana)[:200],
        "email_key": contact.email.lower(),
    }


def derived(**values: str) -> dict[str, str]:
    contact = Contact(**values)
    contact_derive_fields(contact)
    return {name: getattr(contact, name) for name in DERIVED}


# Japanese and ASCII text with the characters folding and bigrams care about: both kana scripts
# and widths, full-width letters and digits, spaces of both widths, punctuation, "|", "_".
CHARACTERS = "山田太郎佐藤花子部長営業やまだタロウｶﾞｷﾞﾔﾏﾀﾞーＡＢｃ１２abcXYZ019 　\t・.-@|_\u0301ﾟ㈱Ⅳǅ"
TEXT = st.text(alphabet=st.sampled_from(list(CHARACTERS)), max_size=12)


@settings(max_examples=400, deadline=None)
@given(
    family=TEXT,
    given_=TEXT,
    family_kana=TEXT,
    given_kana=TEXT,
    email=st.one_of(TEXT, st.emails()),
    phone=st.one_of(st.just(""), st.from_regex(r"\A\+81[1-9][0-9]{8,9}\Z")),
    mobile=st.one_of(st.just(""), st.from_regex(r"\A\+[1-9][0-9]{8,12}\Z")),
    department=TEXT,
    title=TEXT,
)
def test_derived_fields_are_what_they_were(
    family, given_, family_kana, given_kana, email, phone, mobile, department, title
):
    values = {
        "family_name": family,
        "given_name": given_,
        "family_name_kana": family_kana,
        "given_name_kana": given_kana,
        "email": email,
        "phone": phone,
        "mobile": mobile,
        "department": department,
        "title": title,
    }
    # Twice: the second time the repeating parts come from the caches.
    assert derived(**values) == reference(Contact(**values))
    assert derived(**values) == reference(Contact(**values))


def test_derived_fields_of_a_usual_contact():
    values = {
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "email": "Taro.Yamada@Example.co.jp",
        "phone": "+81312345678",
        "department": "営業部",
        "title": "部長",
    }
    assert derived(**values) == reference(Contact(**values))
    assert derived(**values)["search_text"] == (
        "山田太郎|太郎山田|やまだたろう|taro.yamada@example.co.jp|0312345678|営業部|部長"
    )


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(TEXT, st.text(max_size=30)))
def test_a_search_piece_has_the_bigrams_of_its_folded_text(text):
    """One regex pass over the folded piece gives what ``bigrams`` gives, split."""
    folded, pairs = _search_piece(text)
    assert folded == fold(re.sub(r"\s+", "", text))
    assert pairs == frozenset(bigrams(folded).split())


@settings(max_examples=200, deadline=None)
@given(
    clean=st.dictionaries(
        st.sampled_from(["family_name", "given_name", "email", "notes", "marketing_consent"]),
        st.one_of(TEXT, st.booleans(), st.none(), st.integers()),
    )
)
def test_the_changes_of_a_created_contact_are_what_the_audit_module_makes(clean):
    contact = Contact(**{k: v for k, v in clean.items() if k != "marketing_consent"})
    contact.__dict__.update(clean)
    assert _created_changes(contact, clean) == diff({}, snapshot(contact, clean.keys()))
