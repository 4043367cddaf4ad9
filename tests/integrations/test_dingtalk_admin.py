"""A person's DingTalk user id in the admin, and the approvals' read-only log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from targets.models import User
from tests.targets.test_admin import _roles, _user_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_an_admin_links_a_person_to_their_dingtalk_user(admin_client, org):
    url = reverse("admin:targets_user_change", args=[org.alice.pk])
    response = admin_client.post(
        url, _user_form(org.alice, dingtalk_userid="dt-alice", **_roles(org.alice))
    )
    assert response.status_code == 302, response.content[:800]
    assert User.objects.get(pk=org.alice.pk).dingtalk_userid == "dt-alice"
    # Empty ids are many; a set one belongs to one person.
    bob = admin_client.post(
        reverse("admin:targets_user_change", args=[org.bob.pk]),
        _user_form(org.bob, dingtalk_userid="dt-alice", **_roles(org.bob)),
    )
    assert bob.status_code == 200 and b"errorlist" in bob.content
    assert User.objects.get(pk=org.bob.pk).dingtalk_userid == ""


def test_the_approvals_log_is_read_only(admin_client, dingtalk):
    assert (
        admin_client.get(reverse("admin:integrations_approvalinstance_changelist")).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:integrations_approvalinstance_add")).status_code == 403
