"""Where each dashboard page's script lives, relative to dashboard.py (st.switch_page and st.page_link take these).

Not in a folder called `pages/`: beside the entry script, that name makes Streamlit route a fresh
server's first request the legacy way, straight to the page script without `st.navigation`.
"""

OVERVIEW_PAGE = "app_pages/overview.py"
LOG_PAGE = "app_pages/log_claim.py"
CLAIMS_PAGE = "app_pages/claims.py"
CLAIM_PAGE = "app_pages/claim.py"
REVIEW_PAGE = "app_pages/review.py"
SOURCES_PAGE = "app_pages/sources.py"
SOURCE_PAGE = "app_pages/source.py"
CALIBRATION_PAGE = "app_pages/calibration.py"
TRANSFER_PAGE = "app_pages/import_export.py"
HISTORY_PAGE = "app_pages/history.py"
USERS_PAGE = "app_pages/users.py"
SIGN_IN_PAGE = "app_pages/sign_in.py"
SETUP_PAGE = "app_pages/setup.py"
