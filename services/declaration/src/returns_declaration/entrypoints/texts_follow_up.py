"""What the follow-up pages say (issue 15, items 3 and 4): the customer's status page, the
answer page of a question, the link pages, and the question on the return record. French and
English, like `texts.py`, which merges them."""

from __future__ import annotations

from returns_declaration.domain.model import Locale

FOLLOW_UP_TEXTS: dict[str, dict[Locale, str]] = {
    "status_title": {"fr": "Suivi de votre retour", "en": "Your return"},
    "status_now": {"fr": "Où en est votre retour", "en": "Where your return stands"},
    "next_step": {"fr": "Et ensuite ?", "en": "What happens next"},
    "your_items": {"fr": "Vos articles", "en": "Your items"},
    "submitted_on": {"fr": "Déclaré le", "en": "Submitted on"},
    "status_label": {"fr": "Votre étiquette (PDF)", "en": "Your label (PDF)"},
    "question_title": {
        "fr": "Le marchand a une question",
        "en": "The merchant has a question",
    },
    "question_intro": {
        "fr": "Au sujet de votre retour de la commande {order}, {merchant} vous demande :",
        "en": "About your return of order {order}, {merchant} asks you:",
    },
    "answer_comment": {
        "fr": "Votre réponse (10 caractères minimum)",
        "en": "Your answer (at least 10 characters)",
    },
    "answer_photos": {"fr": "Photos (jusqu'à 5)", "en": "Photos (up to 5)"},
    "answer_photos_hint": {
        "fr": "Ajoutez des photos si elles aident à répondre.",
        "en": "Add photos if they help to answer.",
    },
    "answer_send": {"fr": "Envoyer ma réponse", "en": "Send my answer"},
    "answer_by": {
        "fr": "Ce lien est valable jusqu'au {date}.",
        "en": "This link works until {date}.",
    },
    "answer_thanks": {
        "fr": "Merci, votre réponse a été transmise au marchand.",
        "en": "Thank you, your answer was sent to the merchant.",
    },
    "see_status": {"fr": "Voir le suivi de mon retour", "en": "See where my return stands"},
    "link_invalid": {
        "fr": "Ce lien n'est pas valable. Utilisez le lien exact reçu par e-mail.",
        "en": "This link is not valid. Please use the exact link from your e-mail.",
    },
    "link_expired": {
        "fr": "Ce lien a expiré. Répondez à l'e-mail du marchand pour qu'il vous en envoie un "
        "nouveau.",
        "en": "This link has expired. Reply to the merchant's e-mail to get a new one.",
    },
    "link_used": {
        "fr": "Vous avez déjà répondu à cette question : votre réponse a bien été transmise.",
        "en": "You already answered this question: your answer was sent.",
    },
    # The return record (back-office).
    "ask_title": {"fr": "Demander des informations", "en": "Ask for more information"},
    "ask_question": {
        "fr": "Question au client (il la reçoit par e-mail)",
        "en": "Question to the customer (e-mailed to them)",
    },
    "ask_send": {"fr": "Envoyer la question", "en": "Send the question"},
    "asked_flash": {
        "fr": "Question envoyée au client.",
        "en": "Question sent to the customer.",
    },
    "exchange_title": {"fr": "Échanges avec le client", "en": "Exchange with the customer"},
    "exchange_waiting": {"fr": "En attente de réponse", "en": "Waiting for the answer"},
    "exchange_answered": {"fr": "Réponse du client", "en": "Customer's answer"},
    "kind_information_requested": {"fr": "Question au client", "en": "Question to the customer"},
    "kind_customer_answered": {"fr": "Réponse du client", "en": "Customer answered"},
}
