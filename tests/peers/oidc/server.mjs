// A real OpenID provider for the sign-in tests, configured by one JSON file:
//   { "issuer": "http://127.0.0.1:PORT", "port": PORT,
//     "clients": [{ "client_id", "client_secret", "redirect_uris": [...] }],
//     "accounts": { "<sub>": { "email", "given_name", "family_name", ... } },
//     "jwks": { "keys": [<private JWK>] } }
// Accounts sign in through the provider's built-in development login form by
// typing their sub or email (any password). It prints "ready" once listening.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.env.OIDC_PEER_CONFIG, "utf8"));

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
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name"],
    groups: ["groups"],
    hd: ["hd"],
    tid: ["tid"],
  },
  // Put the requested claims in the ID token, as Google and Entra do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: config.id_token_ttl || 3600 },
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

provider.listen(config.port, "127.0.0.1", () => {
  console.log("ready");
});
