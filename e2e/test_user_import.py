"""Cognito's user import with boto3, as its documentation walks it through:
GetCSVHeader, CreateUserImportJob, the CSV PUT to the job's pre-signed URL,
StartUserImportJob, DescribeUserImportJob until it completes, ListUserImportJobs.
Imported users arrive RESET_REQUIRED: sign-in answers PasswordResetRequiredException
until ForgotPassword / ConfirmForgotPassword set a password."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import create_pool_and_client, latest_code, make_boto_client, unique

ROLE = "arn:aws:iam::111111111111:role/CognitoImportRole"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
# Cognito's completion messages, as its documentation's examples show them.
COMPLETED = "Import Job Completed Successfully."
TOO_MANY_FAILED = "Too many users have failed or been skipped during the import."
STOPPED = "The Import Job was stopped by the developer."
# Cognito's job ids: "import-" and 10 letters and digits (e.g. import-mAgUtd8PMm).
JOB_ID = re.compile(r"import-[0-9A-Za-z]{10}")


def csv_file(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    for row in rows:
        writer.writerow({h: row.get(h, "") for h in header})
    return out.getvalue().encode()


def wait_for(idp, pool_id: str, job_id: str, done=("Succeeded", "Failed", "Stopped")) -> dict:
    deadline = time.monotonic() + 30
    while True:
        job = idp.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]
        if job["Status"] in done:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_import_users_from_csv_then_reset_their_passwords(cognate) -> None:
    idp = make_boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    assert header[-2:] == ["cognito:mfa_enabled", "cognito:username"]
    assert "email" in header and "email_verified" in header and "sub" not in header

    created = idp.create_user_import_job(UserPoolId=pool_id, JobName="first import",
                                         CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert created["Status"] == "Created"
    assert JOB_ID.fullmatch(created["JobId"]), created["JobId"]
    assert (created["ImportedUsers"], created["SkippedUsers"], created["FailedUsers"]) == (0, 0, 0)

    names = [unique(f"imp{i}") for i in range(5)]
    rows = [{"cognito:username": n, "email": f"{n}@example.com", "email_verified": "TRUE",
             "cognito:mfa_enabled": "false", "name": f"User {i}"} for i, n in enumerate(names)]
    rows.append({"cognito:username": "", "email": "nobody@example.com"})  # fails: no username
    body = csv_file(header, rows)
    # The pre-signed URL refuses a wrong signature, then takes the file as S3 would.
    wrong = created["PreSignedUrl"].rsplit("=", 1)[0] + "=forged"
    assert requests.put(wrong, data=body, timeout=10).status_code == 403
    put = requests.put(created["PreSignedUrl"], data=body,
                       headers={"x-amz-server-side-encryption": "aws:kms", "content-type": "text/csv"}, timeout=10)
    assert put.status_code == 200, put.text

    started = idp.start_user_import_job(UserPoolId=pool_id, JobId=created["JobId"])["UserImportJob"]
    assert started["Status"] in ("Pending", "InProgress", "Succeeded")
    with pytest.raises(ClientError) as err:
        idp.start_user_import_job(UserPoolId=pool_id, JobId=created["JobId"])
    assert err.value.response["Error"]["Code"] == "PreconditionNotMetException"
    job = wait_for(idp, pool_id, created["JobId"])
    assert job["Status"] == "Succeeded", job
    assert job["CompletionMessage"] == COMPLETED
    assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (5, 0, 1)
    assert "StartDate" in job and "CompletionDate" in job
    # After the start the file cannot change.
    assert requests.put(created["PreSignedUrl"], data=body, timeout=10).status_code == 409

    listed = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=10)["UserImportJobs"]
    assert [j["JobId"] for j in listed] == [created["JobId"]]

    user = idp.admin_get_user(UserPoolId=pool_id, Username=names[0])
    assert user["UserStatus"] == "RESET_REQUIRED"
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["email"] == f"{names[0]}@example.com" and attrs["email_verified"] == "true"
    assert attrs["name"] == "User 0"

    with pytest.raises(ClientError) as err:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": names[0], "PASSWORD": "Anything-1!"})
    assert err.value.response["Error"]["Code"] == "PasswordResetRequiredException"
    idp.forgot_password(ClientId=client_id, Username=names[0])
    code = latest_code(cognate, names[0], pool_id=pool_id)
    idp.confirm_forgot_password(ClientId=client_id, Username=names[0], ConfirmationCode=code,
                                Password="Brand-New-Passw0rd!")
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": names[0], "PASSWORD": "Brand-New-Passw0rd!"})
    assert "AccessToken" in tokens["AuthenticationResult"]

    # A second job with the same users skips them: none imported, it failed.
    again = idp.create_user_import_job(UserPoolId=pool_id, JobName="again",
                                       CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert requests.put(again["PreSignedUrl"], data=csv_file(header, rows[:2]), timeout=10).status_code == 200
    idp.start_user_import_job(UserPoolId=pool_id, JobId=again["JobId"])
    job = wait_for(idp, pool_id, again["JobId"])
    assert (job["Status"], job["ImportedUsers"], job["SkippedUsers"]) == ("Failed", 0, 2), job
    assert job["CompletionMessage"] == TOO_MANY_FAILED
    listed = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=1)
    assert [j["JobId"] for j in listed["UserImportJobs"]] == [again["JobId"]]
    rest = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=1, PaginationToken=listed["PaginationToken"])
    assert [j["JobId"] for j in rest["UserImportJobs"]] == [created["JobId"]]


def test_import_job_errors(cognate) -> None:
    idp = make_boto_client(cognate)
    pool_id, _ = create_pool_and_client(idp, flows=FLOWS)
    with pytest.raises(ClientError) as err:
        idp.create_user_import_job(UserPoolId=pool_id, JobName="x", CloudWatchLogsRoleArn="not-an-arn-at-all-1234")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "cloudWatchLogsRoleArn" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        idp.describe_user_import_job(UserPoolId=pool_id, JobId="import-nothere")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    job = idp.create_user_import_job(UserPoolId=pool_id, JobName="x", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    with pytest.raises(ClientError) as err:
        idp.stop_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    assert err.value.response["Error"]["Code"] == "PreconditionNotMetException"
    # Not started without a file, in AWS's words (a user's capture); still Created.
    with pytest.raises(ClientError) as err:
        idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    assert err.value.response["Error"]["Code"] == "PreconditionNotMetException"
    assert err.value.response["Error"]["Message"] == f"No csv file was uploaded for {job['JobId']}"
    assert idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]["Status"] == "Created"
    # A column that is no attribute of the pool fails the job.
    bad = idp.create_user_import_job(UserPoolId=pool_id, JobName="bad", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    requests.put(bad["PreSignedUrl"], data=b"cognito:username,favourite_colour\nann,blue\n", timeout=10)
    idp.start_user_import_job(UserPoolId=pool_id, JobId=bad["JobId"])
    done = wait_for(idp, pool_id, bad["JobId"])
    assert done["Status"] == "Failed" and "favourite_colour" in done["CompletionMessage"]


def count_users(idp, pool_id: str) -> int:
    pages = idp.get_paginator("list_users").paginate(UserPoolId=pool_id, PaginationConfig={"PageSize": 60})
    return sum(len(page["Users"]) for page in pages)


def test_a_big_import_can_be_stopped(cognate) -> None:
    """StopUserImportJob answers the job already Stopped, with Cognito's
    message and a CompletionDate; the import stops at its next batch, and the
    job then counts exactly the users that were imported."""
    idp = make_boto_client(cognate)
    pool_id, _ = create_pool_and_client(idp, flows=FLOWS)
    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    rows = [{"cognito:username": f"bulk{i:06d}", "email": f"bulk{i}@example.com", "email_verified": "true",
             "cognito:mfa_enabled": "false"} for i in range(20000)]
    job = idp.create_user_import_job(UserPoolId=pool_id, JobName="bulk", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert requests.put(job["PreSignedUrl"], data=csv_file(header, rows), timeout=30).status_code == 200
    idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    stopped = idp.stop_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
    assert stopped["Status"] == "Stopped", stopped
    assert stopped["CompletionMessage"] == STOPPED
    assert stopped["StartDate"] <= stopped["CompletionDate"]
    described = idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
    assert (described["Status"], described["CompletionMessage"], described["CompletionDate"]) == (
        "Stopped", STOPPED, stopped["CompletionDate"])
    # A stopped job cannot be stopped (nor started) again.
    for call in (idp.stop_user_import_job, idp.start_user_import_job):
        with pytest.raises(ClientError) as err:
            call(UserPoolId=pool_id, JobId=job["JobId"])
        assert err.value.response["Error"]["Code"] == "PreconditionNotMetException"
        assert "Stopped" in err.value.response["Error"]["Message"]
    # The batch being written when the Stop landed is still counted: wait
    # until the counts no longer change, then they are the users imported.
    previous, deadline = None, time.monotonic() + 30
    while True:
        done = idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
        counts = (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"])
        if counts == previous:
            break
        assert time.monotonic() < deadline, done
        previous = counts
        time.sleep(1)
    assert (done["Status"], done["CompletionMessage"], done["CompletionDate"]) == (
        "Stopped", STOPPED, stopped["CompletionDate"])
    assert done["ImportedUsers"] < 20000 and done["ImportedUsers"] % 500 == 0, done
    assert (done["SkippedUsers"], done["FailedUsers"]) == (0, 0), done
    # What was imported before the stop is there, whole.
    assert count_users(idp, pool_id) == done["ImportedUsers"]


def test_a_job_that_imports_nobody_fails(cognate) -> None:
    """Cognito ends a job Failed when its rows failed and none was imported
    (captured: FailedUsers 1, ImportedUsers 0); one imported user is enough
    for Succeeded."""
    idp = make_boto_client(cognate)
    pool_id, _ = create_pool_and_client(idp, flows=FLOWS)
    rows = [{"cognito:username": "", "email": "nobody@example.com", "cognito:mfa_enabled": "false"}]
    job = run_import(idp, pool_id, rows)
    assert (job["Status"], job["CompletionMessage"]) == ("Failed", TOO_MANY_FAILED), job
    assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (0, 0, 1)
    assert "StartDate" in job and "CompletionDate" in job

    ok = {"cognito:username": unique("one"), "email": "one@example.com", "cognito:mfa_enabled": "false"}
    job = run_import(idp, pool_id, rows * 3 + [ok])
    assert (job["Status"], job["CompletionMessage"]) == ("Succeeded", COMPLETED), job
    assert (job["ImportedUsers"], job["FailedUsers"]) == (1, 3)

    # An empty file fails nobody: it succeeds.
    job = run_import(idp, pool_id, [])
    assert (job["Status"], job["CompletionMessage"]) == ("Succeeded", COMPLETED), job
    assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (0, 0, 0)


def test_job_ids_are_cognitos(cognate) -> None:
    """import- and 10 letters and digits, of both cases."""
    idp = make_boto_client(cognate)
    pool_id, _ = create_pool_and_client(idp, flows=FLOWS)
    ids = [idp.create_user_import_job(UserPoolId=pool_id, JobName=f"j{i}", CloudWatchLogsRoleArn=ROLE)
           ["UserImportJob"]["JobId"] for i in range(6)]
    assert all(JOB_ID.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    letters = "".join(i.removeprefix("import-") for i in ids)
    assert any(c.isupper() for c in letters) and any(c.islower() for c in letters), ids
    for job_id in ids:
        assert idp.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]["JobId"] == job_id


def run_import(idp, pool_id: str, rows: list[dict[str, str]]) -> dict:
    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    job = idp.create_user_import_job(UserPoolId=pool_id, JobName="mfa", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert requests.put(job["PreSignedUrl"], data=csv_file(header, rows), timeout=10).status_code == 200
    idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    return wait_for(idp, pool_id, job["JobId"])


def test_imported_mfa_enabled_follows_the_pool(cognate) -> None:
    """cognito:mfa_enabled as the developer guide states it: required, true
    (SMS MFA to the row's phone number) or false, true where MFA is ON, false
    where it is OFF, either where it is OPTIONAL."""
    idp = make_boto_client(cognate)
    pool_id, _ = create_pool_and_client(idp, flows=FLOWS)
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                 SmsMfaConfiguration={"SmsAuthenticationMessage": "Your code is {####}"})
    base = {"email_verified": "true", "phone_number_verified": "true"}
    rows = [
        {**base, "cognito:username": "withsms", "email": "a@example.com", "phone_number": "+15550100001",
         "cognito:mfa_enabled": "TRUE"},
        {**base, "cognito:username": "nosms", "email": "b@example.com", "cognito:mfa_enabled": "false"},
        {**base, "cognito:username": "nophone", "email": "c@example.com", "cognito:mfa_enabled": "true"},
        {**base, "cognito:username": "blank", "email": "d@example.com", "cognito:mfa_enabled": ""},
        {**base, "cognito:username": "yes", "email": "e@example.com", "cognito:mfa_enabled": "yes"},
    ]
    job = run_import(idp, pool_id, rows)
    assert (job["Status"], job["ImportedUsers"], job["FailedUsers"]) == ("Succeeded", 2, 3), job
    user = idp.admin_get_user(UserPoolId=pool_id, Username="withsms")
    assert user["UserMFASettingList"] == ["SMS_MFA"]
    assert "UserMFASettingList" not in idp.admin_get_user(UserPoolId=pool_id, Username="nosms")

    # MFA OFF: true is refused; MFA ON: false is refused.
    off_pool, _ = create_pool_and_client(idp, flows=FLOWS)
    job = run_import(idp, off_pool, [
        {**base, "cognito:username": "t", "email": "t@example.com", "phone_number": "+15550100002",
         "cognito:mfa_enabled": "true"},
        {**base, "cognito:username": "f", "email": "f@example.com", "cognito:mfa_enabled": "false"}])
    assert (job["ImportedUsers"], job["FailedUsers"]) == (1, 1), job
    idp.set_user_pool_mfa_config(UserPoolId=off_pool, MfaConfiguration="ON",
                                 SmsMfaConfiguration={"SmsAuthenticationMessage": "Your code is {####}"})
    job = run_import(idp, off_pool, [
        {**base, "cognito:username": "t2", "email": "t2@example.com", "phone_number": "+15550100003",
         "cognito:mfa_enabled": "true"},
        {**base, "cognito:username": "f2", "email": "f2@example.com", "cognito:mfa_enabled": "false"}])
    assert (job["ImportedUsers"], job["FailedUsers"]) == (1, 1), job
    assert idp.admin_get_user(UserPoolId=off_pool, Username="t2")["UserMFASettingList"] == ["SMS_MFA"]
