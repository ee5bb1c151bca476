from django.apps import AppConfig


class ConferenceConfig(AppConfig):
    name = "conference"
    verbose_name = "Conferences"

    def ready(self) -> None:
        # Imported here: models (and the modules that use them) load only once apps are ready.
        from asgiref.sync import async_to_sync
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete

        from conference.live.broadcast import broadcast_caption, broadcast_stage
        from conference.live.control import aclose_user_sockets, on_user_logged_out
        from conference.models import Recording
        from conference.services import hall_events, privacy
        from conference.services.recordings.pipeline import remove_deleted_recording_folder

        privacy.register()
        hall_events.connect(
            stage_update=broadcast_stage,
            close_user_sockets=async_to_sync(aclose_user_sockets),
            stage_caption=broadcast_caption,
        )
        user_logged_out.connect(on_user_logged_out, dispatch_uid="live-close-on-logout")
        post_delete.connect(
            remove_deleted_recording_folder,
            sender=Recording,
            dispatch_uid="recording-folder-on-delete",
        )
