// Remembered devices with the unmodified amazon-cognito-identity-js, in one
// process (the device key, group and secret stay in the library's storage,
// as in an app): USER_SRP_AUTH sign-ins of a user with TOTP MFA, answering
// SOFTWARE_TOKEN_MFA with a code computed here (RFC 6238 over the base32
// secret given), the library confirming the new device (ConfirmDevice) and,
// when the pool asks, remembering it (setDeviceStatusRemembered).
//
// Each line of standard input names one step; each step prints one JSON
// line: {"ok": true, "mfa": <was a code asked>, "accessToken", "deviceKey",
// "userConfirmationNecessary"} or {"ok": false, "code", "message"}.
// Steps: "sign-in" (a fresh CognitoUser, as on an app's next start),
// "refresh" (the library's refreshSession with the last sign-in's refresh
// token; it sends the stored DEVICE_KEY), and "tamper" (replaces the stored
// device secret, so the device proof fails).
// usage: node device_login.js ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD TOTP_SECRET
const crypto = require("crypto");
const readline = require("readline");
const { CognitoUserPool, CognitoUser, AuthenticationDetails } = require("amazon-cognito-identity-js");

const [endpoint, poolId, clientId, username, password, totpSecret] = process.argv.slice(2);
const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint });
// The codes' time steps only go forward: a step is used at most once.
let lastStep = 0;
// The last successful sign-in: its CognitoUser and session.
let last = null;

function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp() {
  const step = Math.max(Math.floor(Date.now() / 30000), lastStep + 1);
  lastStep = step;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac("sha1", base32Decode(totpSecret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, "0");
}

function signIn() {
  return new Promise(resolve => {
    const user = new CognitoUser({ Username: username, Pool: pool });
    let mfa = false;
    const callbacks = {
      onSuccess(session, userConfirmationNecessary) {
        last = { user, session };
        const out = {
          ok: true,
          mfa,
          accessToken: session.getAccessToken().getJwtToken(),
          deviceKey: user.deviceKey || null,
          userConfirmationNecessary: userConfirmationNecessary === true,
        };
        if (userConfirmationNecessary === true) {
          user.setDeviceStatusRemembered({
            onSuccess: () => resolve({ ...out, remembered: true }),
            onFailure: err => resolve({ ok: false, code: err.code || err.name, message: err.message }),
          });
          return;
        }
        resolve(out);
      },
      onFailure(err) {
        resolve({ ok: false, mfa, code: err.code || err.name, message: err.message });
      },
      totpRequired() {
        mfa = true;
        user.sendMFACode(totp(), callbacks, "SOFTWARE_TOKEN_MFA");
      },
      mfaSetup() {
        resolve({ ok: false, code: "MfaSetup", message: "TOTP is not set up" });
      },
    };
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), callbacks);
  });
}

function refresh() {
  return new Promise(resolve => {
    if (!last) {
      resolve({ ok: false, code: "NoSession" });
      return;
    }
    last.user.refreshSession(last.session.getRefreshToken(), (err, session) => {
      if (err) {
        resolve({ ok: false, code: err.code || err.name, message: err.message });
        return;
      }
      resolve({
        ok: true,
        accessToken: session.getAccessToken().getJwtToken(),
        refreshToken: session.getRefreshToken().getToken(),
        deviceKey: last.user.deviceKey || null,
      });
    });
  });
}

function tamper() {
  const key = `CognitoIdentityServiceProvider.${clientId}.${username}.randomPasswordKey`;
  const had = pool.storage.getItem(key) != null;
  pool.storage.setItem(key, "not-the-device-secret");
  return Promise.resolve({ ok: had });
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const step = line.trim();
    if (!step) continue;
    const steps = { "sign-in": signIn, refresh, tamper };
    const out = steps[step] ? await steps[step]() : { ok: false, code: "UnknownStep" };
    process.stdout.write(JSON.stringify(out) + "\n");
  }
}

main();
