"""The page's own style: large type, big tap targets, narrow-screen friendly (trusted CSS)."""

from __future__ import annotations

#: Style of the page's own HTML (cards, lists, notices), injected once per run.
PAGE_CSS = """<style>
/* Text at least 16 px (older readers, phones): Streamlit's widget labels, captions and
   buttons are smaller by default. max() only lifts what is smaller. */
.stMain p, .stMain label, .stMain input, .stMain textarea, .stMain button, .stMain li,
.stMain summary, .stMain span, .stMain small, .stMain a,
.stMain [data-testid="stCaptionContainer"], .stMain [data-testid="stWidgetLabel"] {
  font-size: max(16px, 1em) !important; }
.pc-card { border: 1px solid #c9d3de; border-radius: 10px; padding: 0.8rem 1rem;
  margin: 0 0 0.8rem; background: #fff; font-size: 1.05rem; line-height: 1.5;
  overflow-wrap: anywhere; }
.pc-card h3.pc-name { font-size: 1.2rem; margin: 0 0 0.2rem; padding: 0; line-height: 1.3; }
.pc-badge { display: inline-block; background: #ede9fe; color: #4c1d95; border-radius: 6px;
  padding: 0.05rem 0.5rem; font-size: 1rem; margin-bottom: 0.3rem; }
.pc-where { color: #333; }
.pc-dist { font-weight: 600; color: #064e3b; margin: 0.2rem 0; }
.pc-contact a { display: inline-block; padding: 0.35rem 0; min-height: 44px;
  line-height: 2; color: #0b5cad; }
.pc-muted { color: #444; font-style: italic; }
.pc-services { color: #333; }
.pc-note { margin-top: 0.4rem; font-size: 1rem; color: #5b3a00; background: #fff7e6;
  border-left: 4px solid #d97706; padding: 0.3rem 0.6rem; }
.pc-list { margin: 0.2rem 0 0.6rem 1.2rem; padding: 0; overflow-wrap: anywhere; }
.pc-list li { margin: 0.2rem 0; }
.pc-p { margin: 0 0 0.6rem; overflow-wrap: anywhere; }
.st-key-pc-french { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip-path: inset(50%); }
.pc-caption { margin: 0 0 0.6rem; color: #404040; font-size: 1rem; overflow-wrap: anywhere; }
.pc-notice { border-left: 4px solid; border-radius: 8px; padding: 0.7rem 1rem;
  margin: 0 0 0.8rem; font-size: 1rem; line-height: 1.5; }
.pc-notice .pc-p { margin: 0; }
.pc-glossary dt { font-weight: 600; margin-top: 0.4rem; }
.pc-glossary dd { margin: 0 0 0.2rem 1rem; }
.pc-help { margin: -0.4rem 0 0.8rem; font-size: 1rem; }
.pc-help summary { cursor: pointer; color: #0b5cad; min-height: 44px; line-height: 44px;
  text-decoration: underline; }
.pc-help summary:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
.pc-info { background: #e8f1fb; border-color: #0b5cad; color: #0a2540; }
.pc-warning { background: #fff7e6; border-color: #b45309; color: #3d2600; }
.pc-error { background: #fdecec; border-color: #b91c1c; color: #450a0a; }
.pc-success { background: #e9f7ef; border-color: #15803d; color: #052e16; }
@media (max-width: 640px) {
  h1 { font-size: 1.9rem !important; line-height: 1.2 !important; }
}
.pc-problems { font-family: ui-monospace, monospace; font-size: 0.9rem;
  overflow-wrap: anywhere; }
</style>"""
