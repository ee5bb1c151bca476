"""The page where an invited person accepts an organizer's invitation (signed in)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedHttpRequest
from conference.services.memberships import (
    ADMIN_ROLES,
    InvitationError,
    accept_invitation,
    check_addressee,
    find_invitation,
)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """GET shows whom the invitation is from and for which role; POST accepts it."""
    try:
        found = find_invitation(token)
        check_addressee(found, request.user)
        if request.method == "POST":
            membership = accept_invitation(token, request.user)
            messages.success(
                request,
                f"You are now {membership.get_role_display()} of {membership.organizer}.",
            )
            return redirect("admin:index" if membership.role in ADMIN_ROLES else "/")
    except InvitationError as error:
        return render(request, "conference/invitation.html", {"error": str(error)}, status=410)
    return render(request, "conference/invitation.html", {"invitation": found})
