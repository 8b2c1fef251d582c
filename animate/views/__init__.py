"""Server-rendered pages, one module per surface (see ``animate.urls``).

Views stay thin: they find the user's membership, scope every lookup to its team, translate the request
through a form and call a service. What the page shows live comes from ``static/js/live.js``.
"""
