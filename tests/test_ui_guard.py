"""pages._ui.message_erreur: what the user reads when something fails on a page."""
from __future__ import annotations

from data.scenarios_db import EnregistrementRefuse
from pages._ui import message_erreur
from planning.parametres import ParametreInconnu


def test_project_errors_keep_their_french_message():
    exc = EnregistrementRefuse("scénario « Puisaye » : nom déjà utilisé")
    assert message_erreur(exc) == "scénario « Puisaye » : nom déjà utilisé"
    # a KeyError subclass prints with quotes around its message: they are dropped
    assert message_erreur(ParametreInconnu("x")) == "Paramètre inconnu : x"


def test_library_errors_are_not_shown_verbatim():
    shown = message_erreur(KeyError("taux_eaje"))
    assert "taux_eaje" not in shown and shown.startswith("erreur interne (référence ")
    shown = message_erreur(ValueError("cannot reindex on an axis with duplicate labels"))
    assert "reindex" not in shown and "journal du serveur" in shown
