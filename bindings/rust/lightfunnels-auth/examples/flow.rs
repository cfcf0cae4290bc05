//! The whole app-authorization flow against a Lightfunnels-compatible server
//! (e.g. lf-sandbox):
//!
//!   lf-sandbox --auto-approve --client demo-client:demo-secret:http://127.0.0.1:8765/callback &
//!   LF_CLIENT_SECRET=demo-secret cargo run --example flow -- http://127.0.0.1:PORT
//!
//! Base URL: first argument or LF_SANDBOX_URL. Client id: LF_CLIENT_ID
//! (default demo-client). Secret: LF_CLIENT_SECRET (never on the command
//! line). Redirect URI: LF_REDIRECT_URI (default http://127.0.0.1:8765/callback).
//! Open the printed consent URL, then paste the URL you were redirected to.

use lightfunnels_auth::{new_state, Client, Config};
use std::io::BufRead;
use std::process::ExitCode;

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("LF_SANDBOX_URL").ok())
        .ok_or("usage: flow BASE_URL (or set LF_SANDBOX_URL)")?;
    let base = base.trim_end_matches('/');
    let client_id = std::env::var("LF_CLIENT_ID").unwrap_or_else(|_| "demo-client".to_string());
    let secret = std::env::var("LF_CLIENT_SECRET").map_err(|_| "set LF_CLIENT_SECRET")?;
    let redirect =
        std::env::var("LF_REDIRECT_URI").unwrap_or_else(|_| "http://127.0.0.1:8765/callback".to_string());

    let client = Client::new(
        Config::new(client_id, secret, redirect.clone())
            .authorize_url(format!("{}/admin/oauth", base))
            .token_url(format!("{}/api/access_token", base)) // HTTP Basic, the default
            .api_url(format!("{}/api/v2", base)),
    )?;

    // 1. Consent: keep `state` for the callback. A web app runs inside the
    // Lightfunnels admin iframe, where its cookies are third-party: there use
    // `client.seal_state` / `parse_callback_sealed` (no session, no cookie).
    let state = new_state()?;
    let url = client.consent_url(&redirect, &["products", "orders"], Some(&state))?;
    println!("Open this URL and approve:\n  {}\nThen paste the URL you were sent to:", url);

    // 2. Callback: check the state and take the code.
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let code = client.parse_callback(line.trim(), Some(&state))?;

    // 3. Exchange the single-use code for the permanent token; key it by account.
    let token = match client.exchange_code(&code) {
        Ok(t) => t,
        Err(e) => return Err(format!("exchange failed: {}", e).into()),
    };
    let account = client.account_id(token.secret())?;
    println!("Authorized for account {} (token: {}, {} bytes)", account, token, token.len());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flow: {}", e);
            ExitCode::FAILURE
        }
    }
}
