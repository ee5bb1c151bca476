"""Request types for views (typing only)."""

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind `login_required`: its user is signed in.

    Annotating such a view's `request` with this type states what `login_required` ensures, so
    `request.user` is a `User` rather than `User | AnonymousUser`. Never instantiated.
    """

    user: User
