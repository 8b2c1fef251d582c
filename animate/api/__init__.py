"""The REST API, one module per resource group (see ``animate.api.urls``)."""
