"""Simulator page: the « Détail du calcul » of one amount (formula, parameters with their dated source)
and the notice of the barème version used (:mod:`pages.simulateur`)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._baremes_saisis import libelle_version
from pages._ui import md
from planning.bareme_saisie import statut
from planning.formats import fr_number, fr_parameter_value


def lien_bareme(name: str) -> str:
    """Link to the Barèmes page filtered on one parameter (same server, no external fetch)."""
    from urllib.parse import quote

    return f"/baremes?parametre={quote(name)}"


def date_fr(iso: str | None) -> str:
    if not iso:
        return "saisie de l'utilisateur"
    y, m, d = str(iso)[:10].split("-")
    return f"{d}/{m}/{y}"


def show_calculation_detail(result) -> tuple[int, str | None]:
    """« Détail du calcul » of one amount of one structure and year; returns the year and structure picked."""
    st.markdown("#### Détail du calcul")
    d1, d2, d3 = st.columns(3)
    years = [a.annee for a in result.annees]
    y_pick = d1.selectbox("Année", years, index=len(years) - 1, key="sim_det_year")
    year_rec = next(a for a in result.annees if a.annee == y_pick)
    s_opts = {l.structure_id: l.nom for l in year_rec.lignes}
    s_pick = None
    if s_opts:
        s_pick = d2.selectbox("Structure", list(s_opts), format_func=s_opts.get, key="sim_det_struct")
        ligne = next(l for l in year_rec.lignes if l.structure_id == s_pick)
        detail = {k: m.explain() for k, m in ligne.montants.items()}  # this line only, recomputed
        k_pick = d3.selectbox("Montant", list(detail), format_func=lambda k: detail[k].get("libelle", k),
                              key="sim_det_amount")
        det = detail[k_pick]

        def show_detail(det: dict, depth: int = 0) -> None:
            st.markdown(f"{'  ' * depth}**{md(det.get('libelle', ''))}** : {fr_number(det.get('valeur'), 2)} "
                        f"{md(det.get('unite', ''))}")
            st.code(det.get("formule", ""), language=None, wrap_lines=True)
            if det.get("parametres"):
                st.dataframe(pd.DataFrame([{
                    "Paramètre": p["parametre"], "Barème": lien_bareme(p["parametre"]),
                    "Valeur": fr_parameter_value(p["valeur"], p.get("unite") or ""),
                    "En vigueur depuis": date_fr(p.get("depuis")),
                    "Statut": statut(p),
                    "Confiance": p["confiance"] + (f" (date : {p['confiance_date']})"
                                                   if p.get("confiance_date", p["confiance"]) != p["confiance"] else ""),
                    "Source": p["source"],
                } for p in det["parametres"]]), hide_index=True, width="stretch",
                    column_config={"Barème": st.column_config.LinkColumn(
                        "Barème", display_text=r"/baremes\?parametre=(.*)",
                        help="Toutes les valeurs datées de ce paramètre, avec leurs sources (page Barèmes)")})
            for sub in det.get("details", []):
                show_detail(sub, depth + 1)

        show_detail(det)
        with st.expander("Entrées de ce calcul"):
            st.json(det.get("entrees", {}))
    return y_pick, s_pick


def show_bareme_version(result, data: dict) -> None:
    """The barème version of this result, and a notice when the scenario was saved with another one."""
    st.caption(f"Barème utilisé : {libelle_version(result.baremes)} — [page Barèmes](/baremes).")
    avant = data.get("bareme") if isinstance(data.get("bareme"), dict) else {}
    if st.session_state.get("sim_id") and avant.get("version") and avant["version"] != result.bareme_version:
        st.info(f"Le barème a changé depuis l'enregistrement de ce scénario (version {md(str(avant['version'])[:8])} "
                f"à l'enregistrement, version {result.bareme_version[:8]} aujourd'hui) : les montants affichés sont "
                "recalculés avec le barème en vigueur. Enregistrez le scénario pour adopter cette version.",
                icon=":material/update:")
    elif st.session_state.get("sim_id") and not avant.get("version"):
        st.caption("Ce scénario a été enregistré sans version du barème (avant son suivi) : enregistrez-le pour "
                   "la noter.")
