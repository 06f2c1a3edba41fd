//! The e-mails the local SMTP server (aiosmtpd, started by `make test`)
//! received, read back from its maildir as a mail client would: headers
//! unfolded and decoded, the body decoded from its transfer encoding.

use base64::Engine;
use std::path::PathBuf;

/// The local SMTP server's maildir. Nothing is started here: `make test`
/// starts aiosmtpd and exports both `SMTP_URL` and `MAILDIR`.
pub fn maildir() -> PathBuf {
    match std::env::var("MAILDIR") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "MAILDIR is not set: run these tests with `make test`, which starts the local \
             SMTP server (aiosmtpd on 127.0.0.1:2525) and exports MAILDIR and SMTP_URL"
        ),
    }
}

/// One pass of the notifier over the pending e-mails, to the local SMTP
/// server, as the notifier function makes it; every one must go.
pub async fn send_pending(pool: &sqlx::MySqlPool) {
    let mailer = ocpizza::order::notify::Mailer::from_config(&crate::config())
        .expect("the local SMTP server");
    let report = ocpizza::order::notify::send_pending(pool, &mailer, 20)
        .await
        .expect("a pass");
    assert_eq!(report.failed + report.retried, 0, "{report:?}");
}

/// One e-mail as the SMTP server stored it.
#[derive(Debug)]
pub struct Email {
    /// The envelope recipient, as aiosmtpd recorded it.
    pub rcpt_to: String,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    /// The text, decoded from its transfer encoding as a mail client does.
    pub body: String,
}

/// Every e-mail the local server received for `address`.
pub fn emails_to(address: &str) -> Vec<Email> {
    let dir = maildir();
    let mut found = Vec::new();
    for sub in ["new", "cur"] {
        let entries = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("maildir {}: {e}", dir.join(sub).display()));
        for entry in entries {
            let path = entry.unwrap().path();
            let Ok(raw) = std::fs::read(&path) else {
                continue; // moved from new/ to cur/ meanwhile
            };
            let email = parse(&String::from_utf8_lossy(&raw));
            if email.rcpt_to == address {
                found.push(email);
            }
        }
    }
    found
}

/// The headers we check, unfolded, with RFC 2047 words decoded, and the body.
fn parse(raw: &str) -> Email {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| decode_words(v))
            .unwrap_or_default()
    };
    Email {
        rcpt_to: get("x-rcptto"),
        to: get("to"),
        from: get("from"),
        subject: get("subject"),
        message_id: get("message-id"),
        body: decode_body(&get("content-transfer-encoding"), body),
    }
}

/// A body in its transfer encoding (lettre picks 7bit, quoted-printable or
/// base64 for the text), as text.
fn decode_body(encoding: &str, body: &str) -> String {
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .expect("base64 body"),
        "quoted-printable" => {
            // Soft line breaks (`=` at a line's end) join lines; `=XX` is a byte.
            let text = body.replace("=\n", "");
            let mut out = Vec::new();
            let mut bytes = text.bytes();
            while let Some(b) = bytes.next() {
                if b == b'=' {
                    let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                    let hex = std::str::from_utf8(&hex).expect("ASCII");
                    out.push(u8::from_str_radix(hex, 16).expect("=XX in quoted-printable"));
                } else {
                    out.push(b);
                }
            }
            out
        }
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes)
        .expect("UTF-8 body")
        .replace("\r\n", "\n")
}

/// Decodes `=?utf-8?b?…?=` words (the whitespace between two of them is not text).
fn decode_words(value: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut previous_encoded = false;
    for (i, token) in value.split_whitespace().enumerate() {
        let lower = token.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?b?") && lower.ends_with("?=");
        if i > 0 && !(encoded && previous_encoded) {
            out.push(b' ');
        }
        if encoded {
            let b64 = &token["=?utf-8?b?".len()..token.len() - 2];
            out.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_else(|e| panic!("bad encoded word {token}: {e}")),
            );
        } else {
            out.extend(token.as_bytes());
        }
        previous_encoded = encoded;
    }
    String::from_utf8(out).expect("UTF-8 header")
}
