(function () {
  "use strict";
  var form = document.getElementById("passkeyForm");
  var status = document.getElementById("passkeyStatus");
  var retry = document.getElementById("passkeyRetry");
  var options = JSON.parse(form.getAttribute("data-options"));
  function bytes(s) {
    var b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(b, function (c) { return c.charCodeAt(0); });
  }
  function b64(buf) {
    return btoa(String.fromCharCode.apply(null, new Uint8Array(buf)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ask() {
    retry.hidden = true;
    status.textContent = "Use your passkey to sign in.";
    var publicKey = Object.assign({}, options, {
      challenge: bytes(options.challenge),
      allowCredentials: (options.allowCredentials || []).map(function (c) {
        return Object.assign({}, c, { id: bytes(c.id) });
      })
    });
    navigator.credentials.get({ publicKey: publicKey }).then(function (cred) {
      var r = cred.response;
      form.elements.credential.value = JSON.stringify({
        id: cred.id,
        rawId: b64(cred.rawId),
        type: cred.type,
        authenticatorAttachment: cred.authenticatorAttachment,
        clientExtensionResults: cred.getClientExtensionResults(),
        response: {
          clientDataJSON: b64(r.clientDataJSON),
          authenticatorData: b64(r.authenticatorData),
          signature: b64(r.signature),
          userHandle: r.userHandle ? b64(r.userHandle) : undefined
        }
      });
      form.submit();
    }, function (e) {
      status.textContent = "The passkey sign-in did not complete (" + e.name + "). Try again, or go back and sign in another way.";
      retry.hidden = false;
    });
  }
  retry.addEventListener("click", ask);
  if (window.PublicKeyCredential) {
    ask();
  } else {
    status.textContent = "This browser cannot use passkeys. Go back and sign in another way.";
  }
})();
