"""What the pages say, in French and English (the merchant's locale chooses)."""

from __future__ import annotations

from returns_declaration.domain.model import Locale
from returns_declaration.entrypoints.texts_follow_up import FOLLOW_UP_TEXTS

TEXTS: dict[str, dict[Locale, str]] = {
    "portal_title": {"fr": "Retourner un article", "en": "Return an item"},
    "identify_intro": {
        "fr": "Indiquez votre numéro de commande et l'adresse e-mail utilisée pour la commande.",
        "en": "Enter your order number and the e-mail address used for the order.",
    },
    "order_number": {"fr": "Numéro de commande", "en": "Order number"},
    "email": {"fr": "Adresse e-mail", "en": "E-mail address"},
    "continue": {"fr": "Continuer", "en": "Continue"},
    "back": {"fr": "Retour", "en": "Back"},
    "step": {"fr": "Étape {n} sur 4", "en": "Step {n} of 4"},
    "step1_title": {"fr": "Articles à retourner", "en": "Items to return"},
    "step1_intro": {
        "fr": "Choisissez la quantité de chaque article à retourner.",
        "en": "Choose how many of each item you want to return.",
    },
    "quantity_for": {"fr": "Quantité à retourner", "en": "Quantity to return"},
    "ordered": {"fr": "Commandé : {n}", "en": "Ordered: {n}"},
    "not_returnable": {"fr": "Non retournable", "en": "Not returnable"},
    "step2_title": {"fr": "Motif du retour", "en": "Reason for the return"},
    "reason_for": {"fr": "Motif", "en": "Reason"},
    "choose": {"fr": "Choisir…", "en": "Choose…"},
    "step3_title": {"fr": "Détails", "en": "Details"},
    "defect_comment": {
        "fr": "Décrivez le défaut (10 caractères minimum)",
        "en": "Describe the defect (at least 10 characters)",
    },
    "photos": {"fr": "Photos (1 à 5)", "en": "Photos (1 to 5)"},
    "photos_hint": {
        "fr": "Prenez ou choisissez des photos du défaut.",
        "en": "Take or choose photos of the defect.",
    },
    "photos_added": {"fr": "Photos ajoutées", "en": "Photos added"},
    "remove": {"fr": "Retirer", "en": "Remove"},
    "return_type": {"fr": "Type de retour", "en": "Return type"},
    "refund": {"fr": "Remboursement", "en": "Refund"},
    "exchange": {"fr": "Échange", "en": "Exchange"},
    "store_credit": {"fr": "Avoir", "en": "Store credit"},
    "step4_title": {"fr": "Récapitulatif", "en": "Summary"},
    "validate": {"fr": "Valider mon retour", "en": "Submit my return"},
    "edit": {"fr": "Modifier", "en": "Edit"},
    "missing": {"fr": "À compléter", "en": "Still to fill in"},
    "quantity": {"fr": "Quantité", "en": "Quantity"},
    "comment": {"fr": "Commentaire", "en": "Comment"},
    "confirmation_title": {"fr": "Retour enregistré", "en": "Return registered"},
    "return_number": {"fr": "Numéro de retour", "en": "Return number"},
    "label_ready": {"fr": "Télécharger l'étiquette (PDF)", "en": "Download the label (PDF)"},
    "label_pending": {
        "fr": "Votre étiquette est en préparation. Elle vous sera aussi envoyée par e-mail.",
        "en": "Your label is being prepared. It will also be e-mailed to you.",
    },
    "refresh": {"fr": "Actualiser", "en": "Refresh"},
    "start_again": {"fr": "Retourner un autre article", "en": "Return another item"},
    "error_summary": {
        "fr": "Certains champs sont à corriger.",
        "en": "Some fields need correcting.",
    },
    "csrf_failed": {
        "fr": "Ce formulaire a expiré. Rechargez la page et réessayez.",
        "en": "This form has expired. Reload the page and try again.",
    },
    "session_expired": {
        "fr": "Votre session a expiré ; identifiez-vous à nouveau.",
        "en": "Your session has expired; please sign in again.",
    },
    "not_found": {"fr": "Page introuvable.", "en": "Page not found."},
    "form_too_large": {
        "fr": "Ce formulaire est trop volumineux ; envoyez moins de photos à la fois.",
        "en": "This form is too large; send fewer photos at a time.",
    },
    "media_unavailable": {
        "fr": "Les photos ne peuvent pas être envoyées pour le moment ; réessayez dans un instant.",
        "en": "Photos cannot be sent right now; please try again in a moment.",
    },
    "photo_too_large": {
        "fr": "Cette photo est trop volumineuse.",
        "en": "This photo is too large.",
    },
    "photo_not_image": {
        "fr": "Ce fichier n'est pas une image prise en charge (JPEG, PNG, HEIC, WebP).",
        "en": "This file is not a supported image (JPEG, PNG, HEIC, WebP).",
    },
    "photo_refused": {
        "fr": "Cette photo n'a pas pu être ajoutée.",
        "en": "This photo could not be added.",
    },
    "photo_too_many": {
        "fr": "Cet article a déjà 5 photos.",
        "en": "This item already has 5 photos.",
    },
    # back-office
    "back_office": {"fr": "Back-office", "en": "Back-office"},
    "sign_in": {"fr": "Se connecter", "en": "Sign in"},
    "sign_out": {"fr": "Se déconnecter", "en": "Sign out"},
    "password": {"fr": "Mot de passe", "en": "Password"},
    "login_failed": {
        "fr": "Adresse e-mail ou mot de passe incorrect.",
        "en": "Wrong e-mail address or password.",
    },
    "returns": {"fr": "Retours", "en": "Returns"},
    "settings": {"fr": "Réglages", "en": "Settings"},
    "to_handle": {
        "fr": "À traiter (défectueux, étiquette en attente)",
        "en": "To handle (defective, awaiting a label)",
    },
    "all_returns": {"fr": "Tous les retours", "en": "All returns"},
    "filter": {"fr": "Filtrer", "en": "Filter"},
    "any": {"fr": "Tous", "en": "Any"},
    "defective": {"fr": "Défectueux", "en": "Defective"},
    "yes": {"fr": "Oui", "en": "Yes"},
    "no": {"fr": "Non", "en": "No"},
    "label_status": {"fr": "Étiquette", "en": "Label"},
    "submitted_at": {"fr": "Déclaré le", "en": "Submitted"},
    "submitted_from": {"fr": "Déclaré à partir du", "en": "Submitted from"},
    "submitted_to": {"fr": "Déclaré jusqu'au", "en": "Submitted until"},
    "customer": {"fr": "Client", "en": "Customer"},
    "next_page": {"fr": "Page suivante", "en": "Next page"},
    "no_returns": {"fr": "Aucun retour.", "en": "No returns."},
    "lines": {"fr": "Articles", "en": "Items"},
    "timeline": {"fr": "Historique", "en": "Timeline"},
    "generate_label": {
        "fr": "Générer l'étiquette et l'envoyer au client",
        "en": "Generate the label and e-mail the customer",
    },
    "regenerate_label": {"fr": "Régénérer l'étiquette", "en": "Regenerate the label"},
    "download_label": {"fr": "Télécharger l'étiquette", "en": "Download the label"},
    "label_requested_flash": {
        "fr": "Étiquette demandée ; le client la recevra par e-mail.",
        "en": "Label requested; the customer will receive it by e-mail.",
    },
    "status_awaiting_merchant": {
        "fr": "En attente de votre décision",
        "en": "Awaiting your decision",
    },
    "status_pending": {"fr": "En préparation", "en": "Being prepared"},
    "status_requested": {"fr": "Demandée", "en": "Requested"},
    "status_generated": {"fr": "Générée", "en": "Generated"},
    "status_rejected": {"fr": "Refusée par le transporteur", "en": "Refused by the carrier"},
    "reasons": {"fr": "Motifs de retour", "en": "Return reasons"},
    "kind_submitted": {"fr": "Retour déclaré", "en": "Return submitted"},
    "kind_customer_service_notified": {
        "fr": "Service client prévenu",
        "en": "Customer service notified",
    },
    "kind_customer_notified": {"fr": "Client prévenu", "en": "Customer notified"},
    "kind_label_requested": {"fr": "Étiquette demandée", "en": "Label requested"},
    "kind_label_generated": {"fr": "Étiquette générée", "en": "Label generated"},
    "kind_label_rejected": {"fr": "Étiquette refusée", "en": "Label refused"},
    "kind_label_emailed": {"fr": "Étiquette envoyée au client", "en": "Label e-mailed"},
    "code": {"fr": "Code", "en": "Code"},
    "label_fr": {"fr": "Libellé (français)", "en": "Label (French)"},
    "label_en": {"fr": "Libellé (anglais)", "en": "Label (English)"},
    "retired": {"fr": "Retiré", "en": "Retired"},
    "save": {"fr": "Enregistrer", "en": "Save"},
    "retire": {"fr": "Retirer", "en": "Retire"},
    "add_reason": {"fr": "Ajouter un motif", "en": "Add a reason"},
    "customer_service_email": {"fr": "E-mail du service client", "en": "Customer-service e-mail"},
    "locale": {"fr": "Langue", "en": "Language"},
    "return_window_days": {"fr": "Délai de retour (jours)", "en": "Return window (days)"},
    "saved": {"fr": "Enregistré.", "en": "Saved."},
    "invalid_value": {"fr": "Valeur invalide.", "en": "Invalid value."},
    # The API and the pages say the same (entrypoints/deps.py).
    "too_many_attempts": {
        "fr": "Trop de tentatives. Réessayez dans {minutes} minutes.",
        "en": "Too many attempts. Please try again in {minutes} minutes.",
    },
    "cursor_reset": {
        "fr": "Ce lien de page n'est plus valable : voici la première page.",
        "en": "This page link is no longer valid: here is the first page.",
    },
    # issue 15: resolving a defective return, and the setting for mixed returns
    "kind_resolved_label": {"fr": "Résolution : étiquette", "en": "Resolved: label"},
    "kind_resolved_refund_without_return": {
        "fr": "Résolution : remboursement sans retour",
        "en": "Resolved: refund without return",
    },
    "kind_resolved_replacement": {
        "fr": "Résolution : remplacement",
        "en": "Resolved: replacement",
    },
    "kind_resolved_declined": {"fr": "Résolution : refusé", "en": "Resolved: declined"},
    "resolution": {"fr": "Résolution", "en": "Resolution"},
    "resolution_none": {
        "fr": "Aucune résolution pour l'instant : le client attend votre décision.",
        "en": "No resolution yet: the customer is waiting for your decision.",
    },
    "resolution_current": {"fr": "Décision actuelle", "en": "Current decision"},
    "resolution_note_shown": {"fr": "Message au client", "en": "Message to the customer"},
    "resolution_choose": {"fr": "Que proposez-vous au client ?", "en": "What do you offer?"},
    "resolution_label": {
        "fr": "Étiquette de retour (envoyée au client par e-mail)",
        "en": "Return label (e-mailed to the customer)",
    },
    "resolution_refund_without_return": {
        "fr": "Remboursement sans retour de l'article",
        "en": "Refund without return of the item",
    },
    "resolution_replacement": {"fr": "Envoi d'un remplacement", "en": "Send a replacement"},
    "resolution_declined": {"fr": "Refuser le retour", "en": "Decline the return"},
    "resolution_note": {"fr": "Message au client", "en": "Message to the customer"},
    "resolution_note_hint": {
        "fr": "Repris dans l'e-mail au client. Obligatoire pour un refus : expliquez pourquoi.",
        "en": "Shown in the e-mail to the customer. Required to decline: say why.",
    },
    "resolution_submit": {
        "fr": "Enregistrer et prévenir le client",
        "en": "Save and tell the customer",
    },
    "resolved_flash": {
        "fr": "Résolution enregistrée ; le client est prévenu par e-mail.",
        "en": "Resolution saved; the customer is told by e-mail.",
    },
    "split_mixed_note": {
        "fr": "Les articles non défectueux ont déjà leur étiquette ; les articles défectueux "
        "attendent votre décision.",
        "en": "The items that are not defective have their label already; the defective ones "
        "wait for your decision.",
    },
    "split_mixed_returns": {
        "fr": "Retours mixtes : étiquette immédiate pour les articles non défectueux",
        "en": "Mixed returns: label at once for the items that are not defective",
    },
    "split_mixed_returns_hint": {
        "fr": "Désactivé : un seul article défectueux met tout le retour en attente de votre "
        "décision.",
        "en": "Off: one defective item holds the whole return until you decide.",
    },
}

TEXTS |= FOLLOW_UP_TEXTS


def text(locale: Locale, key: str, **values: object) -> str:
    return TEXTS[key][locale].format(**values)
