"""Real SMTP delivery: cognate sends confirmation and reset codes to a local
SMTP sink (aiosmtpd), and the codes read from the real mails work."""

from __future__ import annotations

import email
import re
import time
from email.utils import parseaddr

import pytest
from aiosmtpd.controller import Controller

from conftest import PASSWORD, create_pool_and_client, free_port, unique


class Collector:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, to: str, timeout: float = 10.0) -> email.message.Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in reversed(self.messages):
                if to in m.get("To", ""):
                    return m
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to}; got {[m.get('To') for m in self.messages]}")


@pytest.fixture
def smtp_sink():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, collector
    controller.stop()


def code_in(message: email.message.Message) -> str:
    body = message.get_payload(decode=True).decode()
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


def test_codes_arrive_by_smtp(server, boto_client, smtp_sink):
    controller, mails = smtp_sink
    srv = server(start=False)
    srv.extra_args = ["--smtp-url", f"smtp://127.0.0.1:{controller.port}",
                      "--mail-from", "Cognate <no-reply@example.com>"]
    srv.start()
    idp = boto_client(srv)
    pool_id, client_id = create_pool_and_client(
        idp, EmailVerificationSubject="Confirm your account",
        EmailVerificationMessage="Hello, your code is {####}.")
    user = unique("mail")
    address = f"{user}@example.com"
    idp.sign_up(ClientId=client_id, Username=user, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": address}])
    mail = mails.wait_for(address)
    assert mail["Subject"] == "Confirm your account"
    assert "no-reply@example.com" in mail["From"]
    idp.confirm_sign_up(ClientId=client_id, Username=user, ConfirmationCode=code_in(mail))
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "CONFIRMED"

    # A reset code by mail too, and the development outbox stays empty.
    before = len(mails.messages)
    idp.forgot_password(ClientId=client_id, Username=user)
    deadline = time.monotonic() + 10
    while len(mails.messages) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    reset = mails.messages[-1]
    idp.confirm_forgot_password(ClientId=client_id, Username=user, ConfirmationCode=code_in(reset),
                                Password="N3w-Passw0rd!")
    idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                      AuthParameters={"USERNAME": user, "PASSWORD": "N3w-Passw0rd!"})
    assert not srv.outbox_path.exists() or srv.outbox_path.read_text() == ""


def test_pool_email_configuration_names_the_sender(server, boto_client, smtp_sink):
    """EmailConfiguration.From (else SourceArn's SES identity address) replaces the server's
    --mail-from for the pool's mails and ReplyToEmailAddress becomes the Reply-To header;
    a pool without them keeps the default."""
    controller, mails = smtp_sink
    srv = server(start=False)
    srv.extra_args = ["--smtp-url", f"smtp://127.0.0.1:{controller.port}",
                      "--mail-from", "Cognate <no-reply@example.com>"]
    srv.start()
    idp = boto_client(srv)
    _, own_client = create_pool_and_client(
        idp, EmailConfiguration={"EmailSendingAccount": "DEVELOPER",
                                 "From": "Support Team <team@example.org>",
                                 "ReplyToEmailAddress": "help@example.org",
                                 "ConfigurationSet": "cognito-mails_1"})
    _, arn_client = create_pool_and_client(
        idp, EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.net"})
    _, plain_client = create_pool_and_client(idp)
    own, arn, plain = (unique(n) + "@example.com" for n in ("own", "arn", "plain"))
    for client_id, address in ((own_client, own), (arn_client, arn), (plain_client, plain)):
        idp.sign_up(ClientId=client_id, Username=address.split("@")[0], Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": address}])
    mail = mails.wait_for(own)
    assert parseaddr(mail["From"]) == ("Support Team", "team@example.org")
    assert parseaddr(mail["Reply-To"]) == ("", "help@example.org")
    # SES's SMTP interface takes the pool's configuration set from this header.
    assert mail["X-SES-CONFIGURATION-SET"] == "cognito-mails_1"
    assert parseaddr(mails.wait_for(arn)["From"]) == ("", "sender@example.net")
    default = mails.wait_for(plain)
    assert "no-reply@example.com" in default["From"]
    assert default["Reply-To"] is None
    assert default["X-SES-CONFIGURATION-SET"] is None
    # The model's pattern keeps a header out of the name.
    with pytest.raises(Exception) as err:
        create_pool_and_client(idp, EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER", "ConfigurationSet": "set\r\nBcc: x@example.com"})
    assert "InvalidParameterException" in str(err.value)


def test_unreachable_smtp_is_a_code_delivery_failure(server, boto_client):
    srv = server(start=False)
    srv.extra_args = ["--smtp-url", f"smtp://127.0.0.1:{free_port()}"]
    srv.start()
    idp = boto_client(srv)
    _pool_id, client_id = create_pool_and_client(idp)
    with pytest.raises(Exception) as err:
        idp.sign_up(ClientId=client_id, Username=unique("x"), Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "x@example.com"}])
    assert "CodeDeliveryFailureException" in str(err.value)
