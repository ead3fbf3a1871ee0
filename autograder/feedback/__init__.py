"""Feedback pages: nbgrader's GenerateFeedback without the hidden tests (pages.py), the HTML
allow-list its cleaning applies (html_policy.py) and the page template (templates/)."""
