"""Pure computation: coverage, RPE target, PSU and bonuses, CTG trajectories.

No Streamlit, no folium here (see docs/DEVELOPPEMENT.md).
"""
