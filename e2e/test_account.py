"""Groups in tokens, sign-out and revocation, disabled users, password
recovery and change, and attribute updates with verification, through boto3."""

from __future__ import annotations

import jwt
import pytest
from botocore.exceptions import ClientError

from conftest import PASSWORD, create_confirmed_user, create_pool_and_client, error_code, error_message, latest_code, unique

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def login(idp, client_id: str, username: str, password: str = PASSWORD) -> dict:
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})["AuthenticationResult"]


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def expect_error(code: str, fn, *args, message: str | None = None, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as err:
        fn(*args, **kwargs)
    assert error_code(err.value) == code, err.value
    if message is not None:
        assert error_message(err.value) == message
    return err.value


def test_groups_appear_in_tokens(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("g")
    create_confirmed_user(idp, pool_id, user)
    idp.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1,
                     RoleArn="arn:aws:iam::000000000000:role/admin")
    idp.create_group(UserPoolId=pool_id, GroupName="users", Precedence=5, Description="everyone")
    expect_error("GroupExistsException", idp.create_group, UserPoolId=pool_id, GroupName="users")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=user, GroupName="users")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=user, GroupName="admins")
    tokens = login(idp, client_id, user)
    id_claims, access_claims = claims(tokens["IdToken"]), claims(tokens["AccessToken"])
    assert id_claims["cognito:groups"] == ["admins", "users"]
    assert access_claims["cognito:groups"] == ["admins", "users"]
    assert id_claims["cognito:preferred_role"] == "arn:aws:iam::000000000000:role/admin"
    assert id_claims["cognito:roles"] == ["arn:aws:iam::000000000000:role/admin"]

    names = [g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=user)["Groups"]]
    assert names == ["admins", "users"]
    members = idp.list_users_in_group(UserPoolId=pool_id, GroupName="users")["Users"]
    assert [u["Username"] for u in members] == [user]
    assert idp.get_group(UserPoolId=pool_id, GroupName="users")["Group"]["Description"] == "everyone"
    idp.update_group(UserPoolId=pool_id, GroupName="users", Description="all", Precedence=0)
    assert idp.get_group(UserPoolId=pool_id, GroupName="users")["Group"]["Precedence"] == 0
    assert len(idp.list_groups(UserPoolId=pool_id)["Groups"]) == 2
    idp.admin_remove_user_from_group(UserPoolId=pool_id, Username=user, GroupName="admins")
    idp.delete_group(UserPoolId=pool_id, GroupName="users")
    assert "cognito:groups" not in claims(login(idp, client_id, user)["IdToken"])
    expect_error("ResourceNotFoundException", idp.get_group, UserPoolId=pool_id, GroupName="users")


def test_global_sign_out_revokes_tokens(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("so")
    create_confirmed_user(idp, pool_id, user)
    first = login(idp, client_id, user)
    idp.get_user(AccessToken=first["AccessToken"])
    idp.global_sign_out(AccessToken=first["AccessToken"])
    expect_error("NotAuthorizedException", idp.get_user, AccessToken=first["AccessToken"],
                 message="Access Token has been revoked")
    expect_error("NotAuthorizedException", idp.initiate_auth, ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                 AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    # A new sign-in right after works.
    second = login(idp, client_id, user)
    assert idp.get_user(AccessToken=second["AccessToken"])["Username"] == user
    idp.admin_user_global_sign_out(UserPoolId=pool_id, Username=user)
    expect_error("NotAuthorizedException", idp.get_user, AccessToken=second["AccessToken"])


def test_revoke_token(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("rv")
    create_confirmed_user(idp, pool_id, user)
    kept, revoked = login(idp, client_id, user), login(idp, client_id, user)
    expect_error("UnsupportedTokenTypeException", idp.revoke_token, Token=revoked["AccessToken"], ClientId=client_id)
    idp.revoke_token(Token=revoked["RefreshToken"], ClientId=client_id)
    expect_error("NotAuthorizedException", idp.get_user, AccessToken=revoked["AccessToken"])
    expect_error("NotAuthorizedException", idp.initiate_auth, ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                 AuthParameters={"REFRESH_TOKEN": revoked["RefreshToken"]})
    # Only that session is revoked.
    idp.get_user(AccessToken=kept["AccessToken"])
    idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                      AuthParameters={"REFRESH_TOKEN": kept["RefreshToken"]})


def test_disable_and_enable_user(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("dis")
    create_confirmed_user(idp, pool_id, user)
    tokens = login(idp, client_id, user)
    idp.admin_disable_user(UserPoolId=pool_id, Username=user)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["Enabled"] is False
    expect_error("NotAuthorizedException", login, idp, client_id, user, message="User is disabled.")
    expect_error("NotAuthorizedException", idp.get_user, AccessToken=tokens["AccessToken"])
    listed = idp.list_users(UserPoolId=pool_id, Filter='status = "Disabled"')["Users"]
    assert [u["Username"] for u in listed] == [user]
    idp.admin_enable_user(UserPoolId=pool_id, Username=user)
    login(idp, client_id, user)


def test_forgot_password_with_the_emailed_code(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("fp")
    create_confirmed_user(idp, pool_id, user)
    delivery = idp.forgot_password(ClientId=client_id, Username=user)["CodeDeliveryDetails"]
    assert delivery["DeliveryMedium"] == "EMAIL" and delivery["AttributeName"] == "email"
    code = latest_code(cognate, user)
    expect_error("CodeMismatchException", idp.confirm_forgot_password, ClientId=client_id, Username=user,
                 ConfirmationCode="000000" if code != "000000" else "111111", Password="N3w-Passw0rd!")
    expect_error("InvalidPasswordException", idp.confirm_forgot_password, ClientId=client_id, Username=user,
                 ConfirmationCode=code, Password="weak")
    idp.confirm_forgot_password(ClientId=client_id, Username=user, ConfirmationCode=code, Password="N3w-Passw0rd!")
    login(idp, client_id, user, "N3w-Passw0rd!")
    expect_error("NotAuthorizedException", login, idp, client_id, user, PASSWORD)
    # The code was single-use.
    expect_error("ExpiredCodeException", idp.confirm_forgot_password, ClientId=client_id, Username=user,
                 ConfirmationCode=code, Password="An0ther-Passw0rd!")
    expect_error("UserNotFoundException", idp.forgot_password, ClientId=client_id, Username="nobody")


def test_admin_reset_then_confirm_forgot_password(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("rs")
    create_confirmed_user(idp, pool_id, user)
    idp.admin_reset_user_password(UserPoolId=pool_id, Username=user)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "RESET_REQUIRED"
    expect_error("PasswordResetRequiredException", login, idp, client_id, user,
                 message="Password reset required for the user")
    code = latest_code(cognate, user)
    idp.confirm_forgot_password(ClientId=client_id, Username=user, ConfirmationCode=code, Password="N3w-Passw0rd!")
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "CONFIRMED"
    login(idp, client_id, user, "N3w-Passw0rd!")


def test_change_password(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("cp")
    create_confirmed_user(idp, pool_id, user)
    token = login(idp, client_id, user)["AccessToken"]
    expect_error("NotAuthorizedException", idp.change_password, AccessToken=token,
                 PreviousPassword="Wr0ng-Passw0rd!", ProposedPassword="N3w-Passw0rd!",
                 message="Incorrect username or password.")
    expect_error("InvalidPasswordException", idp.change_password, AccessToken=token,
                 PreviousPassword=PASSWORD, ProposedPassword="short")
    idp.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword="N3w-Passw0rd!")
    login(idp, client_id, user, "N3w-Passw0rd!")


def test_attribute_updates_and_verification(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(
        idp, flows=FLOWS, Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}])
    user = unique("at")
    create_confirmed_user(idp, pool_id, user)
    token = login(idp, client_id, user)["AccessToken"]

    out = idp.update_user_attributes(AccessToken=token, UserAttributes=[
        {"Name": "email", "Value": f"new-{user}@example.com"}, {"Name": "custom:team", "Value": "blue"}])
    assert out["CodeDeliveryDetailsList"][0]["AttributeName"] == "email"
    attrs = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=token)["UserAttributes"]}
    assert attrs["email"] == f"new-{user}@example.com" and attrs["email_verified"] == "false"
    assert attrs["custom:team"] == "blue"
    code = latest_code(cognate, user)
    expect_error("CodeMismatchException", idp.verify_user_attribute, AccessToken=token, AttributeName="email",
                 Code="000000" if code != "000000" else "111111")
    idp.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    attrs = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=token)["UserAttributes"]}
    assert attrs["email_verified"] == "true"

    idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    idp.verify_user_attribute(AccessToken=token, AttributeName="email", Code=latest_code(cognate, user))

    expect_error("InvalidParameterException", idp.update_user_attributes, AccessToken=token,
                 UserAttributes=[{"Name": "custom:nope", "Value": "x"}])
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username=user,
                                     UserAttributes=[{"Name": "name", "Value": "Joe"}])
    idp.delete_user_attributes(AccessToken=token, UserAttributeNames=["custom:team"])
    idp.admin_delete_user_attributes(UserPoolId=pool_id, Username=user, UserAttributeNames=["name"])
    attrs = {a["Name"] for a in idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserAttributes"]}
    assert "custom:team" not in attrs and "name" not in attrs
    expect_error("InvalidParameterException", idp.admin_delete_user_attributes, UserPoolId=pool_id,
                 Username=user, UserAttributeNames=["custom:missing"])


def test_repeated_failures_lock_the_account(server, boto_client):
    # Cognito's policy, but with a first lock no loaded machine outwaits
    # between two requests.
    idp = boto_client(server(config="lockout: {first_lock_seconds: 600, max_lock_seconds: 900}\n"))
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("lock")
    create_confirmed_user(idp, pool_id, user)
    for _ in range(5):
        expect_error("NotAuthorizedException", login, idp, client_id, user, "Wr0ng-Passw0rd!",
                     message="Incorrect username or password.")
    # Locked now: even the right password is refused until the lock passes.
    expect_error("NotAuthorizedException", login, idp, client_id, user, PASSWORD,
                 message="Password attempts exceeded")
