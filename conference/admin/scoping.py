"""One rule for every admin page: organizer staff see and change only their organizer's data,
and only the areas their role covers.

Each scoped admin names the lookup from its model to `Organizer` (`organizer_lookup`) and the
area it belongs to (`area`: content, CME, registrations, ...). The organizers whose area a user
may view or edit come from `conference.services.organizers` (the role matrix, docs/roles.md)
and are computed once per request. Org staff need no Django model permissions: memberships
and their roles decide.

- change lists, change forms, history, delete and autocomplete go through `get_queryset()`,
  so another organizer's object by id is "not found";
- foreign-key and many-to-many choices on every form and inline are narrowed to what the user
  may edit (`get_field_queryset`), through the related model's own scoped admin;
- actions only ever receive rows of organizers the user may edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.contrib import admin
from django.db import models
from django.db.models import Manager, Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone

from conference.services.organizers import Area, member_roles, roles_for

if TYPE_CHECKING:
    from django.contrib.admin.options import BaseModelAdmin, InlineModelAdmin
    from django.db.models.fields.related import RelatedField
    from django.db.models.options import Options
    from django.http import HttpResponseRedirect

    # What the mixins below are mixed into, so that their calls to `super()` and to the
    # admin's attributes type-check; at run time they are plain classes.
    _ChoicesBase = BaseModelAdmin[Any]
    _InlineBase = InlineModelAdmin[Any, Any]
    _AdminBase = admin.ModelAdmin[Any]
else:
    _ChoicesBase = _InlineBase = _AdminBase = object

_CACHE_ATTRIBUTE = "_medvenue_organizer_scope"


def organizer_ids(
    request: HttpRequest, *, editable: bool, area: Area | str = Area.CONTENT
) -> frozenset[int] | None:
    """Organizer ids whose `area` the user may view (or edit); None means every organizer
    (superuser). The user's memberships are read once per request."""
    user = request.user
    if user.is_active and user.is_superuser:
        return None
    roles = roles_for(area, editable=editable)
    return frozenset(
        organizer for organizer, role in request_roles(request).items() if role in roles
    )


def request_roles(request: HttpRequest) -> dict[int, str]:
    """Organizer id -> the requesting user's membership role, read once per request."""
    if _CACHE_ATTRIBUTE not in request.__dict__:
        user = request.user
        # an anonymous user is a member of no organizer (as `member_roles` says for them)
        request.__dict__[_CACHE_ATTRIBUTE] = member_roles(user) if user.is_authenticated else {}
    roles: dict[int, str] = request.__dict__[_CACHE_ATTRIBUTE]
    return roles


def scope_queryset(
    queryset: QuerySet[Any], lookup: str, ids: frozenset[int] | None
) -> QuerySet[Any]:
    """Rows of `queryset` whose organizer (reached through `lookup`) is among `ids`."""
    if ids is None:
        return queryset
    if not ids:
        return queryset.none()
    owned = queryset.model._default_manager.filter(**{f"{lookup}__in": ids}).values("pk")
    return queryset.filter(pk__in=owned)


def organizer_ids_of(obj: Model, lookup: str) -> set[int]:
    """The organizers `obj` belongs to, walking `lookup` (e.g. "event__organizer")."""
    *path, last = lookup.split("__")
    target: Any = obj
    for part in path:
        target = getattr(target, part, None)
        if target is None:
            return set()
    if last == "pk":
        return {target.pk} if target.pk else set()
    value = getattr(target, last, None)
    if isinstance(value, Manager):
        return set(value.values_list("pk", flat=True)) if target.pk else set()
    organizer_id = getattr(target, f"{last}_id", None)
    return {organizer_id} if organizer_id else set()


class ScopedChoicesMixin(_ChoicesBase):
    """Narrow every foreign-key and many-to-many choice to rows of organizers whose area (of
    the form being edited) the user may edit, among the rows the related admin shows."""

    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = {
        models.URLField: {"assume_scheme": "https"}
    }

    @property
    def area(self) -> Area:
        """The area of the form being edited: the admin's own (`OrganizerScopedAdmin.area`),
        or an inline's parent's (`ScopedInlineMixin.area`)."""
        raise NotImplementedError

    def get_field_queryset(
        self, db: str | None, db_field: RelatedField[Any, Any], request: HttpRequest
    ) -> QuerySet[Any] | None:
        queryset = super().get_field_queryset(db, db_field, request)
        related_model = db_field.remote_field.model
        if queryset is None:
            queryset = related_model._default_manager.using(db).all()
        related_admin = self.admin_site._registry.get(related_model)
        scope = getattr(related_admin, "scope_choices", None)
        if scope is not None:
            return scope(request, queryset, area=self.area)
        if request.user.is_superuser:
            return queryset
        return queryset.none()


class OrganizerScopedAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """A ModelAdmin whose rows belong to organizers through `organizer_lookup`."""

    organizer_lookup: str = "organizer"
    area: Area = Area.CONTENT

    def scope_choices(
        self, request: HttpRequest, queryset: QuerySet[Any], *, area: Area | None = None
    ) -> QuerySet[Any]:
        """Rows another form (of `area`) may pick in a foreign key: rows the user may view
        here, of organizers whose `area` the user may edit."""
        editable = organizer_ids(request, editable=True, area=area or self.area)
        visible = organizer_ids(request, editable=False, area=self.area)
        queryset = scope_queryset(queryset, self.organizer_lookup, visible)
        return scope_queryset(queryset, self.organizer_lookup, editable)

    if TYPE_CHECKING:
        # Django's answer to an object id that is not found (or not visible): a redirect to
        # the admin index with a message. A private helper that django-stubs does not declare.
        def _get_obj_does_not_exist_redirect(
            self, request: HttpRequest, opts: Options[Any], object_id: str
        ) -> HttpResponseRedirect: ...

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return scope_queryset(
            queryset, self.organizer_lookup, organizer_ids(request, editable=False, area=self.area)
        )

    def _allowed(self, request: HttpRequest, obj: Model | None, *, editable: bool) -> bool:
        ids = organizer_ids(request, editable=editable, area=self.area)
        if ids is None:
            return True
        if not ids:
            return False
        return obj is None or bool(organizer_ids_of(obj, self.organizer_lookup) & ids)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None, editable=False)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, editable=False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None, editable=True)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, editable=True)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, editable=True)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Actions change rows: none for a role that only views this area."""
        if not self.has_change_permission(request):
            return {}
        return super().get_actions(request)

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        """Actions (including bulk delete) only touch rows the user may edit."""
        editable = scope_queryset(
            queryset, self.organizer_lookup, organizer_ids(request, editable=True, area=self.area)
        )
        return super().response_action(request, editable)


class ScopedInlineMixin(ScopedChoicesMixin, _InlineBase):
    """An inline follows its parent: editable when the parent object is."""

    def _parent_admin(self) -> OrganizerScopedAdmin:
        # scoped inlines sit on the pages of scoped admins
        return cast("OrganizerScopedAdmin", self.admin_site._registry[self.parent_model])

    @property
    def area(self) -> Area:
        return self._parent_admin().area

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._parent_admin().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._parent_admin().has_change_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._parent_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._parent_admin().has_change_permission(request, obj)


class EventZoneFormMixin(_AdminBase):
    """Show and read a change form's times in the event's time zone. Subclasses say which zone
    with `form_zone(request, object_id)` (None: leave the default)."""

    def form_zone(self, request: HttpRequest, object_id: str | None) -> tzinfo | None:
        return None

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        zone = self.form_zone(request, object_id)
        if zone is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # render while the zone is active: the template shows the times
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
        return response
