from django.urls import reverse


def test_postal_lookup_fills_prefecture_and_city(client, kam):
    client.force_login(kam)
    response = client.get(reverse("accounts:postal_lookup"), {"postal_code": "１００-０００１"})
    assert response.status_code == 200
    assert 'id="id_prefecture" value="東京都"' in response.text
    assert 'id="id_city" value="千代田区"' in response.text


def test_unknown_and_malformed_codes_explain_themselves(client, kam):
    client.force_login(kam)
    unknown = client.get(reverse("accounts:postal_lookup"), {"postal_code": "000-0000"})
    assert "not in the postal code list" in unknown.text
    assert "id_prefecture" not in unknown.text
    malformed = client.get(reverse("accounts:postal_lookup"), {"postal_code": "12"})
    assert "7 digits" in malformed.text


def test_postal_lookup_needs_a_signed_in_user(client, db):
    assert (
        client.get(reverse("accounts:postal_lookup"), {"postal_code": "1000001"}).status_code == 302
    )
