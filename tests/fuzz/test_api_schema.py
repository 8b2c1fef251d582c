"""Schemathesis against our own OpenAPI schema, over the real ASGI server, with a bounded number of
examples per operation: no 5xx, every 4xx in the documented error shape, every response as documented.

Examples include invalid input (``generation.modes`` positive and negative). The schema is generated in
process by drf-spectacular, exactly what ``/api/schema/`` serves.
"""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from animate.models import Membership

pytestmark = pytest.mark.timeout(600)

EXAMPLES = 20


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(_schema())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)


def errors_in_the_documented_shape(ctx, response, case) -> None:
    """Every 4xx body is ``{"errors": {"<field>": ["message", ...]}}``."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"errors"}, body
        errors = body["errors"]
        assert isinstance(errors, dict) and errors, body
        for field, messages in errors.items():
            assert isinstance(field, str) and field, body
            assert isinstance(messages, list) and messages, body
            assert all(isinstance(message, str) and message for message in messages), body


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    errors_in_the_documented_shape,
]


@pytest.fixture
def api_token(transactional_db, team, member, image_asset, video_asset) -> str:
    assert Membership.objects.filter(user=member, team=team).exists()
    return Token.objects.create(user=member).key


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case, live_server, api_token):
    case.call_and_validate(
        base_url=live_server.url, headers={"Authorization": f"Token {api_token}"}, checks=CHECKS
    )
