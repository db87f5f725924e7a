"""Who is using the app: one small user object, built from the identity provider's claims (service
mode) or implicit (local mode).  No Streamlit here: the layers that will check rights (scenario
store, importers, barème store) take this object as an argument; ``pages/_session.py`` builds it
from ``st.user``.

Roles (values of the roles claim, case and separators ignored):

* ``lecteur``: maps and documents;
* ``conseiller``: scenarios of its Caf's département(s);
* ``administrateur_caf``: imports and the local barème of its département(s), users of its Caf;
* ``administrateur_national``: référentiel, national barème, every département.

A signed-in user without any known role is a ``lecteur``.  Départements come from a second claim
(codes such as ``89``, ``2A``, ``971``); a national administrator covers every département.  Both
claims may hold a list or a string separated by commas, semicolons or spaces (LemonLDAP::NG sends
multi-valued attributes as ``"89; 93"``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

ROLE_LECTEUR = "lecteur"
ROLE_CONSEILLER = "conseiller"
ROLE_ADMIN_CAF = "administrateur_caf"
ROLE_ADMIN_NATIONAL = "administrateur_national"
ROLES = (ROLE_LECTEUR, ROLE_CONSEILLER, ROLE_ADMIN_CAF, ROLE_ADMIN_NATIONAL)
LIBELLES_ROLES = {
    ROLE_LECTEUR: "lecteur",
    ROLE_CONSEILLER: "conseiller",
    ROLE_ADMIN_CAF: "administrateur Caf",
    ROLE_ADMIN_NATIONAL: "administrateur national",
}

# 01-19, 21-95 (no 20 since 1976), 2A, 2B, 971-974 and 976 (the 101 départements)
_DEP = re.compile(r"^(0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5]|2A|2B|97[1-46])$")
_SPLIT = re.compile(r"[,;\s]+")


class IdentiteInvalide(Exception):
    """The provider's answer cannot identify a person (message in French)."""


@dataclass(frozen=True)
class Utilisateur:
    identifiant: str
    nom: str
    email: str | None
    roles: frozenset[str]
    departements: frozenset[str]
    local: bool = False

    @property
    def tous_departements(self) -> bool:
        return self.local or ROLE_ADMIN_NATIONAL in self.roles

    def a_role(self, role: str) -> bool:
        return self.local or role in self.roles

    def couvre(self, departement: str | None) -> bool:
        """True when this user may act on ``departement`` (None: a territory of no single département,
        such as France or a region, which only a national administrator or the local user covers)."""
        if departement is None:
            return self.tous_departements
        return self.tous_departements or departement in self.departements

    def peut(self, role: str) -> bool:
        """Roles are cumulative: lecteur < conseiller < administrateur_caf < administrateur_national.
        ``peut("conseiller")`` is true for a conseiller and for either administrator."""
        if self.local:
            return True
        rang = ROLES.index(role)
        return any(ROLES.index(r) >= rang for r in self.roles)

    @property
    def libelle_roles(self) -> str:
        return ", ".join(LIBELLES_ROLES[r] for r in ROLES if r in self.roles)

    @property
    def libelle_departements(self) -> str:
        if self.tous_departements:
            return "tous les départements"
        if not self.departements:
            return "aucun département"
        return ", ".join(sorted(self.departements))


def utilisateur_en_json(user: Utilisateur) -> str:
    """The user for a child process (the Import page's import process)."""
    import json

    return json.dumps({"identifiant": user.identifiant, "nom": user.nom, "email": user.email,
                       "roles": sorted(user.roles), "departements": sorted(user.departements), "local": user.local},
                      ensure_ascii=False)


def utilisateur_depuis_json(text: str) -> Utilisateur:
    import json

    d = json.loads(text)
    return Utilisateur(identifiant=str(d["identifiant"]), nom=str(d["nom"]), email=d.get("email") or None,
                       roles=frozenset(r for r in d.get("roles", []) if r in ROLES),
                       departements=departements_depuis_claim(d.get("departements", [])),
                       local=bool(d.get("local", False)))


def utilisateur_local() -> Utilisateur:
    """Local mode: the person at this machine, with every right."""
    return Utilisateur(identifiant="local", nom="Utilisateur local", email=None, roles=frozenset(ROLES),
                       departements=frozenset(), local=True)


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, (list, tuple, set, frozenset)):
        out: list[str] = []
        for item in raw:
            out.extend(_values(item))
        return out
    if isinstance(raw, bool):
        return []
    if isinstance(raw, int):
        return [str(raw)]
    return [v for v in _SPLIT.split(str(raw)) if v]


def _role_key(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-.]+", "_", plain.strip().lower())


def roles_depuis_claim(raw: Any) -> frozenset[str]:
    known = {r: r for r in ROLES}
    known.update({"administrateur_de_caf": ROLE_ADMIN_CAF, "admin_caf": ROLE_ADMIN_CAF,
                  "admin_national": ROLE_ADMIN_NATIONAL})
    return frozenset(known[k] for k in map(_role_key, _values(raw)) if k in known)


def normaliser_departement(value: str) -> str | None:
    v = value.strip().upper()
    if v.isdigit() and len(v) == 1:
        v = "0" + v
    return v if _DEP.match(v) else None


def departements_depuis_claim(raw: Any) -> frozenset[str]:
    return frozenset(d for d in map(normaliser_departement, _values(raw)) if d)


def _first_text(claims: Mapping[str, Any], *keys: str) -> str:
    for k in keys:
        v = claims.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


def utilisateur_depuis_claims(claims: Mapping[str, Any], claim_roles: str = "roles",
                              claim_departements: str = "departements") -> Utilisateur:
    """The user described by an ID token's claims (``st.user``)."""
    sub = _first_text(claims, "sub")
    if not sub:
        raise IdentiteInvalide("Le fournisseur d'identité n'a pas transmis d'identifiant (claim « sub ») : "
                               "connexion impossible. Signalez-le à l'administrateur de la Caf.")
    given = " ".join(p for p in (_first_text(claims, "given_name"), _first_text(claims, "family_name")) if p)
    nom = _first_text(claims, "name") or given or _first_text(claims, "preferred_username", "email") or sub
    email = _first_text(claims, "email") or None
    roles = roles_depuis_claim(claims.get(claim_roles)) or frozenset({ROLE_LECTEUR})
    deps = departements_depuis_claim(claims.get(claim_departements))
    return Utilisateur(identifiant=sub, nom=nom, email=email, roles=roles, departements=deps)

