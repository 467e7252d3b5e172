"""The dashboard's Streamlit code, one module per concern: `cache` (the ledger and cached scores),
`pages` (where each page's script lives), `widgets` (what pages share), `access` (who is acting,
and every write), `forms` (changes to claims and sources) and `history` (the audit trail as shown).
Nothing outside the dashboard imports it; the pages in app_pages/ stay thin on top of it."""
