"""Audit review pages of one organisation."""

app_name = "audit"
urlpatterns: list = []
