"""Recordings in the organizers' admin: upload (streamed to disk, checked by content), status and
progress (polled while processing), captions, poster, reprocessing and deletion with the files.

The add and change pages install their own upload handlers before anything reads the request
body, so they are csrf_exempt outside and csrf_protect inside (Django's "Modifying upload
handlers on the fly"). Everything else goes through `conference.services.recordings`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from conference.admin.scoping import OrganizerScopedAdmin, ScopedInlineMixin
from conference.models import Recording, RecordingCaption, RecordingStatus
from conference.services.recordings import captions, ingest, media_input, paths, pipeline
from conference.services.recordings.probe import NotAVideo, probe

POLLED_STATUSES = {RecordingStatus.QUEUED, RecordingStatus.PROCESSING, RecordingStatus.CAPTURING}
BUSY_STATUSES = POLLED_STATUSES | {RecordingStatus.SCHEDULED}
RENDITION_ORDER = {"360p": 0, "480p": 1, "540p": 2, "720p": 3, "1080p": 4, "audio": 9}
# A change page carries at most a few caption files: the whole request stays under this.
CAPTION_REQUEST_LIMIT = 12 * captions.MAX_CAPTION_BYTES


def status_payload(recording: Recording) -> dict:
    """What the change page's progress bar shows, as the status endpoint returns it."""
    return {
        "id": recording.pk,
        "status": recording.status,
        "status_label": recording.get_status_display(),
        "progress": 100 if recording.status == RecordingStatus.READY else recording.progress,
        "stage": recording.stage,
        "error": recording.error if recording.status == RecordingStatus.FAILED else "",
        "polling": recording.status in POLLED_STATUSES,
    }


def renditions_of(recording: Recording) -> list[str]:
    """Names of the published renditions ("360p", "720p", "audio"), lowest first."""
    folder = paths.published_folder(recording)
    if folder is None or not folder.is_dir():
        return []
    names = [entry.name for entry in folder.iterdir() if (entry / "index.m3u8").is_file()]
    return sorted(names, key=lambda name: (RENDITION_ORDER.get(name, 5), name))


def poster_file(recording: Recording) -> Path | None:
    folder = paths.published_folder(recording)
    if recording.status != RecordingStatus.READY or folder is None:
        return None
    poster = folder / "poster.jpg"
    return poster if poster.is_file() else None


def progress_html(recording: Recording, *, status_url: str = "") -> str:
    data = status_payload(recording)
    text = f"{data['progress']}%" + (f" — {data['stage']}" if data["stage"] else "")
    return format_html(
        '<div class="recording-progress" data-status-url="{}" data-status="{}">'
        '<progress max="100" value="{}">{}%</progress> '
        '<span class="recording-progress-text">{}</span> '
        '<strong class="recording-progress-status">{}</strong>'
        '<p class="recording-progress-error errornote"{}>{}</p>'
        '<p class="recording-progress-done" hidden>Finished. You have edited this form: save '
        'it, or <a href="">reload the page</a> (losing the edits) to see the result.</p></div>',
        status_url,
        data["status"],
        data["progress"],
        data["progress"],
        text,
        data["status_label"],
        "" if data["error"] else " hidden",
        data["error"],
    )


# --- Upload ------------------------------------------------------------------------------------


class RecordingUploadForm(forms.ModelForm):
    """Session and video file; the file is already on disk (streamed) and is probed here."""

    upload_handler: ingest.RecordingUploadHandler | None = None
    video = forms.FileField(
        required=False,
        widget=forms.FileInput(attrs={"accept": "video/*"}),
        help_text=f"A video file ({media_input.ALLOWED_DESCRIPTION}), not a playlist. What the "
        "file is is decided from its content, not its name.",
    )

    class Meta:
        model = Recording
        fields = ["session"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.probe_result = None
        limit = settings.RECORDING_MAX_UPLOAD_BYTES
        self.fields["video"].widget.attrs.update(
            {"data-max-bytes": limit, "data-too-large": ingest.too_large_message(limit)}
        )
        self.fields["video"].help_text += f" Up to {ingest.describe_limit(limit)}."

    def clean_video(self):
        handler = self.upload_handler
        if handler is not None and handler.refusal:
            raise ValidationError(handler.refusal)
        video = self.cleaned_data.get("video")
        if not video:
            raise ValidationError("Choose the video file to upload.")
        if not isinstance(video, ingest.StreamedUpload):
            raise ValidationError("The upload did not arrive completely; please try again.")
        try:
            self.probe_result = probe(video.path)
        except NotAVideo as error:
            raise ValidationError(str(error)) from error
        return video


class CaptionUploadHandler(FileUploadHandler):
    """Caption files in memory, never more than MAX_CAPTION_BYTES + 1 byte of each: a larger
    file keeps its true size (so the form says it is too large) without being kept."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.refused = bool(content_length and content_length > CAPTION_REQUEST_LIMIT)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.refused:
            raise StopUpload(connection_reset=True)
        self.buffer = io.BytesIO()
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        room = captions.MAX_CAPTION_BYTES + 1 - self.buffer.tell()
        if room > 0:
            self.buffer.write(raw_data[:room])

    def file_complete(self, file_size):
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            self.buffer,
            self.field_name,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )


# --- Captions ----------------------------------------------------------------------------------


class CaptionForm(forms.ModelForm):
    file = forms.FileField(
        required=False,
        label="WebVTT file",
        widget=forms.FileInput(attrs={"accept": ".vtt,text/vtt"}),
        help_text="UTF-8 WebVTT (.vtt), up to 2 MB. Choose a file here to replace this language.",
    )

    class Meta:
        model = RecordingCaption
        fields = ["language", "label"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.caption_data: bytes | None = None
        if self.instance.pk:
            self.fields["language"].disabled = True

    def clean_language(self) -> str:
        try:
            return captions.normalize_language(self.cleaned_data.get("language") or "")
        except captions.InvalidCaptions as error:
            raise ValidationError(str(error)) from error

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        upload = cleaned.get("file")
        if not upload:
            if not self.instance.pk:
                self.add_error("file", "Choose the WebVTT file for these captions.")
            return cleaned
        if upload.size > captions.MAX_CAPTION_BYTES:
            self.add_error("file", "The caption file is larger than 2 MB.")
            return cleaned
        data = upload.read()
        duration = self.instance.recording.duration_seconds
        try:
            self.cue_count = captions.validate_webvtt(data, duration=duration)
        except captions.InvalidCaptions as error:
            self.add_error("file", str(error))
            return cleaned
        self.caption_data = data
        return cleaned

    def validate_unique(self):
        """A new row in a language that already has captions replaces that file."""


class CaptionFormSet(BaseInlineFormSet):
    if TYPE_CHECKING:
        # whether the row is marked for deletion: Django's, not declared by django-stubs
        def _should_delete_form(self, form: forms.BaseForm) -> bool: ...

    def validate_unique(self):
        kept = [
            form
            for form in self.forms
            if form.is_valid() and form.has_changed() and not self._should_delete_form(form)
        ]
        deleted = {form.instance.language for form in self.forms if self._should_delete_form(form)}
        seen: set[str] = set()
        for form in kept:
            language = form.cleaned_data.get("language")
            if form.caption_data is not None and language in seen:
                raise ValidationError(f"Two files for the captions in “{language}”; keep one.")
            if form.caption_data is not None and language in deleted and not form.instance.pk:
                raise ValidationError(
                    f"The captions in “{language}” are being deleted and added in one step; "
                    "to replace them, choose the new file on their row."
                )
            seen.add(language)


class CaptionInline(ScopedInlineMixin, admin.TabularInline):
    model = RecordingCaption
    form = CaptionForm
    formset = CaptionFormSet
    fields = ["language", "label", "file", "cue_count"]
    readonly_fields = ["cue_count"]
    extra = 1
    verbose_name = "caption file"
    verbose_name_plural = "Captions (WebVTT)"


# --- The recording admin -----------------------------------------------------------------------


@admin.register(Recording)
class RecordingAdmin(OrganizerScopedAdmin):
    organizer_lookup = "session__event__organizer"
    list_display = [
        "label",
        "session",
        "progress_summary",
        "duration",
        "size",
        "renditions",
    ]
    list_filter = ["status", "source", ("session__event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["session__event"]
    search_fields = ["session__title", "session__event__title", "original_name"]
    autocomplete_fields = ["session"]
    actions = ["reprocess"]
    date_hierarchy = "created_at"
    change_form_template = "admin/conference/recording/change_form.html"
    readonly_fields = [
        "session",
        "source",
        "status",
        "progress_bar",
        "original_name",
        "size",
        "duration",
        "dimensions",
        "renditions",
        "poster",
        "created_by",
        "created_at",
        "ready_at",
    ]

    class Media:
        js = ["dist/admin/recordings-progress.js", "dist/admin/recordings-upload.js"]

    # --- pages

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["session", "video"]})]
        return [
            (None, {"fields": ["session", "source", "original_name", "created_by", "created_at"]}),
            ("Processing", {"fields": ["progress_bar", "ready_at"]}),
            ("Video", {"fields": ["duration", "dimensions", "size", "renditions", "poster"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else [CaptionInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RecordingUploadForm
            form = super().get_form(request, obj, change=change, **kwargs)
            handler = getattr(request, "_recording_upload_handler", None)
            return type(form.__name__, (form,), {"upload_handler": handler})
        kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("session__event", "created_by")

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        add = self.admin_site.admin_view(csrf_exempt(self.upload_add_view))
        change = self.admin_site.admin_view(csrf_exempt(self.caption_change_view))
        return [
            path("add/", add, name=f"{info}_add"),
            path("<path:object_id>/change/", change, name=f"{info}_change"),
            path("<path:object_id>/status/", self.status_view, name=f"{info}_status"),
            path(
                "<path:object_id>/poster/",
                self.admin_site.admin_view(self.poster_view),
                name=f"{info}_poster",
            ),
            *super().get_urls(),
        ]

    def upload_add_view(self, request, form_url="", extra_context=None):
        """The add page with the streaming upload handler; the temp file never outlives it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        handler = ingest.RecordingUploadHandler(request)
        request.upload_handlers = [handler]
        request._recording_upload_handler = handler
        try:
            return csrf_protect(self.add_view)(request, form_url, extra_context)
        finally:
            handler.discard()

    def caption_change_view(self, request, object_id, form_url="", extra_context=None):
        """The change page, whose caption uploads are held in memory up to their limit only."""
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if request.method == "POST" and (
            not declared.isdigit() or int(declared) > CAPTION_REQUEST_LIMIT
        ):
            self.message_user(
                request,
                "Nothing was saved: the upload is too large (caption files are at most 2 MB).",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        request.upload_handlers = [CaptionUploadHandler(request)]
        return csrf_protect(self.change_view)(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            return  # the recording's own fields are written by processing only
        handler = form.upload_handler
        video = form.cleaned_data["video"]
        recording = ingest.ingest_upload(
            session=form.cleaned_data["session"],
            upload=video.path,
            original_name=video.name,
            probe=form.probe_result,
            created_by=request.user,
        )
        if handler is not None:
            handler.path = None  # moved into place: nothing left to discard
        obj.pk = recording.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        if formset.model is not RecordingCaption:
            return super().save_formset(request, form, formset, change)
        recording = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for caption_form in formset.deleted_forms:
            if caption_form.instance.pk:
                captions.remove_caption(caption_form.instance)
                formset.deleted_objects.append(caption_form.instance)
        for caption_form in formset.forms:
            if caption_form in formset.deleted_forms or not caption_form.has_changed():
                continue
            self._save_caption(recording, caption_form, formset)
        return None

    def _save_caption(self, recording, caption_form, formset) -> None:
        data, cleaned = caption_form.caption_data, caption_form.cleaned_data
        if data is not None:
            existed = caption_form.instance.pk is not None
            caption = captions.attach_caption(
                recording, language=cleaned["language"], label=cleaned["label"], data=data
            )
            if existed:
                formset.changed_objects.append((caption, ["file"]))
            else:
                formset.new_objects.append(caption)
        elif "label" in caption_form.changed_data:
            caption = captions.relabel_caption(caption_form.instance, label=cleaned["label"])
            formset.changed_objects.append((caption, ["label"]))

    def response_add(self, request, obj, post_url_continue=None):
        """After an upload, the recording's page: it shows the processing as it goes."""
        if "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"“{obj.original_name}” was uploaded and is queued for processing.",
            messages.SUCCESS,
        )
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        return HttpResponseRedirect(url)

    def delete_model(self, request, obj):
        pipeline.delete_recording(obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for recording in queryset:
                pipeline.delete_recording(recording)

    # --- endpoints

    def status_view(self, request, object_id):
        """JSON for the progress bar: staff of the recording's organizer only (403/404)."""
        if not self.admin_site.has_permission(request):
            return JsonResponse({"error": "Staff login required."}, status=403)
        recording = self.get_object(request, unquote(object_id))
        if recording is None:
            return JsonResponse({"error": "No such recording."}, status=404)
        if not self.has_view_permission(request, recording):
            return JsonResponse({"error": "Not allowed."}, status=403)
        response = JsonResponse(status_payload(recording))
        response["Cache-Control"] = "no-store"
        return response

    def poster_view(self, request, object_id):
        recording = self.get_object(request, unquote(object_id))
        if recording is None or not self.has_view_permission(request, recording):
            raise Http404("No such recording.")
        poster = poster_file(recording)
        if poster is None:
            raise Http404("No poster yet.")
        response = FileResponse(poster.open("rb"), content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response

    # --- actions

    @admin.action(description="Process the selected recordings again")
    def reprocess(self, request, queryset):
        queued, skipped = 0, []
        with transaction.atomic():
            for recording in queryset.select_for_update(of=("self",)):
                source = paths.source_file(recording)
                if recording.status in BUSY_STATUSES:
                    skipped.append(f"{recording} (already {recording.get_status_display()})")
                elif source is None or not source.is_file():
                    skipped.append(f"{recording} (no source file)")
                else:
                    pipeline.queue_processing(recording)
                    queued += 1
        if queued:
            self.message_user(request, f"{queued} recording(s) queued for processing.")
        if skipped:
            self.message_user(request, "Not queued: " + "; ".join(skipped), messages.WARNING)

    # --- columns and fields

    @admin.display(description="Recording", ordering="pk")
    def label(self, obj: Recording) -> str:
        return f"#{obj.pk} {obj.original_name or obj.get_source_display()}"

    @admin.display(description="Event", ordering="session__event__title")
    def event(self, obj: Recording) -> str:
        return str(obj.session.event)

    @admin.display(description="Status")
    def progress_bar(self, obj: Recording) -> str:
        if obj.pk is None:
            return "—"
        url = ""
        if obj.status in POLLED_STATUSES:
            info = f"{self.opts.app_label}_{self.opts.model_name}"
            url = reverse(f"admin:{info}_status", args=[obj.pk])
        return progress_html(obj, status_url=url)

    @admin.display(description="Status", ordering="status")
    def progress_summary(self, obj: Recording) -> str:
        return progress_html(obj)

    @admin.display(description="Duration", ordering="duration_seconds")
    def duration(self, obj: Recording) -> str:
        if obj.duration_seconds is None:
            return "—"
        minutes, seconds = divmod(int(obj.duration_seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj: Recording) -> str:
        return filesizeformat(obj.size_bytes) if obj.size_bytes else "—"

    @admin.display(description="Picture")
    def dimensions(self, obj: Recording) -> str:
        return f"{obj.width}×{obj.height}" if obj.width and obj.height else "—"

    @admin.display(description="Renditions")
    def renditions(self, obj: Recording) -> str:
        names = renditions_of(obj) if obj.status == RecordingStatus.READY else []
        return ", ".join("audio only" if name == "audio" else name for name in names) or "—"

    @admin.display(description="Poster")
    def poster(self, obj: Recording) -> str:
        if poster_file(obj) is None:
            return "—"
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_poster", args=[obj.pk])
        return format_html('<img src="{}" alt="Poster" width="320" loading="lazy">', url)


class SessionRecordingInline(ScopedInlineMixin, admin.TabularInline):
    """The session's recordings, read-only, with a link to upload one (on the session page)."""

    model = Recording
    fields = readonly_fields = (
        "status",
        "progress",
        "stage",
        "original_name",
        "duration_seconds",
        "created_at",
    )
    extra = 0
    show_change_link = True
    template = "admin/conference/recording/session_inline.html"
    verbose_name_plural = "Recordings"

    def has_view_permission(self, request, obj=None):
        """Shown on a session's page only, and only when reading it: session forms post
        nothing for this read-only list, so it must not take part in their validation."""
        shown = obj is not None and request.method in ("GET", "HEAD")
        return shown and super().has_view_permission(request, obj)

    def get_queryset(self, request):
        # the formset narrows this to the session, whose page the parent admin has scoped
        queryset = Recording.objects.order_by("-created_at")
        return queryset if self._parent_admin().has_view_permission(request) else queryset.none()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
