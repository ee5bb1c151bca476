from django.apps import AppConfig


class ConferenceConfig(AppConfig):
    name = "conference"
    verbose_name = "Conferences"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete

        from conference.live.control import on_user_logged_out
        from conference.models import Recording
        from conference.services import privacy
        from conference.services.recordings.pipeline import remove_deleted_recording_folder

        privacy.register()
        user_logged_out.connect(on_user_logged_out, dispatch_uid="live-close-on-logout")
        post_delete.connect(
            remove_deleted_recording_folder,
            sender=Recording,
            dispatch_uid="recording-folder-on-delete",
        )
