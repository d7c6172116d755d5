// Signs in with amazon-cognito-identity-js (USER_SRP_AUTH + PASSWORD_VERIFIER),
// answering NEW_PASSWORD_REQUIRED when a new password is given. Prints one JSON
// line: {"ok": true, "idToken", "accessToken", "refreshToken", "newPasswordRequired"}
// or {"ok": false, "code", "message"}.
// usage: node srp_login.js ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD [NEW_PASSWORD]
const { CognitoUserPool, CognitoUser, AuthenticationDetails } = require("amazon-cognito-identity-js");

const [endpoint, poolId, clientId, username, password, newPassword] = process.argv.slice(2);
const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint });
const user = new CognitoUser({ Username: username, Pool: pool });
let newPasswordRequired = false;

function done(out) {
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}

const callbacks = {
  onSuccess(session) {
    done({
      ok: true,
      newPasswordRequired,
      idToken: session.getIdToken().getJwtToken(),
      accessToken: session.getAccessToken().getJwtToken(),
      refreshToken: session.getRefreshToken().getToken(),
    });
  },
  onFailure(err) {
    done({ ok: false, code: err.code || err.name, message: err.message });
  },
  newPasswordRequired(userAttributes) {
    newPasswordRequired = true;
    if (!newPassword) {
      done({ ok: false, code: "NewPasswordRequired", message: "no new password given" });
      return;
    }
    delete userAttributes.email_verified;
    delete userAttributes.phone_number_verified;
    user.completeNewPasswordChallenge(newPassword, {}, callbacks);
  },
};

user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), callbacks);
