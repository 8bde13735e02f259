"""The management API: the person's own data."""

urlpatterns: list = []
