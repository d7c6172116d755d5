"""A SAML 2.0 identity provider for the tests: its metadata, a reader for the
authentication requests cognate sends (HTTP-Redirect binding), and signed
responses (HTTP-POST binding).

Responses are signed with signxml over lxml (libxml2's canonicalization): an
XML signature implementation that has nothing in common with cognate's, as a
real provider's (ADFS, Okta, Entra ID, Keycloak) has nothing in common with it.
"""

import base64
import datetime
import urllib.parse
import uuid
import zlib
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner, methods

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


def instant(t: datetime.datetime) -> str:
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_key_and_cert(common_name: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def encrypt_into(response, assertion_el, cert_b64: str, cipher: str) -> None:
    """Appends `assertion_el` to `response` as an EncryptedAssertion for the
    certificate, as libxmlsec1 (python-xmlsec) encrypts it."""
    import xmlsec

    der = base64.b64decode(cert_b64)
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatCertPem, None))
    transforms = {
        "aes128-cbc": (xmlsec.constants.TransformAes128Cbc, 128),
        "aes256-cbc": (xmlsec.constants.TransformAes256Cbc, 256),
        "aes128-gcm": (xmlsec.constants.TransformAes128Gcm, 128),
        "aes256-gcm": (xmlsec.constants.TransformAes256Gcm, 256),
    }
    transform, bits = transforms[cipher]
    wrapper = etree.SubElement(response, f"{{{SAML}}}EncryptedAssertion")
    wrapper.append(assertion_el)
    template = xmlsec.template.encrypted_data_create(
        response, transform, type=xmlsec.constants.TypeEncElement, ns="xenc")
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, bits, xmlsec.constants.KeyDataTypeSession)
    context.encrypt_xml(template, assertion_el)


class SamlIdp:
    def __init__(self, entity_id="https://idp.example.test/saml", sso_url="https://idp.example.test/sso"):
        self.entity_id = entity_id
        self.sso_url = sso_url
        self.key, self.cert = new_key_and_cert("cognate test SAML IdP")

    def cert_base64(self) -> str:
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()

    def metadata(self) -> str:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{self.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>
{self.cert_base64()}
      </ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleLogoutService Binding="{REDIRECT}" Location="{self.sso_url}/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{self.sso_url}/post"/>
    <md:SingleSignOnService Binding="{REDIRECT}" Location="{self.sso_url}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""

    @staticmethod
    def read_request(location: str):
        """The authentication request of a redirect to the provider: (AuthnRequest
        element, RelayState, the query's parameters)."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        raw = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
        request = etree.fromstring(raw)
        assert request.tag in (f"{{{SAMLP}}}AuthnRequest", f"{{{SAMLP}}}LogoutRequest"), request.tag
        return request, query.get("RelayState", [None])[0], query

    def response(
        self,
        *,
        request_id,
        acs_url,
        audience,
        name_id,
        attributes=None,
        now=None,
        sign="assertion",
        issuer=None,
        status="urn:oasis:names:tc:SAML:2.0:status:Success",
        lifetime=datetime.timedelta(minutes=5),
        key=None,
        cert=None,
        encrypt_for=None,
        cipher="aes256-cbc",
    ) -> str:
        """A response to `request_id` for `name_id`, signed as `sign` says
        ("assertion", "response", "both" or None), as XML text; with
        `encrypt_for` (a service provider's certificate, base64 DER) the
        assertion is encrypted for it (XML Encryption by xmlsec: RSA-OAEP and
        `cipher`) after any signing of the assertion, before any of the
        response."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        issuer = issuer or self.entity_id
        key = key or self.key
        cert = cert or self.cert
        response_id = "_" + uuid.uuid4().hex
        assertion_id = "_" + uuid.uuid4().hex
        # An unsolicited (IdP-initiated) response answers no request.
        answers = "" if request_id is None else f' InResponseTo="{request_id}"'
        attrs = ""
        for name, values in (attributes or {}).items():
            vals = "".join(
                f'<saml:AttributeValue xsi:type="xs:string">{escape(v)}</saml:AttributeValue>' for v in values
            )
            attrs += f'<saml:Attribute Name={quoteattr(name)} NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">{vals}</saml:Attribute>'
        placeholder = f'<ds:Signature xmlns:ds="{DS}" Id="placeholder"></ds:Signature>'
        assertion = f"""<saml:Assertion xmlns:saml="{SAML}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{assertion_id}" Version="2.0" IssueInstant="{instant(now)}">
  <saml:Issuer>{issuer}</saml:Issuer>{placeholder if sign in ("assertion", "both") else ""}
  <saml:Subject>
    <saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{escape(name_id)}</saml:NameID>
    <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
      <saml:SubjectConfirmationData{answers} NotOnOrAfter="{instant(now + lifetime)}" Recipient="{acs_url}"/>
    </saml:SubjectConfirmation>
  </saml:Subject>
  <saml:Conditions NotBefore="{instant(now - datetime.timedelta(seconds=30))}" NotOnOrAfter="{instant(now + lifetime)}">
    <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
  </saml:Conditions>
  <saml:AuthnStatement AuthnInstant="{instant(now)}" SessionIndex="{assertion_id}">
    <saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>
  </saml:AuthnStatement>
  <saml:AttributeStatement>{attrs}</saml:AttributeStatement>
</saml:Assertion>"""
        signer = XMLSigner(
            method=methods.enveloped,
            signature_algorithm="rsa-sha256",
            digest_algorithm="sha256",
            c14n_algorithm=EXC_C14N,
        )
        assertion_el = etree.fromstring(assertion)
        if sign in ("assertion", "both"):
            assertion_el = signer.sign(assertion_el, key=key, cert=[cert], reference_uri=assertion_id)
        response = etree.fromstring(
            f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{response_id}" Version="2.0" IssueInstant="{instant(now)}" Destination="{acs_url}"{answers}>
  <saml:Issuer>{issuer}</saml:Issuer>{placeholder if sign in ("response", "both") else ""}
  <samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>
</samlp:Response>"""
        )
        if status == "urn:oasis:names:tc:SAML:2.0:status:Success" and encrypt_for:
            encrypt_into(response, assertion_el, encrypt_for, cipher)
        elif status == "urn:oasis:names:tc:SAML:2.0:status:Success":
            response.append(assertion_el)
        if sign in ("response", "both"):
            response = signer.sign(response, key=key, cert=[cert], reference_uri=response_id)
        return etree.tostring(response).decode()

    def logout_response(self, request) -> str:
        """A LogoutResponse to a LogoutRequest element, deflated and base64 as
        the HTTP-Redirect binding carries it."""
        xml = (f'<samlp:LogoutResponse xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_{uuid.uuid4().hex}" '
               f'Version="2.0" IssueInstant="{instant(datetime.datetime.now(datetime.timezone.utc))}" '
               f'InResponseTo="{request.get("ID")}"><saml:Issuer>{escape(self.entity_id)}</saml:Issuer>'
               f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
               f'</samlp:Status></samlp:LogoutResponse>')
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        return base64.b64encode(deflater.compress(xml.encode()) + deflater.flush()).decode()

    @staticmethod
    def post_form(xml: str, relay_state) -> dict:
        form = {"SAMLResponse": base64.b64encode(xml.encode()).decode()}
        if relay_state is not None:
            form["RelayState"] = relay_state
        return form
