"""The entity extractor: multi-word names, the label from the context, aliases merged."""

from __future__ import annotations

from core.engine.entities import find_entities


def test_people_are_found_from_titles_roles_speech_and_apposition() -> None:
    assert set(find_entities("Goalkeeper saves came from goalkeeper Leon Achterberg in the end.")) >= {
        ("Leon Achterberg", "PERSON")
    }
    assert ("Daniel Rhodes", "PERSON") in set(find_entities("Fed Chair Daniel Rhodes told reporters it was early."))
    assert ("Amparo Ruiz", "PERSON") in set(
        find_entities("The ground floor was gone, said Amparo Ruiz, a pharmacist who stayed on a balcony.")
    )


def test_organisations_products_events_and_places_from_their_words() -> None:
    found = set(find_entities(
        "The Serum Institute of India makes the R21 vaccine, and the Social and Economic Council met "
        "in Paiporta before the Northern Cup while El Niño warmed the Coral Sea."
    ))
    assert found >= {
        ("Serum Institute of India", "ORG"),
        ("R21", "PRODUCT"),
        ("Social and Economic Council", "ORG"),
        ("Paiporta", "PLACE"),
        ("Northern Cup", "EVENT"),
        ("El Niño", "EVENT"),
        ("Coral Sea", "PLACE"),
    }


def test_model_numbers_make_products_and_lists_share_a_label() -> None:
    found = set(find_entities("My RTX 4070 crashed in Baldur's Gate 3, so ships went to Antwerp and Hamburg."))
    assert {("RTX 4070", "PRODUCT"), ("Baldur's Gate 3", "PRODUCT"), ("Hamburg", "PLACE")} <= found
    assert ("Antwerp", "PLACE") in found  # listed with Hamburg, a known place


def test_weekdays_demonyms_and_generic_acronyms_are_not_names() -> None:
    assert list(find_entities("Australian officials met on Thursday to discuss the GPU and the CEO.")) == []
