"""CME in the organizers' admin: credit designations, evaluation forms, claims (with attendance
segments, corrections, review, revocation), certificates (bulk issue) and the audit trail.

Claims and certificates are records: the admin shows them read-only and changes them only
through the `conference.services.cme` package (a correction is a new row with a reason).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from conference.admin.scoping import OrganizerScopedAdmin, ScopedInlineMixin
from conference.models import (
    Certificate,
    Claim,
    ClaimAddition,
    ClaimCorrection,
    ClaimStatus,
    CmeAuditEntry,
    EnduringActivity,
    EnduringCredit,
    EvaluationForm,
    EvaluationQuestion,
    EventCredit,
    PostTest,
    PostTestAttempt,
    PostTestQuestion,
)
from conference.services import posttests
from conference.services.cme import case as credit_case
from conference.services.cme import certificates as cme_certificates
from conference.services.cme import claims as claiming
from conference.services.cme import designation, enduring, printed, records
from conference.services.cme import reports as cme_reports
from conference.services.cme.terms import ClaimRefused
from conference.services.organizers import Area
from conference.services.recordings.pipeline import ready_recording

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # what `CountedRelationsMixin` is mixed into; at run time a plain class
    _CountedBase = OrganizerScopedAdmin
else:
    _CountedBase = object


class CountedRelationsMixin(_CountedBase):
    """Annotates the admin's queryset with `<relation>_total`, the distinct count of each
    relation named in `counted_relations` (for sortable count columns)."""

    counted_relations: tuple[str, ...] = ()

    def get_queryset(self, request):
        totals = {f"{name}_total": Count(name, distinct=True) for name in self.counted_relations}
        return super().get_queryset(request).annotate(**totals)


class QuestionCountMixin(CountedRelationsMixin):
    """A form with questions: a sortable "Questions" column (`questions` must be counted)."""

    @admin.display(description="Questions", ordering="questions_total")
    def question_count(self, obj) -> int:
        return obj.questions_total


def _check_post_test(
    form: forms.ModelForm, test: PostTest, *, event_id: int, other_event: str
) -> None:
    """A form's chosen post-test must belong to the event and be ready to use."""
    if test.event_id != event_id:
        form.add_error("post_test", f"Choose a post-test of {other_event}.")
    elif problems := posttests.setup_problems(test):
        form.add_error("post_test", " ".join(problems))


class EventCreditForm(forms.ModelForm):
    class Meta:
        model = EventCredit
        fields = [
            "event",
            "credit_type",
            "designated_max",
            "activity_number",
            "statement_override",
            "signatory_name",
            "signatory_title",
            "claim_opens_at",
            "claim_closes_at",
            "evaluation_required",
            "post_test",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        event, test = data.get("event"), data.get("post_test")
        if event and test:
            _check_post_test(self, test, event_id=event.pk, other_event="this event")
        self._check_designation(data)
        return data

    def _check_designation(self, data: dict) -> None:
        """Refuse a maximum above the most one learner could earn, with the computation."""
        event, code, maximum = (
            data.get("event"),
            data.get("credit_type"),
            data.get("designated_max"),
        )
        if not (event and code and maximum is not None) or self.errors:
            return
        draft = EventCredit(
            event=event,
            credit_type=code,
            increment=data.get("increment"),
            minimum=data.get("minimum"),
            rounding=data.get("rounding") or "",
            eligible_degrees=data.get("eligible_degrees") or "",
            required_ids=data.get("required_ids") or "",
            reporting_deadline_days=data.get("reporting_deadline_days"),
        )
        limit = designation.attainable_credit(event)
        problem = designation.designation_problem(
            event, credit_case.rule_for(draft), maximum, limit=limit
        )
        if problem:
            self.add_error(
                "designated_max",
                format_html("{}<br>{}", problem, attainable_table(limit, event)),
            )


def attainable_table(limit, event) -> str:
    """The computation of the attainable maximum as a small table (the best path)."""
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{} – {}</td><td>{}</td></tr>",
        (
            (
                step.title,
                timezone.localtime(step.start, event.tzinfo).strftime("%d %b %H:%M"),
                timezone.localtime(step.end, event.tzinfo).strftime("%H:%M"),
                _minutes_text(step.seconds),
            )
            for step in limit.path
        ),
    )
    sessions = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                s.spec.title,
                "cancelled" if s.spec.cancelled else _minutes_text(s.eligible_seconds),
                "–" if s.spec.cancelled else _minutes_text(s.cap_seconds),
                _minutes_text(s.counted_seconds),
            )
            for s in limit.sessions
        ),
    )
    return format_html(
        '<table class="attainable-path"><caption>Best path through the credit-eligible '
        "time ({} in all; sessions side by side count once)</caption>"
        "<thead><tr><th>session</th><th>time</th><th>counted</th></tr></thead>"
        "<tbody>{}</tbody></table>"
        '<table class="attainable-sessions"><caption>Credit-eligible sessions</caption>'
        "<thead><tr><th>session</th><th>eligible</th><th>designated minutes</th>"
        "<th>on the path</th></tr></thead><tbody>{}</tbody></table>",
        _minutes_text(limit.seconds),
        rows,
        sessions,
    )


def _minutes_text(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")


@admin.register(EventCredit)
class EventCreditAdmin(OrganizerScopedAdmin):
    area = Area.CME
    organizer_lookup = "event__organizer"
    list_display = [
        "event",
        "credit_type",
        "designated_max",
        "attainable_list",
        "claim_opens_at",
        "claim_closes_at",
        "evaluation_required",
        "pars_link",
        "audit_pack_link",
        "attendance_link",
    ]
    list_filter = ["credit_type", ("event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["event"]
    search_fields = ["event__title", "activity_number"]
    autocomplete_fields = ["event"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "event",
                    "credit_type",
                    "designated_max",
                    "attainable_maximum",
                    "activity_number",
                ]
            },
        ),
        ("Certificate", {"fields": ["statement_override", "signatory_name", "signatory_title"]}),
        (
            "Claiming",
            {"fields": ["claim_opens_at", "claim_closes_at", "evaluation_required", "post_test"]},
        ),
        (
            "Credit rule (empty fields keep the credit type's default)",
            {
                "fields": [
                    "increment",
                    "minimum",
                    "rounding",
                    "eligible_degrees",
                    "required_ids",
                    "reporting_deadline_days",
                    "effective_rule",
                ]
            },
        ),
    ]
    readonly_fields = ["effective_rule", "attainable_maximum"]
    form = EventCreditForm

    @admin.display(description="attainable maximum")
    def attainable_maximum(self, obj: EventCredit | None) -> str:
        if obj is None or not obj.pk:
            return (
                "Shown once saved: the most one learner could earn, which the designated "
                "maximum may not exceed."
            )
        limit = designation.attainable_credit(obj.event)
        rule = credit_case.rule_for(obj)
        return format_html(
            "<strong>{}</strong> — {}<br>{}",
            limit.max_credit(rule),
            limit.explain(rule),
            attainable_table(limit, obj.event),
        )

    @admin.display(description="attainable")
    def attainable_list(self, obj: EventCredit) -> str:
        allowed = designation.attainable_credit(obj.event).max_credit(credit_case.rule_for(obj))
        if obj.designated_max > allowed:
            return format_html(
                '<strong class="errornote">{} (designation too high)</strong>', allowed
            )
        return str(allowed)

    @admin.display(description="rule in effect")
    def effective_rule(self, obj: EventCredit | None) -> str:
        if obj is None or not obj.pk:
            return "Shown once saved."
        rule = credit_case.rule_for(obj)
        return format_html(
            "increment {} · minimum {} · rounding {} · degrees {} · learner IDs {} · "
            "reporting deadline {} · rule version {}",
            rule.increment,
            rule.minimum,
            rule.rounding,
            ", ".join(rule.eligible_degrees) or "all",
            ", ".join(rule.required_ids) or "none",
            f"{rule.reporting_deadline_days} days" if rule.reporting_deadline_days else "none",
            rule.version,
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("post_test")
        if (
            obj is not None
            and isinstance(field, forms.ModelChoiceField)
            and field.queryset is not None
        ):
            field.queryset = field.queryset.filter(event=obj.event)
        return form

    @admin.display(description="PARS")
    def pars_link(self, obj: EventCredit) -> str:
        url = reverse("admin:conference_eventcredit_pars", args=[obj.pk])
        return format_html('<a href="{}">Learner file</a>', url)

    @admin.display(description="Audit pack")
    def audit_pack_link(self, obj: EventCredit) -> str:
        url = reverse("admin:conference_eventcredit_audit_pack", args=[obj.pk])
        return format_html('<a href="{}">Zip of the event</a>', url)

    @admin.display(description="Attendance")
    def attendance_link(self, obj: EventCredit) -> str:
        url = reverse("admin:conference_eventcredit_attendance", args=[obj.pk])
        return format_html('<a href="{}">Per learner and session</a>', url)

    def get_urls(self):
        pars = self.admin_site.admin_view(self.pars_view)
        pack = self.admin_site.admin_view(self.audit_pack_view)
        attendance = self.admin_site.admin_view(self.attendance_view)
        return [
            path(
                "<path:object_id>/attendance/",
                attendance,
                name="conference_eventcredit_attendance",
            ),
            path("<path:object_id>/pars/", pars, name="conference_eventcredit_pars"),
            path("<path:object_id>/audit-pack/", pack, name="conference_eventcredit_audit_pack"),
            *super().get_urls(),
        ]

    def attendance_view(self, request, object_id):
        """Every learner's attendance segments per session and computed credit (recomputed)."""
        event_credit = self.get_object(request, unquote(object_id))
        if event_credit is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, event_credit):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": event_credit,
            "title": f"Attendance and computed credit: {event_credit.event}",
            "learners": cme_reports.attendance_overview(event_credit.event),
        }
        return TemplateResponse(request, "admin/conference/eventcredit/attendance.html", context)

    def audit_pack_view(self, request, object_id):
        """Attendance, claims, corrections, certificates, evaluations and audit trail (zip)."""
        event_credit = self.get_object(request, unquote(object_id))
        if event_credit is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, event_credit):
            raise PermissionDenied
        event = event_credit.event
        response = HttpResponse(cme_reports.audit_pack(event), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="cme-audit-{event.slug}.zip"'
        return response

    def pars_view(self, request, object_id):
        """The PARS learner file: problems per learner on the page, valid rows as CSV."""
        event_credit = self.get_object(request, unquote(object_id))
        if event_credit is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, event_credit):
            raise PermissionDenied
        name = f"pars-{event_credit.event.slug}-{event_credit.credit_type}"
        if request.GET.get("download") == "xlsx":
            response = HttpResponse(
                cme_reports.pars_learner_workbook(event_credit),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
            return response
        text, problems = cme_reports.pars_learner_file(event_credit)
        if request.GET.get("download") == "csv":
            response = HttpResponse(text, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": event_credit,
            "title": f"PARS learner file: {event_credit.event} — {event_credit}",
            "rows": max(text.count("\n") - 1, 0),
            "problems": problems,
        }
        return TemplateResponse(request, "admin/conference/eventcredit/pars.html", context)


class PostTestQuestionForm(forms.ModelForm):
    class Meta:
        model = PostTestQuestion
        fields = ["order", "text", "choices", "correct_answer"]
        widgets = {"choices": forms.Textarea(attrs={"rows": 4, "cols": 40})}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("DELETE") or "choices" not in data or "correct_answer" not in data:
            return data
        data["correct_answer"] = data["correct_answer"].strip()
        for field, problem in posttests.question_problems(
            choices=data["choices"], correct_answer=data["correct_answer"]
        ):
            self.add_error(field, problem)
        return data


class PostTestQuestionInline(ScopedInlineMixin, admin.StackedInline):
    model = PostTestQuestion
    form = PostTestQuestionForm
    extra = 1


@admin.register(PostTest)
class PostTestAdmin(QuestionCountMixin, OrganizerScopedAdmin):
    area = Area.CME
    counted_relations = ("questions", "attempts")
    organizer_lookup = "event__organizer"
    list_display = [
        "title",
        "event",
        "pass_percent",
        "max_attempts",
        "question_count",
        "attempt_count",
        "usable",
    ]
    list_filter = [("event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["event"]
    search_fields = ["title", "event__title"]
    autocomplete_fields = ["event"]
    inlines = [PostTestQuestionInline]
    fields = [
        "event",
        "title",
        "instructions",
        "pass_percent",
        "max_attempts",
        "questions_per_attempt",
        "item_analysis",
    ]
    readonly_fields = ["item_analysis"]

    @admin.display(description="Item analysis")
    def item_analysis(self, obj: PostTest | None) -> str:
        """Per question over every submitted attempt: share correct, option distribution."""
        if obj is None or not obj.pk:
            return "Shown once learners have taken the test."
        items = posttests.item_analysis(obj)
        rows = format_html_join(
            "",
            '<tr data-question="{}"><td>{}</td><td>{}</td><td>{}</td><td><ul>{}</ul></td></tr>',
            (
                (
                    item.question.pk,
                    item.question.text,
                    item.answered,
                    "—" if item.share_correct is None else f"{item.share_correct}%",
                    format_html_join(
                        "",
                        "<li>{}{}: {} ({})</li>",
                        (
                            (
                                option,
                                " ✔" if right else "",
                                count,
                                f"{count * 100 // item.answered}%" if item.answered else "0%",
                            )
                            for option, count, right in item.distribution
                        ),
                    ),
                )
                for item in items
            ),
        )
        return format_html(
            '<table class="item-analysis"><thead><tr><th>Question</th><th>Answered</th>'
            "<th>Correct</th><th>Options chosen (✔ correct)</th></tr></thead>"
            "<tbody>{}</tbody></table><p>Every submitted attempt counts, first and repeated "
            "ones alike; a question drawn from a pool counts in the attempts that drew it.</p>",
            rows,
        )

    @admin.display(description="Attempts", ordering="attempts_total")
    def attempt_count(self, obj) -> int:
        return obj.attempts_total

    @admin.display(description="Ready to use", boolean=True)
    def usable(self, obj: PostTest) -> bool:
        return not posttests.setup_problems(obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for problem in posttests.setup_problems(form.instance):
            messages.warning(request, f"Learners cannot take this test yet: {problem}")
        if change and PostTestAttempt.objects.filter(test=form.instance).exists():
            messages.info(
                request,
                "Learners have already taken this test: their attempts keep the questions and "
                "answers as they were.",
            )


class EnduringCreditInline(ScopedInlineMixin, admin.TabularInline):
    model = EnduringCredit
    fields = ["credit_type", "designated_max", "activity_number", "statement_override"]
    extra = 1


class EnduringActivityForm(forms.ModelForm):
    class Meta:
        model = EnduringActivity
        fields = [
            "session",
            "title",
            "is_published",
            "release_date",
            "review_date",
            "expiry_date",
            "post_test",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        release, review, expiry = (
            data.get("release_date"),
            data.get("review_date"),
            data.get("expiry_date"),
        )
        if release and review and expiry:
            for field, problem in enduring.date_problems(
                release=release, review=review, expiry=expiry
            ).items():
                self.add_error(field, problem)
        session, test = data.get("session"), data.get("post_test")
        if session and test:
            _check_post_test(
                self, test, event_id=session.event_id, other_event="the session's event"
            )
        return data


@admin.register(EnduringActivity)
class EnduringActivityAdmin(CountedRelationsMixin, OrganizerScopedAdmin):
    area = Area.CME
    counted_relations = ("claims",)
    organizer_lookup = "session__event__organizer"
    form = EnduringActivityForm
    list_display = [
        "__str__",
        "event",
        "release_date",
        "expiry_date",
        "is_published",
        "claim_count",
        "page_link",
    ]
    list_filter = ["is_published"]
    list_select_related = ["session__event"]
    search_fields = ["title", "session__title", "session__event__title"]
    inlines = [EnduringCreditInline]
    readonly_fields = ["claims_list", "page_link"]
    fieldsets = [
        (None, {"fields": ["session", "title", "is_published", "page_link"]}),
        (
            "Dates",
            {
                "fields": ["release_date", "review_date", "expiry_date"],
                "description": "Expiry at most 3 years after the release or the latest review "
                "(ACCME); credit can be claimed up to and including the expiry date.",
            },
        ),
        ("Post-test", {"fields": ["post_test"]}),
        ("Claims", {"fields": ["claims_list"]}),
    ]

    @admin.display(description="Event", ordering="session__event__title")
    def event(self, obj: EnduringActivity):
        return obj.session.event

    @admin.display(description="Claims", ordering="claims_total")
    def claim_count(self, obj) -> int:
        return getattr(obj, "claims_total", 0)

    @admin.display(description="Learner page")
    def page_link(self, obj: EnduringActivity) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("cme:enduring", kwargs={"activity_id": obj.pk})
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="Claims of this activity")
    def claims_list(self, obj: EnduringActivity) -> str:
        if obj.pk is None:
            return "—"
        claims = obj.claims.select_related("user").order_by("created_at")
        rows = (
            (
                reverse("admin:conference_claim_change", args=[c.pk]),
                c.user.email,
                c.get_credit_type_display(),
                format(c.claimed_credit, ".2f"),
                c.get_status_display(),
                timezone.localtime(c.attested_at, obj.session.event.tzinfo).strftime(
                    "%d %b %Y %H:%M"
                ),
            )
            for c in claims
        )
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            rows,
        )
        return format_html(
            "<table><thead><tr><th>Learner</th><th>Credit type</th><th>Credit</th>"
            "<th>Status</th><th>Claimed ({})</th></tr></thead><tbody>{}</tbody></table>",
            obj.session.event.timezone,
            body or format_html('<tr><td colspan="5">No claims yet.</td></tr>'),
        )


class EvaluationQuestionInline(ScopedInlineMixin, admin.TabularInline):
    model = EvaluationQuestion
    fields = ["order", "kind", "text", "choices", "required"]
    extra = 1


@admin.register(EvaluationForm)
class EvaluationFormAdmin(QuestionCountMixin, OrganizerScopedAdmin):
    area = Area.CME
    counted_relations = ("questions", "responses")
    organizer_lookup = "event__organizer"
    list_display = ["title", "event", "question_count", "response_count"]
    list_select_related = ["event"]
    search_fields = ["title", "event__title"]
    autocomplete_fields = ["event"]
    inlines = [EvaluationQuestionInline]
    readonly_fields = ["summary"]

    @admin.display(description="Answers so far")
    def summary(self, obj: EvaluationForm) -> str:
        if obj.pk is None:
            return "—"
        rows = (
            (
                s["question"],
                s["answers"],
                s["mean"] or "—",
                "; ".join(f"{k}: {v}" for k, v in s["counts"].items()) or "—",
            )
            for s in cme_reports.evaluation_summary(obj.event)
        )
        return format_html(
            "<table><thead><tr><th>Question</th><th>Answers</th><th>Mean</th><th>Counts</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Responses", ordering="responses_total")
    def response_count(self, obj) -> int:
        return obj.responses_total


class ClaimCorrectionInline(ScopedInlineMixin, admin.TabularInline):
    model = ClaimCorrection
    fields = readonly_fields = ("credit", "reason", "created_by", "created_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ClaimAdditionInline(ScopedInlineMixin, admin.TabularInline):
    """Sessions the learner added to the claim: each new total (append-only)."""

    model = ClaimAddition
    fields = readonly_fields = (
        "created_at",
        "claimed_credit",
        "computed_credit",
        "credited_seconds",
        "sessions",
        "inputs_hash",
        "rule_version",
    )
    extra = 0
    can_delete = False
    verbose_name = "sessions added (new total)"
    verbose_name_plural = "sessions added to the claim (each a new total)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CertificateInline(ScopedInlineMixin, admin.TabularInline):
    model = Certificate
    fields = readonly_fields = (
        "version",
        "code",
        "status",
        "learner_name",
        "credit",
        "issued_at",
        "revoked_reason",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CorrectionForm(forms.Form):
    credit = forms.DecimalField(min_value=0, max_digits=6, decimal_places=2)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class _ClaimLatest(TypedDict):
    """What `ClaimAdmin.get_queryset` adds to each claim."""

    latest_correction: Decimal | None
    latest_certificate_status: str | None


CLAIM_ACTIONS = {
    "correct": ("Add a correction", CorrectionForm),
    "approve": ("Approve the claim", ReasonForm),
    "reject": ("Reject the claim", ReasonForm),
    "revoke": ("Revoke the certificate", ReasonForm),
}


@admin.register(Claim)
class ClaimAdmin(OrganizerScopedAdmin):
    area = Area.CME
    organizer_lookup = "event__organizer"
    list_display = [
        "user",
        "event",
        "activity",
        "credit_type",
        "minutes",
        "computed_credit",
        "claimed_credit",
        "corrected_credit",
        "status",
        "certificate_status",
        "created_at",
    ]
    list_filter = ["status", "credit_type", ("event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "event", "enduring__session"]
    search_fields = ["user__email", "user__profile__legal_name", "event__title"]
    date_hierarchy = "created_at"
    actions = ["bulk_issue_certificates"]
    inlines = [ClaimAdditionInline, ClaimCorrectionInline, CertificateInline]
    readonly_fields = [
        "user",
        "event",
        "enduring",
        "credit_type",
        "degree",
        "status",
        "credited_seconds",
        "computed_credit",
        "claimed_credit",
        "designated_max",
        "attestation",
        "attested_at",
        "inputs_hash",
        "engine_version",
        "rule_version",
        "review_note",
        "staff_tools",
        "attendance_segments",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "user",
                    "event",
                    "enduring",
                    "credit_type",
                    "degree",
                    "status",
                    "staff_tools",
                ]
            },
        ),
        (
            "Credit",
            {
                "fields": [
                    "credited_seconds",
                    "computed_credit",
                    "claimed_credit",
                    "designated_max",
                    "review_note",
                ]
            },
        ),
        ("Attendance (recomputed now)", {"fields": ["attendance_segments"]}),
        (
            "Attestation and audit",
            {
                "fields": [
                    "attestation",
                    "attested_at",
                    "inputs_hash",
                    "engine_version",
                    "rule_version",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        latest_correction = ClaimCorrection.objects.filter(claim=OuterRef("pk")).order_by(
            "-created_at", "-id"
        )
        latest_certificate = Certificate.objects.filter(claim=OuterRef("pk")).order_by("-version")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_correction=Subquery(latest_correction.values("credit")[:1]),
                latest_certificate_status=Subquery(latest_certificate.values("status")[:1]),
            )
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Minutes", ordering="credited_seconds")
    def minutes(self, obj: Claim) -> int:
        return obj.credited_seconds // 60

    @admin.display(description="Corrected")
    def corrected_credit(self, obj: WithAnnotations[Claim, _ClaimLatest]) -> Decimal | str:
        return obj.latest_correction if obj.latest_correction is not None else "—"

    @admin.display(description="Certificate")
    def certificate_status(self, obj: WithAnnotations[Claim, _ClaimLatest]) -> str:
        return obj.latest_certificate_status or "—"

    @admin.display(description="Staff tools")
    def staff_tools(self, obj: Claim) -> str:
        names = ["correct", "revoke"]
        if obj.status == ClaimStatus.NEEDS_REVIEW:
            names = ["approve", "reject", *names]
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:conference_claim_action", args=[obj.pk, n]), CLAIM_ACTIONS[n][0])
                for n in names
            ),
        )

    @admin.display(description="Activity", ordering="enduring")
    def activity(self, obj: Claim) -> str:
        return str(obj.enduring) if obj.enduring_id else "Live"

    @admin.display(description="Sessions and segments")
    def attendance_segments(self, obj: Claim) -> str:
        if obj.enduring is not None:
            return self._enduring_evidence(obj, obj.enduring)
        result = credit_case.compute_event_credit(obj.user, obj.event)
        zone = obj.event.tzinfo
        rows = []
        for session in result.sessions:
            segments = ", ".join(
                f"{timezone.localtime(s.start, zone):%H:%M:%S}–"
                f"{timezone.localtime(s.end, zone):%H:%M:%S} ({s.closed_by}"
                + (
                    f": no proof {timezone.localtime(s.gap.start, zone):%H:%M:%S}–"
                    f"{timezone.localtime(s.gap.end, zone):%H:%M:%S}, {s.gap.seconds} s"
                    if s.gap
                    else ""
                )
                + ")"
                for s in session.segments
            )
            rows.append(
                (
                    session.spec.title,
                    session.attended_seconds // 60,
                    session.credited_seconds // 60,
                    ", ".join(session.reasons) or "—",
                    segments or "—",
                )
            )
        same = (
            "same inputs as the claim"
            if result.inputs_hash == records.latest_inputs_hash(obj)
            else ("inputs changed since the claim")
        )
        return format_html(
            "<table><thead><tr><th>Session</th><th>Attended min</th><th>Credited min</th>"
            "<th>Reasons</th><th>Segments ({})</th></tr></thead><tbody>{}</tbody></table>"
            "<p>Total credited: {} min — {}.</p>",
            obj.event.timezone,
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
            ),
            result.total_seconds // 60,
            same,
        )

    def _enduring_evidence(self, obj: Claim, activity: EnduringActivity) -> str:
        """Enduring material: the post-test attempts and the watch coverage (evidence)."""
        zone = obj.event.tzinfo
        attempts = PostTestAttempt.objects.filter(test=activity.post_test, user=obj.user)
        rows = (
            (
                a.number,
                format(a.score_percent, ".2f"),
                "passed" if a.passed else "not passed",
                timezone.localtime(a.submitted_at, zone).strftime("%d %b %Y %H:%M"),
            )
            for a in attempts.order_by("number")
        )
        recording = ready_recording(activity.session)
        coverage = enduring.watch_coverage(obj.user, recording)
        watched = (
            f"{coverage.watched_seconds:.0f} s of {coverage.duration_seconds or '?'} s"
            if coverage
            else "no ready recording"
        )
        return format_html(
            "<p>Enduring material “{}” (released {}, expires {}); post-test pass score {}%.</p>"
            "<table><thead><tr><th>Attempt</th><th>Score %</th><th>Result</th>"
            "<th>Submitted ({})</th></tr></thead><tbody>{}</tbody></table>"
            "<p>Watched (evidence, not a clock): {}.</p>",
            printed.activity_title(activity),
            activity.release_date,
            activity.expiry_date,
            activity.post_test.pass_percent,
            obj.event.timezone,
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
            watched,
        )

    @admin.action(description="Issue certificates for the selected approved claims")
    def bulk_issue_certificates(self, request, queryset):
        ids = cme_certificates.issue_certificates(queryset)
        self.message_user(
            request,
            f"{len(ids)} certificate(s) sent to the workers; the Certificate column shows progress.",
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", {})
        changelist = context.get("cl")
        if changelist is not None:
            counts = (
                Certificate.objects.filter(claim__in=changelist.queryset.values("pk"))
                .values("status")
                .annotate(total=Count("pk"))
            )
            summary = ", ".join(f"{c['total']} {c['status']}" for c in counts.order_by("status"))
            context["subtitle"] = f"Certificates: {summary or 'none yet'}"
        return response

    def get_urls(self):
        view = self.admin_site.admin_view(self.claim_action_view)
        return [
            path("<path:object_id>/do/<str:action>/", view, name="conference_claim_action"),
            *super().get_urls(),
        ]

    def claim_action_view(self, request, object_id, action):
        claim = self.get_object(request, unquote(object_id))
        if claim is None or action not in CLAIM_ACTIONS:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, claim):
            raise PermissionDenied
        title, form_class = CLAIM_ACTIONS[action]
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                self._apply(request, claim, action, form.cleaned_data)
            except ClaimRefused as refused:
                form.add_error(None, str(refused))
            else:
                self.message_user(request, f"{title}: done.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:conference_claim_change", args=[claim.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": claim,
            "title": f"{title}: {claim}",
            "form": form,
        }
        return TemplateResponse(request, "admin/conference/claim/action.html", context)

    def _apply(self, request, claim: Claim, action: str, data: dict) -> None:
        if action == "correct":
            claiming.correct_claim(
                claim,
                credit=data["credit"],
                reason=data["reason"],
                actor=request.user,
            )
        elif action in ("approve", "reject"):
            claiming.review_claim(
                claim,
                approve=action == "approve",
                actor=request.user,
                note=data["reason"],
            )
        else:
            cme_certificates.revoke_certificate(claim, reason=data["reason"], actor=request.user)


class ReadOnlyRecordAdmin(OrganizerScopedAdmin):
    area = Area.CME
    """Append-only records (certificates, the audit trail): shown, never added, changed or
    deleted in the admin; they change only through the CME services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyRecordAdmin):
    organizer_lookup = "claim__event__organizer"
    list_display = ["code", "version", "status", "learner_name", "credit", "claim", "issued_at"]
    list_filter = ["status", ("claim__event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["claim__user", "claim__event"]
    search_fields = ["code", "learner_name", "claim__user__email"]
    readonly_fields = [f.name for f in Certificate._meta.fields]


@admin.register(CmeAuditEntry)
class CmeAuditEntryAdmin(ReadOnlyRecordAdmin):
    organizer_lookup = "event__organizer"
    list_display = ["created_at", "action", "object_type", "object_id", "actor", "event"]
    list_filter = ["action", "object_type"]
    list_select_related = ["actor", "event"]
    readonly_fields = [f.name for f in CmeAuditEntry._meta.fields]


@admin.register(PostTestAttempt)
class PostTestAttemptAdmin(ReadOnlyRecordAdmin):
    organizer_lookup = "test__event__organizer"
    list_display = ["user", "test", "number", "score_percent", "passed", "submitted_at"]
    list_filter = ["passed", ("test", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "test__event"]
    search_fields = ["user__email", "test__title"]
