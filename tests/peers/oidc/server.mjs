// A real OpenID provider for the sign-in tests, configured by one JSON file:
//   { "issuer": "http://127.0.0.1:PORT", "port": PORT,
//     "clients": [{ "client_id", "client_secret", "redirect_uris": [...] }],
//     "accounts": { "<sub>": { "email", "given_name", "family_name", ... } },
//     "jwks": { "keys": [<private JWK>] },
//     "discovery_prefixes": ["/organizations/v2.0"],   (optional)
//     "discovery": { "issuer": "..." } }                 (optional overrides)
// Accounts sign in through the provider's built-in development login form by
// typing their sub or email (any password). It prints "ready" once listening.
//
// Tests steer what a provider in the wild might do through /__peer/ (never
// part of a real provider): change ID token claims or header before they
// leave the token endpoint (re-signed with the provider's current key),
// rotate the signing key, report another issuer in discovery, change what
// UserInfo answers, mint an ID token for any audience, and count JWKS and
// discovery fetches. Clients can also be registered at run time through the
// provider's own dynamic registration (/reg), as a private_key_jwt client
// with a JWKS is.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import * as jose from "jose";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.env.OIDC_PEER_CONFIG, "utf8"));
const prefixes = config.discovery_prefixes || [];

const peer = {
  keys: [...config.jwks.keys],
  claims: {},
  header: {},
  remove: [],
  userinfo: {},
  discovery: { ...(config.discovery || {}) },
  fetches: { jwks: 0, discovery: 0 },
};

function reset() {
  peer.keys = [...config.jwks.keys];
  peer.claims = {};
  peer.header = {};
  peer.remove = [];
  peer.userinfo = {};
  peer.discovery = { ...(config.discovery || {}) };
  peer.fetches = { jwks: 0, discovery: 0 };
}

function publicJwk({ d, p, q, dp, dq, qi, ...rest }) {
  return rest;
}

async function sign(claims, header = {}) {
  const jwk = peer.keys[0];
  const key = await jose.importJWK(jwk, jwk.alg || "RS256");
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: jwk.alg || "RS256", kid: jwk.kid, ...header })
    .sign(key);
}

function steered() {
  return (
    peer.keys[0].kid !== config.jwks.keys[0].kid ||
    Object.keys(peer.claims).length ||
    Object.keys(peer.header).length ||
    peer.remove.length
  );
}

async function resign(idToken) {
  const claims = { ...jose.decodeJwt(idToken), ...peer.claims };
  for (const name of peer.remove) delete claims[name];
  return sign(claims, peer.header);
}

function accountFor(login) {
  const entries = Object.entries(config.accounts);
  const found = entries.find(
    ([sub, claims]) => sub === login || claims.email === login,
  );
  return found ? { sub: found[0], claims: found[1] } : null;
}

const provider = new Provider(config.issuer, {
  clients: config.clients.map((client) => ({
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
    ...client,
  })),
  jwks: config.jwks,
  cookies: { keys: ["progression-oidc-peer-cookie-key"] },
  // Every client must use PKCE, so the tests show ours always does.
  pkce: { required: () => true },
  claims: {
    // Google and Entra put these in every ID token, whatever the scopes.
    openid: ["sub", "hd", "tid", "oid"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name"],
    groups: ["groups"],
  },
  // Put the requested claims in the ID token, as Google and Entra do.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: { IdToken: config.id_token_ttl || 3600 },
  // The provider refuses to fetch loopback addresses (a client's jwks_uri),
  // guarding against SSRF; in the tests the relying party is on loopback.
  fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
  async findAccount(ctx, id) {
    const account = accountFor(id);
    if (!account) return undefined;
    return {
      accountId: account.sub,
      async claims() {
        return { sub: account.sub, ...account.claims };
      },
    };
  },
});

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === "/.well-known/openid-configuration" && ctx.status === 200) {
    peer.fetches.discovery += 1;
    ctx.body = { ...ctx.body, ...peer.discovery };
  } else if (ctx.path === "/jwks" && ctx.status === 200) {
    peer.fetches.jwks += 1;
    ctx.body = { keys: peer.keys.map(publicJwk) };
  } else if (ctx.path === "/me" && ctx.status === 200) {
    ctx.body = { ...ctx.body, ...peer.userinfo };
  } else if (ctx.path === "/token" && ctx.body?.id_token && steered()) {
    ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token) };
  }
});

function readJson(req) {
  return new Promise((resolve) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => resolve(body ? JSON.parse(body) : {}));
  });
}

async function control(req, res) {
  const path = req.url.split("?")[0];
  const body = req.method === "POST" ? await readJson(req) : {};
  let answer = { ok: true };
  if (path === "/__peer/reset") {
    reset();
  } else if (path === "/__peer/steer") {
    peer.claims = body.claims || {};
    peer.header = body.header || {};
    peer.remove = body.remove || [];
    peer.userinfo = body.userinfo || {};
    if (body.discovery) peer.discovery = { ...peer.discovery, ...body.discovery };
  } else if (path === "/__peer/rotate") {
    const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
    const jwk = await jose.exportJWK(privateKey);
    const kid = body.kid || `peer-key-${peer.keys.length + 1}`;
    peer.keys = [{ ...jwk, kid, alg: "RS256", use: "sig" }, ...peer.keys];
    answer = { kid };
  } else if (path === "/__peer/mint") {
    answer = { id_token: await sign(body.claims, body.header || {}) };
  } else if (path === "/__peer/stats") {
    answer = { ...peer.fetches };
  } else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(answer));
}

const handle = provider.callback();
createServer((req, res) => {
  if (req.url.startsWith("/__peer/")) {
    control(req, res);
    return;
  }
  // Discovery under a tenant alias, as Entra serves /organizations/v2.0/.
  for (const prefix of prefixes) {
    if (req.url.startsWith(`${prefix}/.well-known/`)) {
      req.url = req.url.slice(prefix.length);
    }
  }
  handle(req, res);
}).listen(config.port, "127.0.0.1", () => {
  console.log("ready");
});
