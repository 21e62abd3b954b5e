// Admin actions are POST forms (php-plugin/includes/Admin/Actions.php): a button names its form
// with the `form` attribute, and the forms (action, nonce, fields) are printed in the admin
// footer, outside the settings tab's own form. These helpers press such a button.

const decode = (s) => s.replace(/&amp;|&#038;/g, '&').replace(/&quot;/g, '"').replace(/&#039;/g, "'");

/** The form behind the first `<button>` whose tag matches `buttonRe`: `{url, fields}`. */
export function actionForm(html, buttonRe) {
  const buttons = [...html.matchAll(/<button\b[^>]*>/g)].map((m) => m[0]);
  const button = buttons.find((b) => buttonRe.test(b));
  if (!button) throw new Error(`no button ${buttonRe} in the page`);
  const formId = (button.match(/\bform="([^"]+)"/) || [])[1];
  if (!formId) throw new Error(`button ${button} names no form`);
  const form = html.match(new RegExp(`<form id="${formId}"[^>]*>(.*?)</form>`, 's'));
  if (!form) throw new Error(`no form ${formId} in the page`);
  const tag = form[0].slice(0, form[0].indexOf('>') + 1);
  if (!/method="post"/.test(tag)) throw new Error(`form ${formId} is not a POST form`);
  const url = decode((tag.match(/action="([^"]+)"/) || [])[1] || '');
  const fields = {};
  for (const m of form[1].matchAll(/<input[^>]*>/g)) {
    const name = (m[0].match(/name="([^"]*)"/) || [])[1];
    const value = (m[0].match(/value="([^"]*)"/) || [])[1] ?? '';
    if (name) fields[name] = decode(value);
  }
  return { url, fields };
}

/** Presses the button: POSTs its form with `fetcher` (site.adminFetch or a cookie fetch). */
export async function press(fetcher, html, buttonRe, extra = {}) {
  const { url, fields } = actionForm(html, buttonRe);
  return fetcher(url, {
    method: 'POST',
    body: new URLSearchParams({ ...fields, ...extra }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

/**
 * A user of `role` logged in: `{uid, cookie, nonces, fetch}`; `nonces` are created for that
 * user's session for each action name given.
 */
export async function loginAs(site, login, role, nonceActions = []) {
  const r = await site.wpEval(
    `$uid = username_exists( $args['login'] ) ?: wp_insert_user( array( 'user_login' => $args['login'], 'user_pass' => wp_generate_password(), 'user_email' => $args['login'] . '@example.com', 'role' => $args['role'] ) );
    $exp = time() + DAY_IN_SECONDS; $token = WP_Session_Tokens::get_instance( $uid )->create( $exp );
    $cookies = array( AUTH_COOKIE => wp_generate_auth_cookie( $uid, $exp, 'auth', $token ), LOGGED_IN_COOKIE => wp_generate_auth_cookie( $uid, $exp, 'logged_in', $token ) );
    $_COOKIE[ LOGGED_IN_COOKIE ] = $cookies[ LOGGED_IN_COOKIE ]; wp_set_current_user( $uid );
    $nonces = array(); foreach ( $args['nonces'] as $n ) { $nonces[ $n ] = wp_create_nonce( $n ); }
    return array( 'uid' => $uid, 'cookie' => implode( '; ', array_map( fn( $k, $v ) => $k . '=' . $v, array_keys( $cookies ), $cookies ) ), 'nonces' => $nonces );`,
    { login, role, nonces: nonceActions },
  );
  r.fetch = (p, init = {}) =>
    fetch(p.startsWith('http') ? p : `${site.url}${p}`, { redirect: 'manual', ...init, headers: { cookie: r.cookie, ...(init.headers || {}) } });
  return r;
}
