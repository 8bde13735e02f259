"""The management API for one organisation's audit trail."""

urlpatterns: list = []
