// OAuth 2 as Lightspeed runs it: authorization code and refresh_token grants at
// /auth/oauth/token. Quirk: refresh ROTATES both tokens, and the old refresh
// token stays valid only until the new access token is first used.
import { randomBytes } from 'node:crypto';

export const DEMO_CLIENT = { client_id: 'pos-sync-demo', client_secret: 'demo-secret', account_id: 1 };

export class OAuthError extends Error {
  constructor(status, error, description, hint) {
    super(description);
    this.status = status;
    this.body = { error, error_description: description, hint, message: description };
  }
}

const DENIED = 'The resource owner or authorization server denied the request.';

export class TokenStore {
  constructor(clock, getTtl) {
    this.clock = clock;
    this.getTtl = getTtl;
    this.clients = new Map([[DEMO_CLIENT.client_id, { ...DEMO_CLIENT }]]);
    this.access = new Map(); // token -> {accountId, clientId, expiresAt, revoked, predecessorRefresh, used}
    this.refresh = new Map(); // token -> {accountId, clientId, revoked}
    this.codes = new Map(); // code -> {accountId, clientId, used}
  }
  reset() {
    this.access.clear();
    this.refresh.clear();
    this.codes.clear();
  }
  mintPair(accountId, clientId, predecessorRefresh = null) {
    const ttl = this.getTtl();
    const access_token = `eyJ${randomBytes(24).toString('base64url')}`;
    const refresh_token = `def50${randomBytes(24).toString('hex')}`;
    this.access.set(access_token, { accountId, clientId, expiresAt: this.clock.nowMs() + ttl * 1000, revoked: false, predecessorRefresh, used: false });
    this.refresh.set(refresh_token, { accountId, clientId, revoked: false });
    return { token_type: 'Bearer', expires_in: ttl, access_token, refresh_token };
  }
  mintCode(clientId, accountId = DEMO_CLIENT.account_id) {
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { accountId, clientId, used: false, expiresAt: this.clock.nowMs() + 600_000 });
    return code;
  }
  checkClient(params) {
    const client = this.clients.get(String(params.client_id ?? ''));
    if (!client || (params.client_secret !== undefined && params.client_secret !== client.client_secret) || params.client_secret === undefined) {
      throw new OAuthError(401, 'invalid_client', 'Client authentication failed', 'Check the client_id and client_secret.');
    }
    return client;
  }
  // POST /auth/oauth/token
  grant(params) {
    const grantType = params.grant_type;
    if (!grantType) throw new OAuthError(400, 'invalid_request', 'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.', 'Check the `grant_type` parameter');
    if (grantType !== 'refresh_token' && grantType !== 'authorization_code') {
      throw new OAuthError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.', 'Check that all required parameters have been provided');
    }
    const client = this.checkClient(params);
    if (grantType === 'authorization_code') {
      const entry = this.codes.get(String(params.code ?? ''));
      if (!params.code) throw new OAuthError(400, 'invalid_request', 'The request is missing a required parameter.', 'Check the `code` parameter');
      if (!entry || entry.used || entry.clientId !== client.client_id || entry.expiresAt < this.clock.nowMs()) {
        throw new OAuthError(400, 'invalid_grant', 'The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.', 'Authorization code has expired or was already used');
      }
      entry.used = true;
      return this.mintPair(entry.accountId, client.client_id);
    }
    if (!params.refresh_token) throw new OAuthError(400, 'invalid_request', 'The request is missing a required parameter.', 'Check the `refresh_token` parameter');
    const entry = this.refresh.get(String(params.refresh_token));
    if (!entry || entry.revoked || entry.clientId !== client.client_id) {
      throw new OAuthError(400, 'invalid_grant', 'The refresh token is invalid.', 'Token has been revoked');
    }
    return this.mintPair(entry.accountId, client.client_id, String(params.refresh_token));
  }
  // Validates a Bearer token for an API call; first use of a rotated access
  // token revokes the refresh token it was minted from.
  authenticate(header) {
    if (!header) throw new OAuthError(401, 'access_denied', DENIED, 'Missing "Authorization" header');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new OAuthError(401, 'access_denied', DENIED, 'Malformed "Authorization" header');
    const entry = this.access.get(m[1]);
    if (!entry) throw new OAuthError(401, 'access_denied', DENIED, 'Access token could not be verified');
    if (entry.revoked) throw new OAuthError(401, 'access_denied', DENIED, 'Access token has been revoked');
    if (entry.expiresAt <= this.clock.nowMs()) throw new OAuthError(401, 'access_denied', DENIED, 'Access token could not be verified');
    if (!entry.used) {
      entry.used = true;
      if (entry.predecessorRefresh) {
        const old = this.refresh.get(entry.predecessorRefresh);
        if (old) old.revoked = true;
      }
    }
    return entry;
  }
  revoke(params) {
    this.checkClient(params);
    const entry = this.refresh.get(String(params.refresh_token ?? ''));
    if (entry) {
      entry.revoked = true;
      for (const a of this.access.values()) if (a.clientId === entry.clientId && a.accountId === entry.accountId) a.revoked = true;
    }
  }
}
