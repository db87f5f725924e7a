"""Deployment mode, identity provider configuration and the user object (data/service.py,
data/identite.py): plain functions, no server."""
from __future__ import annotations

import pytest

from data.identite import (ROLE_ADMIN_CAF, ROLE_ADMIN_NATIONAL, ROLE_CONSEILLER, ROLE_LECTEUR, ROLES,
                           IdentiteInvalide, departements_depuis_claim, roles_depuis_claim,
                           utilisateur_depuis_claims, utilisateur_local)
from data.service import (ConfigurationInvalide, config_oidc, est_adresse_locale, message_configuration_incomplete,
                          mode_courant, verifier_adresse_locale, verifier_service)

SECRET = "x" * 43
COMPLETE_ENV = {
    "ATLAS_OIDC_METADATA_URL": "https://sso.caf89.example/.well-known/openid-configuration",
    "ATLAS_OIDC_CLIENT_ID": "atlas",
    "ATLAS_OIDC_CLIENT_SECRET": "s3cr3t",
    "ATLAS_OIDC_REDIRECT_URI": "https://atlas.caf89.example/oauth2callback",
    "ATLAS_OIDC_COOKIE_SECRET": SECRET,
}


# -- modes --------------------------------------------------------------------------------------------

def test_mode_is_local_unless_service_is_asked():
    assert mode_courant({}) == "local"
    assert mode_courant({"ATLAS_MODE": " Service "}) == "service"
    with pytest.raises(ConfigurationInvalide, match="« local ».*« service »"):
        mode_courant({"ATLAS_MODE": "production"})


@pytest.mark.parametrize("address,local", [
    ("127.0.0.1", True), ("127.0.1.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("", False), (None, False), ("192.0.2.10", False), ("::", False), ("atlas.caf", False),
])
def test_local_mode_accepts_loopback_addresses_only(address, local):
    assert est_adresse_locale(address) is local
    if local:
        verifier_adresse_locale(address)
    else:
        with pytest.raises(ConfigurationInvalide, match="mode local n'écoute que sur cette machine"):
            verifier_adresse_locale(address)


# -- identity provider configuration -----------------------------------------------------------------

def test_nothing_configured_lists_the_five_missing_settings_in_french():
    cfg = config_oidc(None, {})
    problems = cfg.problemes()
    assert len(problems) == 5
    msg = message_configuration_incomplete(problems)
    for key, env in [("server_metadata_url", "ATLAS_OIDC_METADATA_URL"), ("client_id", "ATLAS_OIDC_CLIENT_ID"),
                     ("client_secret", "ATLAS_OIDC_CLIENT_SECRET"), ("redirect_uri", "ATLAS_OIDC_REDIRECT_URI"),
                     ("cookie_secret", "ATLAS_OIDC_COOKIE_SECRET")]:
        assert f"{key} dans la section [auth] de .streamlit/secrets.toml, ou la variable {env}" in msg
    assert msg.startswith("Mode service : le fournisseur d'identité (OpenID Connect) n'est pas configuré")
    with pytest.raises(ConfigurationInvalide):
        verifier_service(cfg)


def test_environment_alone_is_enough_and_gives_streamlit_its_auth_section():
    cfg = config_oidc(None, COMPLETE_ENV)
    assert cfg.problemes() == []
    verifier_service(cfg)
    assert cfg.section_auth() == {
        "server_metadata_url": COMPLETE_ENV["ATLAS_OIDC_METADATA_URL"], "client_id": "atlas",
        "client_secret": "s3cr3t", "redirect_uri": "https://atlas.caf89.example/oauth2callback",
        "cookie_secret": SECRET, "client_kwargs": {"scope": "openid email profile"},
    }
    assert cfg.redirect_origin == "https://atlas.caf89.example"
    assert cfg.avertissements == ()


def test_secrets_file_and_environment_are_merged_key_by_key_the_variable_wins():
    secrets = {"auth": {"client_id": "du-fichier", "client_secret": "fichier", "cookie_secret": SECRET,
                        "server_metadata_url": "https://sso.example/.well-known/openid-configuration",
                        "redirect_uri": "https://atlas.example/oauth2callback",
                        "client_kwargs": {"scope": "openid profile caf"}},
               "atlas": {"claim_roles": "atlas_roles"}}
    cfg = config_oidc(secrets, {"ATLAS_OIDC_CLIENT_ID": "de-la-variable", "ATLAS_OIDC_CLAIM_DEPARTEMENTS": "deps"})
    assert cfg.problemes() == []
    assert cfg.valeurs["client_id"] == "de-la-variable" and cfg.origine["client_id"] == "ATLAS_OIDC_CLIENT_ID"
    assert cfg.valeurs["client_secret"] == "fichier" and cfg.origine["client_secret"] == "secrets.toml"
    assert cfg.scope == "openid profile caf"
    assert (cfg.claim_roles, cfg.claim_departements) == ("atlas_roles", "deps")


def test_unusable_values_are_named_with_where_they_come_from():
    env = dict(COMPLETE_ENV, ATLAS_OIDC_REDIRECT_URI="https://atlas.example/retour",
               ATLAS_OIDC_METADATA_URL="sso.example/.well-known/openid-configuration",
               ATLAS_OIDC_COOKIE_SECRET="court")
    problems = config_oidc(None, env).problemes()
    assert len(problems) == 3
    text = "\n".join(problems)
    assert "« https://atlas.example/retour » (ATLAS_OIDC_REDIRECT_URI) doit se terminer par /oauth2callback" in text
    assert "« sso.example/.well-known/openid-configuration » (ATLAS_OIDC_METADATA_URL) n'est pas une adresse" in text
    assert "celui donné (ATLAS_OIDC_COOKIE_SECRET) n'a que 5 caractères" in text


def test_plain_http_outside_this_machine_is_accepted_with_a_warning():
    env = dict(COMPLETE_ENV, ATLAS_OIDC_REDIRECT_URI="http://atlas.caf89.intra/oauth2callback", ATLAS_OIDC_SCOPE="email")
    cfg = config_oidc(None, env)
    assert cfg.problemes() == []
    assert "en clair" in cfg.avertissements[0]
    assert cfg.scope == "openid email"  # OpenID Connect needs the openid scope
    assert config_oidc(None, dict(env, ATLAS_OIDC_REDIRECT_URI="http://127.0.0.1:8080/oauth2callback")).avertissements == ()


# -- the user ------------------------------------------------------------------------------------------

def test_local_user_has_every_right_everywhere():
    u = utilisateur_local()
    assert u.local and u.roles == frozenset(ROLES)
    assert all(u.a_role(r) for r in ROLES)
    assert u.couvre("89") and u.couvre("971") and u.tous_departements


def test_user_from_claims_of_a_conseiller():
    u = utilisateur_depuis_claims({"sub": "cmartin", "name": "Camille Martin", "email": "c.martin@caf89.example",
                                   "roles": ["conseiller"], "departements": ["89"]})
    assert (u.identifiant, u.nom, u.email) == ("cmartin", "Camille Martin", "c.martin@caf89.example")
    assert u.roles == {ROLE_CONSEILLER} and u.departements == {"89"}
    assert not u.local and not u.tous_departements
    assert u.couvre("89") and not u.couvre("93")
    assert u.a_role(ROLE_CONSEILLER) and not u.a_role(ROLE_ADMIN_CAF)
    assert (u.libelle_roles, u.libelle_departements) == ("conseiller", "89")


def test_claims_as_lemonldap_strings_and_configurable_claim_names():
    # LemonLDAP::NG sends multi-valued attributes joined with "; "
    claims = {"sub": "ileroy", "given_name": "Inès", "family_name": "Leroy",
              "atlas_roles": "Administrateur-Caf; conseiller", "caf_deps": "89; 2a;971 ,7"}
    u = utilisateur_depuis_claims(claims, claim_roles="atlas_roles", claim_departements="caf_deps")
    assert u.nom == "Inès Leroy"
    assert u.roles == {ROLE_ADMIN_CAF, ROLE_CONSEILLER}
    assert u.departements == {"89", "2A", "971", "07"}  # « 7 » is the Ardèche, written 07
    assert u.libelle_roles == "conseiller, administrateur Caf"
    assert u.libelle_departements == "07, 2A, 89, 971"


def test_national_administrator_covers_every_departement():
    u = utilisateur_depuis_claims({"sub": "p", "roles": "administrateur_national"})
    assert u.roles == {ROLE_ADMIN_NATIONAL} and u.couvre("2B") and u.libelle_departements == "tous les départements"


def test_unknown_or_missing_roles_make_a_reader_and_bad_codes_are_dropped():
    u = utilisateur_depuis_claims({"sub": "x", "email": "x@caf.example", "roles": ["superuser"],
                                   "departements": ["20", "96", "100", "975", "976", "abc", 93]})
    assert u.roles == {ROLE_LECTEUR}
    # 20 (Corse before 1976), 96, 100, 975 (Saint-Pierre-et-Miquelon, no Caf) and « abc » are no départements
    assert u.departements == {"93", "976"}
    assert u.nom == "x@caf.example"          # no name: the e-mail, else the identifier
    assert roles_depuis_claim(None) == frozenset() and departements_depuis_claim(True) == frozenset()


def test_a_provider_answer_without_subject_is_refused_in_french():
    with pytest.raises(IdentiteInvalide, match="pas transmis d'identifiant"):
        utilisateur_depuis_claims({"name": "Sans sub"})
