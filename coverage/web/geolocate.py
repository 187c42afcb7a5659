"""The "Utiliser ma position" button: the browser's Geolocation API as a Streamlit component."""

from __future__ import annotations

from typing import Any

import streamlit as st

_GEO_HTML = (
    '<div class="geo"><button type="button" class="geo-btn">Utiliser ma position</button>'
    '<span class="geo-msg" role="status" aria-live="polite"></span></div>'
)
_GEO_CSS = """
.geo { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem;
  font-family: var(--st-font, sans-serif); }
.geo-btn { font: inherit; font-size: 1rem; min-height: 44px; padding: 0.4rem 0.9rem;
  border-radius: 8px; border: 1px solid #0b5cad; background: #fff; color: #0b5cad;
  cursor: pointer; }
.geo-btn:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
.geo-btn[disabled] { opacity: 0.5; cursor: not-allowed; }
.geo-msg { color: #333; }
"""
# The browser's Geolocation API only: no third-party call is made by this code (the browser
# itself may ask its location provider). Coordinates are rounded by `position_query`.
_GEO_JS = """
export default function (component) {
  const { setTriggerValue, parentElement } = component;
  const btn = parentElement.querySelector(".geo-btn");
  const msg = parentElement.querySelector(".geo-msg");
  if (!btn) { return; }
  if (!("geolocation" in navigator) || !window.isSecureContext) {
    btn.disabled = true;
    msg.textContent = "Position non disponible dans ce navigateur : tapez votre commune.";
    return;
  }
  btn.onclick = () => {
    msg.textContent = "Recherche de votre position…";
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        msg.textContent = "";
        setTriggerValue("position", { lat: pos.coords.latitude, lon: pos.coords.longitude });
      },
      (err) => {
        msg.textContent = err && err.code === 1
          ? "Accès à la position refusé : tapez votre commune."
          : "Position introuvable : tapez votre commune.";
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
    );
  };
}
"""


@st.cache_resource(show_spinner=False)
def geolocate_component() -> Any:
    """The "Utiliser ma position" button (a Streamlit v2 component, registered once).

    Mount it with ``geolocate_component()(key=..., on_position_change=...)``; its
    ``position`` trigger is ``{"lat": ..., "lon": ...}`` for one run after a click.
    """
    return st.components.v2.component(
        "parcours_geolocate", html=_GEO_HTML, css=_GEO_CSS, js=_GEO_JS
    )
