"""French page chrome: ``lang="fr"`` and Streamlit's own English strings, in the browser.

Streamlit serves ``<html lang="en">`` and writes some words of its own ("Skip to main
content", "Running...", "Stop", "Press Enter to submit form", the file uploader's "Drag and
drop a file here", "Browse files", "Limit 5MB per file", the pickers' "No results", "Select
all"…) with no setting to change them. A small Streamlit v2 component, mounted once per run
by the router, sets ``lang="fr"`` on the document and keeps a ``MutationObserver`` that
replaces those exact texts (and ``aria-label``/``title``/``placeholder`` values) with French
ones as Streamlit renders them. Strings not in :data:`FRENCH` stay English; the browser
tests (``tests/test_web_a11y.py``) fail on any English word still seen on the patient pages.

Not replaceable: the ``<noscript>`` line of Streamlit's ``index.html`` ("You need to enable
JavaScript to run this app.", only without JavaScript, when this code cannot run), the
``streamlit run …`` command in the connection-lost dialog, and the browser's own file
chooser and form tooltips.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

#: Streamlit's English texts (exact, trimmed) and their French replacement.
FRENCH: dict[str, str] = {
    "Skip to main content": "Aller au contenu principal",
    "Running...": "Calcul en cours…",
    "Stop": "Arrêter",
    "Press Enter to submit form": "Appuyez sur Entrée pour lancer la recherche",
    "Press Enter to apply": "Appuyez sur Entrée pour valider",
    "Drag and drop a file here": "Glissez-déposez un fichier ici",
    "Drag and drop files here": "Glissez-déposez des fichiers ici",
    "Browse files": "Choisir un fichier",
    "Upload": "Choisir un fichier",
    "No results": "Aucun résultat",
    "No options to select.": "Aucun choix possible.",
    "Select all": "Tout sélectionner",
    "Clear all": "Tout effacer",
    "Choose an option": "Choisissez",
    "Download as CSV": "Télécharger en CSV",
    "Search": "Rechercher",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "Delete": "Supprimer",
    "Remove file": "Retirer le fichier",
    "Close": "Fermer",
    "Open sidebar": "Ouvrir le menu",
    "Close sidebar": "Fermer le menu",
    "Sidebar": "Menu",
    "Expand sidebar": "Ouvrir le menu",
    "Collapse sidebar": "Fermer le menu",
    "Link to heading": "Lien vers ce titre",
    "Show password text": "Afficher le texte",
    "Hide password text": "Masquer le texte",
    "Increment": "Augmenter",
    "Decrement": "Diminuer",
    "Clear value": "Effacer",
    "Open": "Ouvrir",
    "Copy to clipboard": "Copier",
    "Show/hide columns": "Afficher ou masquer des colonnes",
    "Connecting": "Connexion…",
    "Please wait...": "Patientez…",
    "Connection error": "Connexion perdue",
    "Is Streamlit still running? If you accidentally stopped Streamlit, just restart it in "
    "your terminal:": "Le service ne répond plus : réessayez dans un instant.",
    "Connection lost. Please wait for the app to reconnect, then try again.": (
        "Connexion perdue : patientez, la page se reconnecte, puis réessayez."
    ),
    "file upload": "Choisir un fichier",
}

#: (JavaScript regular expression, replacement) for texts that carry a number.
PATTERNS: list[tuple[str, str]] = [
    (r"^Limit (\d+)MB per file", "Au plus $1 Mo par fichier"),
    (r"^(\d+(?:\.\d+)?)MB per file", "Au plus $1 Mo par fichier"),
    (r"^(\d+(?:\.\d+)?) ?MB$", "$1 Mo"),
    (r"^(\d+(?:\.\d+)?) ?KB$", "$1 ko"),
]

_JS = """
export default function (component) {
  const words = __WORDS__;
  const patterns = __PATTERNS__.map(([p, r]) => [new RegExp(p), r]);
  const attrs = ["aria-label", "title", "placeholder"];
  document.documentElement.lang = "fr";
  if (window.__parcoursFrench) { return; }
  window.__parcoursFrench = true;
  const french = (text) => {
    const t = text.trim();
    if (!t) { return null; }
    if (Object.prototype.hasOwnProperty.call(words, t)) { return text.replace(t, words[t]); }
    for (const [p, r] of patterns) { if (p.test(t)) { return text.replace(t, t.replace(p, r)); } }
    return null;
  };
  const fixNode = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const v = french(node.data);
      if (v !== null && v !== node.data) { node.data = v; }
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) { return; }
    for (const a of attrs) {
      const old = node.getAttribute(a);
      const v = old === null ? null : french(old);
      if (v !== null && v !== old) { node.setAttribute(a, v); }
    }
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    let n = walker.nextNode();
    while (n) {
      if (n.nodeType === Node.TEXT_NODE) {
        const v = french(n.data);
        if (v !== null && v !== n.data) { n.data = v; }
      } else {
        for (const a of attrs) {
          const old = n.getAttribute(a);
          const v = old === null ? null : french(old);
          if (v !== null && v !== old) { n.setAttribute(a, v); }
        }
      }
      n = walker.nextNode();
    }
  };
  const fixLang = () => {
    if (document.documentElement.lang !== "fr") { document.documentElement.lang = "fr"; }
  };
  fixNode(document.body);
  new MutationObserver((records) => {
    fixLang();
    for (const r of records) {
      if (r.type === "characterData" || r.type === "attributes") { fixNode(r.target); }
      for (const n of r.addedNodes) { fixNode(n); }
    }
  }).observe(document.documentElement, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ["lang", ...attrs],
  });
}
"""


@st.cache_resource(show_spinner=False)
def _component() -> Any:
    js = _JS.replace("__WORDS__", json.dumps(FRENCH, ensure_ascii=False)).replace(
        "__PATTERNS__", json.dumps(PATTERNS)
    )
    return st.components.v2.component("parcours_french", html="<span></span>", js=js)


def french_page() -> None:
    """Mount the component (once per run, in a hidden container)."""
    with st.container(key="pc-french"):
        _component()(key="pc-french-chrome")
