"""Property-based API tests: schemathesis generates requests from our own OpenAPI schema.

Valid and invalid requests alike: every answer must be a documented status with a body matching
the documented schema; never a 500. Valid-looking input that the domain refuses (a postal code
of 9 digits) is a 422 by design, so the "positive data is accepted" check is left out.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tokui.users.services import api_token_create
from tokui.wsgi import application

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    application,
    config=schemathesis.Config.from_dict(
        {"generation": {"max-examples": 25, "deterministic": True}}
    ),
)


@pytest.fixture
def token(kam, west_am, make_account, make_contact):
    make_contact(make_account(kam))
    make_contact(make_account(west_am))  # one the caller may not see
    return api_token_create(actor=kam, user=kam)[1]


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, excluded_checks=[positive_data_acceptance]
    )
