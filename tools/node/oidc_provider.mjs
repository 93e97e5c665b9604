// A real OpenID Connect provider for the sign-in tests and for trying single sign-on locally:
// node-oidc-provider (OpenID Certified), with its development login page, configured from a JSON
// file:
//
//   node tools/node/oidc_provider.mjs CONFIG.json
//
// CONFIG: {"issuer": "http://127.0.0.1:PORT", "port": PORT,
//          "clients": [{"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris"}],
//          "accounts": {"<login>": {"email": "...", "name": "..."}},
//          "ttl": {"IdToken": 3600, "AuthorizationCode": 60}}   (ttl optional)
//
// The login page takes any password (log in with a key of "accounts"). Consent is granted for the configured clients (first-party applications, as a company's IdP would set them).
// Prints "oidc-provider listening <issuer>" when ready.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const accounts = config.accounts;

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
    ...c,
  })),
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name };
      },
    };
  },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  scopes: ["openid", "email", "profile"],
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 3600, Grant: 3600, Interaction: 600,
         Session: 3600, ...(config.ttl || {}) },
  cookies: { keys: [config.cookie_key || "test-provider-cookie-key"] },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId,
                                                accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = `<!doctype html><title>oops</title><h1>${out.error}</h1><p>${out.error_description || ""}</p>`;
  },
});

provider.proxy = false;
const server = provider.listen(config.port, "127.0.0.1", () => {
  console.log(`oidc-provider listening ${config.issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
