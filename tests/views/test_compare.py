"""The compare page: two outputs on one transport, a wipe, and only the parameters that differ."""

from django.urls import reverse

from animate.views.compare import differences
from tests.reviewkit import result, run


def test_only_what_differs_is_listed(member, image_asset, video_asset):
    a = result(run(member, image_asset, video_asset, parameters={"resolution": "480p", "fps": 16}), seed=1)
    b = result(run(member, image_asset, video_asset, parameters={"resolution": "720p", "fps": 16}), seed=2)

    rows = {row["label"]: (row["a"], row["b"]) for row in differences(a, b)}

    assert rows["Seed"] == ("1", "2")
    assert rows["Resolution"] == ("480p", "720p")
    assert "Frames per second" not in rows and "Size" not in rows


def test_the_page_plays_both_with_one_transport_and_a_labelled_wipe(client, member, image_asset, video_asset):
    generation = run(member, image_asset, video_asset)
    a, b = result(generation, seed=5), result(generation, seed=6)
    client.force_login(member)

    response = client.get(reverse("compare"), {"a": a.pk, "b": b.pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("media-output", args=[a.pk]) in html and reverse("media-output", args=[b.pk]) in html
    assert html.count("data-transport") == 1
    assert 'for="wipe">Wipe position<' in html and 'for="view-wipe"' in html
    assert 'for="pick-a">Output A<' in html and 'for="pick-b">Output B<' in html


def test_without_two_outputs_the_page_asks_for_them(client, member):
    client.force_login(member)

    html = client.get(reverse("compare")).content.decode()

    assert "Choose two outputs" in html
