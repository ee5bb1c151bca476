app_name = "venue-api"
urlpatterns: list = []
