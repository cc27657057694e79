"""The functions' own botocore session builds the same clients as botocore's default one."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import Stubber

from bulk_import.adapters.aws import AwsClients, _core_session
from bulk_import.adapters.dynamo_codec import to_item
from bulk_import.settings import Settings

SERVICES = ["dynamodb", "s3", "sqs", "stepfunctions", "events", "kms"]


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1"])
def test_clients_have_botocore_s_models_and_endpoints(service: str, region: str) -> None:
    ours = _core_session().create_client(service, region_name=region)
    stock = botocore.session.Session().create_client(service, region_name=region)
    assert ours.meta.service_model.operation_names == stock.meta.service_model.operation_names
    for name in ours.meta.service_model.operation_names[:40]:
        a = ours.meta.service_model.operation_model(name).input_shape
        b = stock.meta.service_model.operation_model(name).input_shape
        assert (a and dict(a.members).keys()) == (b and dict(b.members).keys())
    assert ours.meta.endpoint_url == stock.meta.endpoint_url
    assert ours.meta.region_name == stock.meta.region_name


def test_an_unknown_service_is_refused_as_botocore_refuses_it() -> None:
    from botocore.exceptions import UnknownServiceError

    with pytest.raises(UnknownServiceError):
        _core_session().create_client("no-such-service", region_name="us-east-1")


def test_the_first_dynamodb_call_sends_the_item_as_built() -> None:
    clients = AwsClients(Settings.from_env({"AWS_REGION": "eu-west-3"}))
    ddb = clients.client("dynamodb")
    item = to_item({"pk": "T#acme", "sk": "R", "n": 3})
    with Stubber(ddb) as stub:
        stub.add_response("put_item", {}, {"TableName": "records", "Item": item})
        ddb.put_item(TableName="records", Item=item)
        stub.assert_no_pending_responses()
    assert clients.client("dynamodb") is ddb  # one client per service and container


def test_s3_urls_are_signed_with_sigv4_by_the_functions_client() -> None:
    s3 = AwsClients(Settings.from_env({"AWS_REGION": "eu-west-3"})).client("s3")
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "files", "Key": "in/a.csv"}, ExpiresIn=900
    )
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert "eu-west-3" in url
