// A real OpenID Connect provider for the single sign-on tests: the OpenID-certified
// `oidc-provider` from npm on 127.0.0.1.
//
//   node oidc_provider.mjs CLIENT_ID CLIENT_SECRET
//
// It listens on a port the system picks and prints "listening <port>": the issuer is
// http://127.0.0.1:<port>, so Parley can be started with it. Then it reads commands on stdin:
//   "redirect <uri>": serve, with one client (client_secret_basic, the authorization code flow,
//     PKCE required) whose only redirect URI is <uri> (Parley's callback); prints "ready <kid>";
//   "rotate": a new signing key replaces the old one, which is no longer published; prints
//     "rotated <kid>" (sessions and grants start afresh).
// The built-in development login and consent pages sign in any password; the login must be one of
// ACCOUNTS. It ends when its stdin closes (the test is over, or died).
import { generateKeyPairSync, randomUUID } from "node:crypto";
import http from "node:http";
import readline from "node:readline";

import Provider from "oidc-provider";

const [clientId, clientSecret] = process.argv.slice(2);
if (!clientId || !clientSecret) {
  console.error("usage: node oidc_provider.mjs CLIENT_ID CLIENT_SECRET");
  process.exit(2);
}

// The provider's users, by login (the development login page's "login" field is the subject).
const ACCOUNTS = {
  alice: { preferred_username: "alice", name: "Alice Liddell", email: "alice@example.org", email_verified: true },
  erin: { preferred_username: "erin", email: "erin@elsewhere.net", email_verified: true }, // section 19's domains
  "ada.l": { preferred_username: "ada.lovelace@example.org", name: "Ada Lovelace" },
  carol: { name: "Carol \u202eÜnal\u0007" }, // no preferred_username; a name with bidi and control characters
  dora: { preferred_username: "x" },
};

function signingKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), use: "sig", alg: "RS256" };
}

function build(issuer, redirectUri, key) {
  return new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    }],
    pkce: { required: () => true },
    jwks: { keys: [key] },
    features: { devInteractions: { enabled: true } },
    claims: { openid: ["sub"], profile: ["name", "preferred_username"], email: ["email", "email_verified"] },
    cookies: { keys: [randomUUID()] },
    ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
    async findAccount(_ctx, sub) {
      const claims = ACCOUNTS[sub];
      if (!claims) return undefined;
      return { accountId: sub, async claims() { return { sub, ...claims }; } };
    },
  });
}

let handler = (_req, res) => { res.statusCode = 503; res.end("not configured yet"); };
const server = http.createServer((req, res) => handler(req, res));
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  let redirectUri = null;
  console.log(`listening ${port}`);
  readline.createInterface({ input: process.stdin }).on("line", (line) => {
    const [command, argument] = line.trim().split(/\s+/);
    if (command === "redirect") redirectUri = argument;
    else if (command !== "rotate" || !redirectUri) return;
    const key = signingKey();
    handler = build(issuer, redirectUri, key).callback();
    console.log(`${command === "rotate" ? "rotated" : "ready"} ${key.kid}`);
  });
});
process.stdin.on("end", () => process.exit(0));
