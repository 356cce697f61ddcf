"""Intent classification, language detection and ``understand`` on messages the training set
does not contain, each labelled by hand."""

from __future__ import annotations

import datetime

import pytest

from almacen.modules.bots.nlu import (
    INTENTS,
    IntentClassifier,
    default_classifier,
    detect_language,
    shipped_examples,
    train_classifier,
    understand,
)

TODAY = datetime.date(2026, 11, 25)

# Trains the shipped classifier (seconds) and never touches the database: SQLite pass only.
pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return default_classifier()


def test_the_shipped_set_has_25_examples_per_intent_and_language() -> None:
    examples = shipped_examples()
    assert set(examples) == set(INTENTS)
    for intent, by_language in examples.items():
        for language in ("es", "en"):
            assert len(set(by_language[language])) >= 25, (intent, language)


def test_shipped_examples_is_a_fresh_copy() -> None:
    shipped_examples()["greet"]["es"].append("changed")
    assert "changed" not in shipped_examples()["greet"]["es"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ya pagué", "es"),
        ("no puedo pagar todo, ¿me dan un plan?", "es"),
        ("quien es usted", "es"),
        ("puedo pagar el viernes", "es"),
        ("can I pay 150 on Friday?", "en"),
        ("who is this", "en"),
        ("i already paid", "en"),
        ("I lost my job", "en"),
        ("1234", "es"),  # nothing to go by: Spanish, the default
    ],
)
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


# Messages written for this test, none of them in the training set.
UNSEEN = [
    ("ya les pagué la semana pasada por transferencia", "already_paid"),
    ("no puedo pagar todo, ¿me dan un plan de cuotas?", "payment_plan"),
    ("quién es usted y por qué me escribe", "who_are_you"),
    ("puedo pagar 150 mil el viernes", "promise"),
    ("cuánto es lo que debo en total?", "balance"),
    ("me quedé sin trabajo y no tengo plata", "hardship"),
    ("no me vuelvan a escribir", "opt_out"),
    ("quiero hablar con un asesor por favor", "talk_to_human"),
    ("yo no conozco a esa persona, número equivocado", "wrong_person"),
    ("esa deuda no es mía, nunca saqué ese crédito", "dispute"),
    ("me hacen descuento si pago todo hoy?", "settlement"),
    ("muchas gracias, chao", "thanks_bye"),
    ("can I pay 150 on Friday?", "promise"),
    ("i already paid this last week", "already_paid"),
    ("who are you and why are you texting me", "who_are_you"),
    ("how much do i owe right now", "balance"),
    ("can i set up monthly payments", "payment_plan"),
    ("i want to speak to a real person", "talk_to_human"),
    ("stop texting me", "opt_out"),
    ("you have the wrong number, i don't know him", "wrong_person"),
    ("i lost my job and can't pay", "hardship"),
    ("thanks, bye", "thanks_bye"),
]


@pytest.mark.parametrize(("text", "intent"), UNSEEN)
def test_unseen_messages(classifier: IntentClassifier, text: str, intent: str) -> None:
    ranked = classifier.predict(text)
    assert ranked[0][0] == intent, ranked[:3]


def test_predict_ranks_every_intent_with_probabilities(classifier: IntentClassifier) -> None:
    ranked = classifier.predict("hola")
    assert {name for name, _ in ranked} == set(INTENTS)
    probabilities = [p for _, p in ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0)
    assert all(0.0 <= p <= 1.0 for p in probabilities)


def test_a_misspelt_short_answer_falls_back_to_fuzzy_matching(
    classifier: IntentClassifier,
) -> None:
    assert classifier.predict("grasias")[0][0] == "thanks_bye"
    assert classifier.predict("muchas grasiaas")[0][0] == "thanks_bye"


def test_understand(classifier: IntentClassifier) -> None:
    result = understand("puedo pagar 150 mil el viernes", classifier=classifier, today=TODAY)
    assert result.intent == "promise"
    assert result.language == "es"
    assert result.entities.amount is not None and int(result.entities.amount) == 150000
    assert result.entities.date == datetime.date(2026, 11, 27)
    assert 0.5 < result.confidence <= 1.0
    assert len(result.alternatives) == 3
    assert all(p <= result.confidence for _, p in result.alternatives)


def test_understand_uses_the_language_it_is_given(classifier: IntentClassifier) -> None:
    # "1/3" is the 3rd of January in English, the 1st of March in Spanish.
    english = understand("1/3", classifier=classifier, today=TODAY, language="en")
    spanish = understand("1/3", classifier=classifier, today=TODAY, language="es")
    assert (english.language, english.entities.date) == ("en", datetime.date(2027, 1, 3))
    assert (spanish.language, spanish.entities.date) == ("es", datetime.date(2027, 3, 1))


@pytest.mark.parametrize("text", ["", "   ", "???", "🙂🙂🙂", "\n\t"])
def test_nothing_to_understand_is_out_of_scope_with_no_confidence(
    classifier: IntentClassifier, text: str
) -> None:
    result = understand(text, classifier=classifier, today=TODAY)
    assert (result.intent, result.confidence) == ("out_of_scope", 0.0)


def test_gibberish_is_out_of_scope(classifier: IntentClassifier) -> None:
    assert understand("asdkjh qwpeoi", classifier=classifier, today=TODAY).intent == (
        "out_of_scope"
    )


def test_a_very_long_message_is_understood(classifier: IntentClassifier) -> None:
    result = understand("ya pagué " * 1200, classifier=classifier, today=TODAY)
    assert result.intent == "already_paid"
    assert len(result.entities.text) <= 500


def test_serialised_classifier_predicts_the_same(classifier: IntentClassifier) -> None:
    data = classifier.to_bytes()
    assert isinstance(data, bytes)
    loaded = IntentClassifier.from_bytes(data)
    for text, _ in UNSEEN[:6]:
        original, copy = classifier.predict(text), loaded.predict(text)
        assert [name for name, _ in original] == [name for name, _ in copy]
        assert [p for _, p in original] == pytest.approx([p for _, p in copy], abs=1e-5)


@pytest.mark.parametrize("data", [b"", b"not a model", b"PK\x03\x04garbage"])
def test_from_bytes_refuses_what_is_not_a_classifier(data: bytes) -> None:
    with pytest.raises(ValueError, match="intent classifier"):
        IntentClassifier.from_bytes(data)


def test_a_plugin_intent_is_learnt_with_the_shipped_ones() -> None:
    examples = shipped_examples()
    examples["update_contact"] = {
        "es": [
            "quiero actualizar mi correo",
            "cambié de número de celular",
            "actualicen mi dirección",
            "mi nuevo teléfono es otro",
            "quiero cambiar mis datos de contacto",
            "anoten mi nuevo email",
        ],
        "en": [
            "i want to update my email",
            "i changed my phone number",
            "update my address please",
            "my new phone is different",
            "i need to change my contact details",
            "write down my new email",
        ],
    }
    classifier = train_classifier(examples)
    assert "update_contact" in classifier.classes
    assert classifier.predict("necesito cambiar mi correo electrónico")[0][0] == "update_contact"
    assert classifier.predict("can you update my phone number")[0][0] == "update_contact"


def test_training_needs_two_intents() -> None:
    with pytest.raises(ValueError, match="two intents"):
        train_classifier({"greet": {"es": ["hola"]}})
