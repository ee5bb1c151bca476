app_name = "venue"
urlpatterns: list = []
