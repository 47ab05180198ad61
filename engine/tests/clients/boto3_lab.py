"""The lab's function lifecycle through boto3, unmodified, against the engine at argv[1]:
create the execution role and attach AWSLambdaBasicExecutionRole, create a python3.12 function
with the seed's handler, wait for Active, invoke it and read the START/END/REPORT lines from the
log tail, hit the error paths, delete the function, its log group and the role."""

import base64
import http.client
import io
import json
import re
import sys
import urllib.parse
import zipfile

import boto3
from botocore.exceptions import ClientError

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

HANDLER = '''def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": "ok\\n",
    }
'''


def package():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", HANDLER)
    return buffer.getvalue()


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        return error
    raise AssertionError(f"expected {code}")


def fetch(url):
    """GET a URL on the engine. Python cannot resolve *.localhost, so connect to the engine's
    address and send the URL's host as Host, as curl does for .localhost names."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
    connection.request("GET", parts.path or "/", headers={"Host": parts.netloc})
    response = connection.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def function_url_steps(client, endpoint):
    """The lab's Function URL: NONE auth, 403 until both statements exist, then 200 `ok`."""
    url = client.create_function_url_config(FunctionName="lambda-url-lab", AuthType="NONE")
    function_url = url["FunctionUrl"]
    match = re.fullmatch(r"http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:\d+/", function_url)
    assert match, url
    assert fetch(function_url)[0] == 403, "no policy: forbidden"
    client.add_permission(
        FunctionName="lambda-url-lab", StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE",
    )
    status, _, body = fetch(function_url)
    assert status == 403, "one statement is not enough since October 2025"
    assert b"urls-auth.html" in body, body
    client.add_permission(
        FunctionName="lambda-url-lab", StatementId="FunctionURLInvokeAllowPublicAccess",
        Action="lambda:InvokeFunction", Principal="*", InvokedViaFunctionUrl=True,
    )
    status, headers, body = fetch(function_url)
    assert (status, body) == (200, b"ok\n"), (status, body)
    assert headers["content-type"].startswith("text/plain"), headers
    path_form = f"{endpoint}/lambda-url/{match.group(1)}/"
    assert fetch(path_form)[2] == b"ok\n"
    policy = json.loads(client.get_policy(FunctionName="lambda-url-lab")["Policy"])
    first, second = policy["Statement"]
    assert first["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}, first
    assert second["Condition"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}, second
    assert client.get_function_url_config(FunctionName="lambda-url-lab")["AuthType"] == "NONE"
    expect_error("ResourceConflictException", client.create_function_url_config,
                 FunctionName="lambda-url-lab", AuthType="NONE")
    client.remove_permission(FunctionName="lambda-url-lab", StatementId="FunctionURLInvokeAllowPublicAccess")
    assert fetch(function_url)[0] == 403
    client.delete_function_url_config(FunctionName="lambda-url-lab")
    expect_error("ResourceNotFoundException", client.get_function_url_config, FunctionName="lambda-url-lab")
    again = client.create_function_url_config(FunctionName="lambda-url-lab", AuthType="NONE")
    assert again["FunctionUrl"] != function_url, "a re-created URL gets a new id"
    client.delete_function_url_config(FunctionName="lambda-url-lab")


def main(endpoint):
    client = boto3.client(
        "lambda", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    role = iam.create_role(
        RoleName="lambda-url-lab-role", AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
        Description="lab role",
    )["Role"]["Arn"]
    assert role == "arn:aws:iam::000000000000:role/lambda-url-lab-role", role
    iam.attach_role_policy(RoleName="lambda-url-lab-role", PolicyArn=BASIC_EXECUTION)
    got = iam.get_role(RoleName="lambda-url-lab-role")["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST_POLICY, got  # botocore decodes the URL-encoded JSON
    attached = iam.list_attached_role_policies(RoleName="lambda-url-lab-role")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC_EXECUTION}], attached
    expect_error("EntityAlreadyExists", iam.create_role, RoleName="lambda-url-lab-role",
                 AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
    expect_error("NoSuchEntity", iam.attach_role_policy, RoleName="lambda-url-lab-role",
                 PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    ec2_trust = json.dumps(TRUST_POLICY).replace("lambda.amazonaws.com", "ec2.amazonaws.com")
    wrong_role = iam.create_role(RoleName="ec2-role", AssumeRolePolicyDocument=ec2_trust)["Role"]["Arn"]
    for bad_role in (wrong_role, "arn:aws:iam::000000000000:role/no-such-role"):
        error = expect_error("InvalidParameterValueException", client.create_function,
                             FunctionName="bad-role", Runtime="python3.12", Role=bad_role,
                             Handler="lambda_function.lambda_handler", Code={"ZipFile": package()})
        assert "cannot be assumed by Lambda" in error.response["Error"]["Message"], error.response
    iam.delete_role(RoleName="ec2-role")

    created = client.create_function(
        FunctionName="lambda-url-lab", Runtime="python3.12", Role=role,
        Handler="lambda_function.lambda_handler", Code={"ZipFile": package()},
        Timeout=3, MemorySize=128, Tags={"lab": "url"},
    )
    assert created["State"] == "Pending", created
    client.get_waiter("function_active_v2").wait(FunctionName="lambda-url-lab")

    result = client.invoke(FunctionName="lambda-url-lab", Payload=b"{}", LogType="Tail")
    assert result["StatusCode"] == 200, result
    assert "FunctionError" not in result, result
    payload = json.loads(result["Payload"].read())
    assert payload["body"] == "ok\n", payload
    log = base64.b64decode(result["LogResult"]).decode()
    for line in ("START RequestId: ", "END RequestId: ", "REPORT RequestId: "):
        assert line in log, log

    function_url_steps(client, endpoint)

    updated = client.update_function_configuration(FunctionName="lambda-url-lab", Timeout=5)
    assert updated["LastUpdateStatus"] == "InProgress", updated
    client.get_waiter("function_updated_v2").wait(FunctionName="lambda-url-lab")
    assert client.get_function_configuration(FunctionName="lambda-url-lab")["Timeout"] == 5
    client.tag_resource(Resource=created["FunctionArn"], Tags={"owner": "ada"})
    assert client.list_tags(Resource=created["FunctionArn"])["Tags"] == {"lab": "url", "owner": "ada"}
    client.untag_resource(Resource=created["FunctionArn"], TagKeys=["owner"])
    client.put_function_concurrency(FunctionName="lambda-url-lab", ReservedConcurrentExecutions=2)
    assert client.get_function_concurrency(FunctionName="lambda-url-lab")["ReservedConcurrentExecutions"] == 2

    names = [f["FunctionName"] for f in client.list_functions()["Functions"]]
    assert names == ["lambda-url-lab"], names
    function = client.get_function(FunctionName="lambda-url-lab")
    assert function["Configuration"]["Runtime"] == "python3.12"
    assert function["Tags"] == {"lab": "url"}, function

    expect_error("InvalidParameterValueException", client.create_function,
                 FunctionName="old-runtime", Runtime="python2.7", Role=role,
                 Handler="lambda_function.lambda_handler", Code={"ZipFile": package()})
    expect_error("ResourceConflictException", client.create_function,
                 FunctionName="lambda-url-lab", Runtime="python3.12", Role=role,
                 Handler="lambda_function.lambda_handler", Code={"ZipFile": package()})

    logs = boto3.client(
        "logs", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    group = "/aws/lambda/lambda-url-lab"
    streams = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    assert len(streams) == 1 and "[$LATEST]" in streams[0]["logStreamName"], streams
    events = logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"],
                                 startFromHead=True)["events"]
    messages = [e["message"] for e in events]
    assert messages[0].startswith("INIT_START Runtime Version: "), messages
    assert messages[1].startswith("START RequestId: ") and messages[-1].startswith("REPORT RequestId: "), messages
    reports = logs.filter_log_events(logGroupName=group, filterPattern="REPORT")["events"]
    # One Invoke and the two URL calls that got through: a 403 never reaches the function.
    assert len(reports) == 3 and "Billed Duration" in reports[0]["message"], reports
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 7

    identity = boto3.client(
        "sts", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    ).get_caller_identity()
    assert identity["Account"] == "000000000000", identity

    client.delete_function(FunctionName="lambda-url-lab")
    expect_error("ResourceNotFoundException", client.get_function, FunctionName="lambda-url-lab")
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    expect_error("DeleteConflict", iam.delete_role, RoleName="lambda-url-lab-role")
    iam.detach_role_policy(RoleName="lambda-url-lab-role", PolicyArn=BASIC_EXECUTION)
    iam.delete_role(RoleName="lambda-url-lab-role")
    expect_error("NoSuchEntity", iam.get_role, RoleName="lambda-url-lab-role")
    print("boto3 lab: ok")


if __name__ == "__main__":
    main(sys.argv[1])
