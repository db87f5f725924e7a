"""Deployment mode (local or service) and the identity provider (OpenID Connect) configuration.

No Streamlit here: ``scripts/serve.py`` checks the configuration before the server starts, and
``app.py`` (through ``pages/_session.py``) checks it again for a plain ``streamlit run``.

* **local** (default, what ``bash scripts/lancer.sh`` starts): the server listens on a loopback
  address only, one implicit user with every right, no identity provider.
* **service** (``ATLAS_MODE=service`` or ``scripts/serve.py --mode service``): every visitor signs
  in through the Caf's OpenID Connect provider with Streamlit's ``st.login``; the server refuses to
  start while the provider is not configured completely and says, in French, what is missing.

The provider is configured in the ``[auth]`` section of ``.streamlit/secrets.toml`` (Streamlit's own
keys) and/or with ``ATLAS_OIDC_*`` environment variables; a variable wins over the file, key by
key.  The names of the claims that carry roles and départements come from ``[atlas]`` in the same
file or from ``ATLAS_OIDC_CLAIM_ROLES`` / ``ATLAS_OIDC_CLAIM_DEPARTEMENTS``.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

MODE_LOCAL = "local"
MODE_SERVICE = "service"
MODES = (MODE_LOCAL, MODE_SERVICE)
MODE_ENV = "ATLAS_MODE"

DOC = "docs/DEPLOIEMENT.md"
COOKIE_SECRET_MIN = 32  # characters; `python -c "import secrets; print(secrets.token_urlsafe(32))"` gives 43

# key of Streamlit's [auth] section -> (environment variable, what it is, in French)
OIDC_KEYS: dict[str, tuple[str, str]] = {
    "server_metadata_url": ("ATLAS_OIDC_METADATA_URL",
                            "l'adresse des métadonnées du fournisseur d'identité "
                            "(…/.well-known/openid-configuration)"),
    "client_id": ("ATLAS_OIDC_CLIENT_ID", "l'identifiant du client enregistré chez le fournisseur"),
    "client_secret": ("ATLAS_OIDC_CLIENT_SECRET", "le secret de ce client"),
    "redirect_uri": ("ATLAS_OIDC_REDIRECT_URI",
                     "l'adresse de retour publique de l'application (https://…/oauth2callback)"),
    "cookie_secret": ("ATLAS_OIDC_COOKIE_SECRET",
                      f"le secret qui signe les cookies de connexion ({COOKIE_SECRET_MIN} caractères au moins, "
                      "le même pour toutes les instances)"),
}
SCOPE_ENV = "ATLAS_OIDC_SCOPE"
DEFAULT_SCOPE = "openid email profile"
CLAIM_ROLES_ENV = "ATLAS_OIDC_CLAIM_ROLES"
CLAIM_DEPARTEMENTS_ENV = "ATLAS_OIDC_CLAIM_DEPARTEMENTS"
DEFAULT_CLAIM_ROLES = "roles"
DEFAULT_CLAIM_DEPARTEMENTS = "departements"


class ConfigurationInvalide(Exception):
    """The deployment cannot start as configured; the message says why, in French."""


def mode_courant(environ: Mapping[str, str]) -> str:
    value = (environ.get(MODE_ENV) or MODE_LOCAL).strip().lower()
    if value not in MODES:
        raise ConfigurationInvalide(
            f"{MODE_ENV}={environ.get(MODE_ENV)!r} n'est pas un mode connu : indiquez « local » (poste de "
            f"travail, sans authentification) ou « service » (connexion par le fournisseur d'identité de la Caf)."
        )
    return value


def est_adresse_locale(address: str | None) -> bool:
    """True for an address that only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if not address:
        return False
    a = address.strip().strip("[]")
    if a.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(a).is_loopback
    except ValueError:
        return False


def verifier_adresse_locale(address: str | None) -> None:
    if not est_adresse_locale(address):
        raise ConfigurationInvalide(
            f"Le mode local n'écoute que sur cette machine (127.0.0.1) : l'adresse d'écoute « {address} » "
            "rendrait l'application, sans authentification, accessible depuis le réseau. Pour servir "
            f"plusieurs personnes, utilisez le mode service (ATLAS_MODE=service, voir {DOC})."
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _is_url(value: str, schemes: tuple[str, ...] = ("http", "https")) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.netloc)


@dataclass(frozen=True)
class ConfigOIDC:
    """The identity provider settings, merged from secrets.toml and the environment."""

    valeurs: dict[str, str]
    origine: dict[str, str]          # key -> "ATLAS_OIDC_…" or "secrets.toml"
    scope: str = DEFAULT_SCOPE
    claim_roles: str = DEFAULT_CLAIM_ROLES
    claim_departements: str = DEFAULT_CLAIM_DEPARTEMENTS
    depuis_environnement: bool = False
    avertissements: tuple[str, ...] = field(default_factory=tuple)

    def problemes(self) -> list[str]:
        """One French line per missing or unusable setting (empty when the provider can be used)."""
        out = []
        for key, (env, what) in OIDC_KEYS.items():
            value = self.valeurs.get(key, "")
            where = f"{key} dans la section [auth] de .streamlit/secrets.toml, ou la variable {env}"
            if not value:
                out.append(f"{what} : {where}")
                continue
            src = self.origine.get(key, "")
            if key in ("server_metadata_url", "redirect_uri") and not _is_url(value):
                out.append(f"{what} : « {value} » ({src}) n'est pas une adresse http:// ou https:// complète")
            elif key == "redirect_uri" and not urlsplit(value).path.endswith("/oauth2callback"):
                out.append(f"{what} : « {value} » ({src}) doit se terminer par /oauth2callback "
                           "(chemin de retour de Streamlit)")
            elif key == "cookie_secret" and len(value) < COOKIE_SECRET_MIN:
                out.append(f"{what} : celui donné ({src}) n'a que {len(value)} caractères ; générez-en un avec "
                           "python3 -c \"import secrets; print(secrets.token_urlsafe(32))\"")
        return out

    def section_auth(self) -> dict[str, Any]:
        """The ``[auth]`` section Streamlit reads (default provider, flat keys)."""
        out: dict[str, Any] = {k: v for k, v in self.valeurs.items() if v}
        out["client_kwargs"] = {"scope": self.scope}
        return out

    @property
    def redirect_origin(self) -> str:
        parts = urlsplit(self.valeurs.get("redirect_uri", ""))
        return f"{parts.scheme}://{parts.netloc}"


def config_oidc(secrets: Mapping[str, Any] | None, environ: Mapping[str, str]) -> ConfigOIDC:
    """Merge ``[auth]``/``[atlas]`` of secrets.toml (``secrets``: the parsed file, may be None) with the
    ``ATLAS_OIDC_*`` variables of ``environ`` (a variable wins)."""
    secrets = secrets or {}
    auth = secrets.get("auth") or {}
    atlas = secrets.get("atlas") or {}
    if not isinstance(auth, Mapping):
        auth = {}
    if not isinstance(atlas, Mapping):
        atlas = {}
    valeurs, origine = {}, {}
    from_env = False
    for key, (env, _what) in OIDC_KEYS.items():
        if _text(environ.get(env)):
            valeurs[key], origine[key] = _text(environ[env]), env
            from_env = True
        elif _text(auth.get(key)):
            valeurs[key], origine[key] = _text(auth[key]), "secrets.toml"
    kwargs = auth.get("client_kwargs") if isinstance(auth.get("client_kwargs"), Mapping) else {}
    scope = _text(environ.get(SCOPE_ENV)) or _text(kwargs.get("scope")) or DEFAULT_SCOPE
    if _text(environ.get(SCOPE_ENV)):
        from_env = True
    if "openid" not in scope.split():
        scope = f"openid {scope}"
    claim_roles = _text(environ.get(CLAIM_ROLES_ENV)) or _text(atlas.get("claim_roles")) or DEFAULT_CLAIM_ROLES
    claim_deps = (_text(environ.get(CLAIM_DEPARTEMENTS_ENV)) or _text(atlas.get("claim_departements"))
                  or DEFAULT_CLAIM_DEPARTEMENTS)
    warnings = []
    redirect = valeurs.get("redirect_uri", "")
    if redirect.startswith("http://") and not est_adresse_locale(urlsplit(redirect).hostname):
        warnings.append(f"l'adresse de retour {redirect} est en http:// : les cookies de connexion circulent en "
                        "clair ; servez l'application en https:// derrière nginx (voir " + DOC + ").")
    return ConfigOIDC(valeurs=valeurs, origine=origine, scope=scope, claim_roles=claim_roles,
                      claim_departements=claim_deps, depuis_environnement=from_env,
                      avertissements=tuple(warnings))


def message_configuration_incomplete(problemes: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problemes)
    return (
        "Mode service : le fournisseur d'identité (OpenID Connect) n'est pas configuré complètement, "
        "l'application ne démarre pas. Il manque ou il faut corriger :\n"
        f"{lines}\n"
        f"Voir {DOC}, « Brancher le fournisseur d'identité de la Caf ». Pour un usage sur ce poste seul, "
        "sans authentification : bash scripts/lancer.sh (mode local)."
    )


def verifier_service(config: ConfigOIDC) -> None:
    problems = config.problemes()
    if problems:
        raise ConfigurationInvalide(message_configuration_incomplete(problems))
