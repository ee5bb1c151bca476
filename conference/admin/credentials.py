"""Credential signing keys (docs/cme-claims.md, "Verifiable credential"): listed read-only,
never the private key; CME editors of an organizer rotate its key."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from conference.admin.scoping import OrganizerScopedAdmin
from conference.models import IssuerKey
from conference.services.cme import credentials
from conference.services.organizers import Area


@admin.register(IssuerKey)
class IssuerKeyAdmin(OrganizerScopedAdmin):
    area = Area.CME
    list_display = ["organizer", "thumbprint", "created_at", "state", "published"]
    list_filter = ["organizer"]
    fields = readonly_fields = (
        "organizer",
        "thumbprint",
        "public_x",
        "created_at",
        "retired_at",
        "published",
    )
    actions = ["rotate"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="State")
    def state(self, obj: IssuerKey) -> str:
        return "retired (still published)" if obj.retired_at else "active (signs new credentials)"

    @admin.display(description="Published at")
    def published(self, obj: IssuerKey):
        url = reverse("credential-jwks", kwargs={"organizer_slug": obj.organizer.slug})
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.action(description="Rotate the signing key of these keys' organizers")
    def rotate(self, request, queryset):
        organizers = {key.organizer for key in queryset.select_related("organizer")}
        for organizer in organizers:
            new = credentials.rotate_key(organizer, actor=request.user)
            self.message_user(
                request,
                f"{organizer}: new signing key {new.thumbprint}; the old one stays published, "
                "so the credentials it signed keep verifying.",
            )
