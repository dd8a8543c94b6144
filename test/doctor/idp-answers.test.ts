import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAuthorizeAnswer } from '../../src/doctor/idp-answers.js';

// The classifier of authorization-endpoint answers, on the vendors' documented error texts (the
// embedded oidc-provider's answers are tested end to end in login.test.ts).

const REDIRECT = 'https://intranet.contoso.com/.gatehouse/callback';
const page = (body: string, status = 400) => ({ status, body, redirectUri: REDIRECT });

test('Entra ID AADSTS50011 (inside the $Config script of its sign-in page) is a redirect URI mismatch', () => {
  const body = `<!DOCTYPE html><html><head><title>Sign in to your account</title><script type="text/javascript">//<![CDATA[
$Config={"iErrorCode":50011,"strServiceExceptionMessage":"AADSTS50011: The redirect URI \\u0027${REDIRECT}\\u0027 specified in the request does not match the redirect URIs configured for the application \\u00272f3a7b1c-0000-4000-8000-00000000abcd\\u0027. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.","sErrTxt":""};
//]]></script></head><body></body></html>`;
  const a = classifyAuthorizeAnswer(page(body, 200));
  assert.equal(a.verdict, 'redirect_uri_mismatch');
  assert.equal(a.vendor, 'entra');
  assert.equal(a.code, 'AADSTS50011');
  assert.match(
    a.message,
    /The redirect URI 'https:\/\/intranet\.contoso\.com\/\.gatehouse\/callback' specified/,
  );
});

test('Entra ID AADSTS700016 is an unknown client', () => {
  const a = classifyAuthorizeAnswer(
    page(
      "<div>AADSTS700016: Application with identifier '2f3a7b1c-0000-4000-8000-00000000abcd' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant.</div>",
      200,
    ),
  );
  assert.equal(a.verdict, 'unknown_client');
  assert.equal(a.code, 'AADSTS700016');
});

test('Okta: the redirect_uri parameter must be a Login redirect URI', () => {
  const a = classifyAuthorizeAnswer(
    page(
      `<html><body><h1>400 Bad Request</h1><p id="error-summary">The &#39;redirect_uri&#39; parameter must be a Login redirect URI in the client app settings: https://contoso.okta.com/admin/app/oidc_client/instance/0oa1#tab-general</p></body></html>`,
    ),
  );
  assert.equal(a.verdict, 'redirect_uri_mismatch');
  assert.equal(a.vendor, 'okta');
});

test("Okta: Invalid value for 'client_id' parameter", () => {
  const a = classifyAuthorizeAnswer(page(`<p>Invalid value for &#x27;client_id&#x27; parameter.</p>`));
  assert.equal(a.verdict, 'unknown_client');
  assert.equal(a.vendor, 'okta');
});

test('Keycloak: Invalid parameter: redirect_uri, and Client not found', () => {
  const r = classifyAuthorizeAnswer(
    page('<div id="kc-error-message"><p class="instruction">Invalid parameter: redirect_uri</p></div>'),
  );
  assert.equal(r.verdict, 'redirect_uri_mismatch');
  assert.equal(r.vendor, 'keycloak');
  const c = classifyAuthorizeAnswer(
    page('<h1>We are sorry...</h1><p class="instruction">Client not found.</p>'),
  );
  assert.equal(c.verdict, 'unknown_client');
  assert.equal(c.vendor, 'keycloak');
});

test('Auth0 and Google error pages', () => {
  assert.equal(
    classifyAuthorizeAnswer(
      page(
        '<h2>Callback URL mismatch.</h2><p>The provided redirect_uri is not in the list of allowed callback URLs.</p>',
      ),
    ).vendor,
    'auth0',
  );
  const g = classifyAuthorizeAnswer(page('<p>Error 400: redirect_uri_mismatch</p>'));
  assert.deepEqual([g.vendor, g.verdict], ['google', 'redirect_uri_mismatch']);
  const gc = classifyAuthorizeAnswer(
    page('<p>Error 401: invalid_client</p><p>The OAuth client was not found.</p>', 401),
  );
  assert.deepEqual([gc.vendor, gc.verdict], ['google', 'unknown_client']);
});

test('a redirect to the sign-in page is accepted; one back to the redirect URI with error= is a refusal', () => {
  const ok = classifyAuthorizeAnswer({
    status: 302,
    location: '/login?x=1',
    body: '',
    redirectUri: REDIRECT,
  });
  assert.equal(ok.verdict, 'accepted');
  const back = classifyAuthorizeAnswer({
    status: 302,
    location: `${REDIRECT}?error=invalid_scope&error_description=unknown+scope+groups&state=s`,
    body: '',
    redirectUri: REDIRECT,
  });
  assert.equal(back.verdict, 'error_redirected');
  assert.equal(back.code, 'invalid_scope');
  assert.match(back.message, /unknown scope groups/);
});

test('an unknown error page is unrecognised, with its status and text', () => {
  const a = classifyAuthorizeAnswer(page('<h1>Service Unavailable</h1>', 503));
  assert.equal(a.verdict, 'unrecognised');
  assert.match(a.message, /HTTP 503: Service Unavailable/);
});
