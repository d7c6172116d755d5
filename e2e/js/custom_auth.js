// Signs in with amazon-cognito-identity-js in CUSTOM_AUTH mode, answering each
// CUSTOM_CHALLENGE with the next of the given answers. Mode `srp` uses
// authenticateUser (SRP_A, then PASSWORD_VERIFIER when DefineAuthChallenge asks
// for it); mode `plain` uses initiateAuth (no password). Prints one JSON line:
// {"ok": true, "idToken", "accessToken", "questions": [...]} or {"ok": false, "code", "message"}.
// usage: node custom_auth.js ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD MODE ANSWER...
const { CognitoUserPool, CognitoUser, AuthenticationDetails } = require("amazon-cognito-identity-js");

const [endpoint, poolId, clientId, username, password, mode, ...answers] = process.argv.slice(2);
const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint });
const user = new CognitoUser({ Username: username, Pool: pool });
user.setAuthenticationFlowType("CUSTOM_AUTH");
const questions = [];

function done(out) {
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}

const callbacks = {
  onSuccess(session) {
    done({
      ok: true,
      questions,
      idToken: session.getIdToken().getJwtToken(),
      accessToken: session.getAccessToken().getJwtToken(),
    });
  },
  onFailure(err) {
    done({ ok: false, code: err.code || err.name, message: err.message, questions });
  },
  customChallenge(parameters) {
    questions.push(parameters);
    if (answers.length === 0) {
      done({ ok: false, code: "NoAnswerLeft", message: "no answer left", questions });
      return;
    }
    user.sendCustomChallengeAnswer(answers.shift(), callbacks);
  },
};

const details = new AuthenticationDetails({ Username: username, Password: password });
if (mode === "plain") {
  user.initiateAuth(details, callbacks);
} else {
  user.authenticateUser(details, callbacks);
}
