import pytest


@pytest.mark.django_db
def test_unknown_page_is_a_site_page_not_a_bare_error(client):
    response = client.get("/events/no-such-event/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'href="/"' in html  # the site's navigation is there


def test_server_error_page_renders_without_context():
    from django.template.loader import get_template

    html = get_template("500.html").render()
    assert "Something went wrong" in html
