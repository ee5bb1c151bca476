from django.apps import AppConfig


class ConferenceConfig(AppConfig):
    name = "conference"
    verbose_name = "Conferences"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from conference.live.control import on_user_logged_out

        user_logged_out.connect(on_user_logged_out, dispatch_uid="live-close-on-logout")
